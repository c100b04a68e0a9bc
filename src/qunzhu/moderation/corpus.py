"""The labelled data the shipped model is built and measured on, with fixed splits.

Files (not shipped; read from a data directory such as ``../shared/data``):
``spam/zh-telegram-groups.train.csv`` (Chinese Telegram groups), ``spam/en-sms.train.tsv``
(English SMS) and ``irc/ubuntu/*.raw.txt`` (real IRC chat, all taken as normal).

Splits are by a hash of the text (a fifth is the test part: ``bucket_of(text) == 4``), so
duplicates never straddle train and test, and IRC by session file (half the files may
lend normal chat to training, the other half are only ever measured).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

from qunzhu.moderation.labelled import Example, read_labelled
from qunzhu.moderation.training import bucket_of

ZH = Path("spam/zh-telegram-groups.train.csv")
EN = Path("spam/en-sms.train.tsv")
IRC = Path("irc/ubuntu")
TEST_BUCKET = 4
_IRC_LINE = re.compile(r"^\[\d\d:\d\d\] <[^>]+> (.+)$")

SPLITS = {
    "zh": "zh-telegram-groups: texts with blake2b(text) % 5 == 4 are test, the rest train",
    "en": "en-sms: texts with blake2b(text) % 5 == 4 are test, the rest train",
    "irc": "ubuntu IRC: session files with blake2b(file name) % 2 == 1 are test (all normal); "
    "8,000 lines of the other files are normal examples in training",
}


def is_test(text: str) -> bool:
    return bucket_of(text) == TEST_BUCKET


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    train = [e for e in examples if not is_test(e.text)]
    test = [e for e in examples if is_test(e.text)]
    return train, test


def irc_lines(data: Path, *, test: bool) -> Iterator[str]:
    for path in sorted((data / IRC).glob("*.raw.txt")):
        if (bucket_of(path.name, 2) == 1) != test:
            continue
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                found = _IRC_LINE.match(line.rstrip("\n"))
                if found:
                    yield found.group(1)


def training_set(data: Path, irc_examples: int = 8000) -> list[Example]:
    """What the shipped model learns from: the train parts, weighted by source."""
    zh, _ = split(read_labelled(data / ZH))
    en, _ = split(read_labelled(data / EN))
    chat = list(irc_lines(data, test=False))
    random.Random(7).shuffle(chat)
    # SMS is short and scarce next to the Telegram set: it counts double; IRC lends
    # ordinary English chat (links, commands) at a light weight so it does not dominate.
    return (
        zh
        + [Example(e.text, e.spam, 2.0) for e in en]
        + [Example(text, False, 0.3) for text in chat[:irc_examples]]
    )
