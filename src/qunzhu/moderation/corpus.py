"""The labelled data the shipped model is built and measured on, with fixed splits.

Files (not shipped; read from a data directory such as ``../shared/data``):
``spam/zh-telegram-groups.train.csv`` (Chinese Telegram groups), ``spam/en-sms.train.tsv``
(English SMS) and ``irc/ubuntu/*.raw.txt`` (real IRC chat, all taken as normal).

Splits are by a hash of the text (a fifth is the test part: ``bucket_of(text) == 4``), so
duplicates never straddle train and test, and IRC by session file (half the files may
lend normal chat to training, the other half are only ever measured).

The shipped model is rebuilt with
``python -m qunzhu.moderation.corpus ../shared/data -o src/qunzhu/moderation/data/spam-model.npz``.
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from qunzhu.moderation.classifier import SpamModel
from qunzhu.moderation.labelled import Example, LabelledFileError, read_labelled
from qunzhu.moderation.training import TrainingError, bucket_of, train

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


def build_shipped(data: Path, out: Path, log: Callable[[str], None] = print) -> SpamModel:
    """Train the shipped model from the train parts of ``data`` and write it to ``out``:
    the same :func:`qunzhu.moderation.training.train` as ``qunzhu moderation train``."""
    model = train(training_set(data), about={"trained_on": SPLITS}, log=log)
    model.save(out)
    log(f"wrote {out}: {model.about['messages']} messages ({model.about['spam']} spam)")
    return model


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m qunzhu.moderation.corpus",
        description="Rebuild the shipped spam model from the train parts of the data.",
    )
    parser.add_argument("data", type=Path, help="data directory holding spam/ and irc/ubuntu/")
    parser.add_argument("-o", "--out", type=Path, required=True, help="model file to write")
    args = parser.parse_args(argv)
    missing = [str(args.data / p) for p in (ZH, EN, IRC) if not (args.data / p).exists()]
    if missing:
        parser.error("not found: " + ", ".join(missing))
    try:
        build_shipped(args.data, args.out)
    except (LabelledFileError, TrainingError) as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    main()
