"""Held-out evasions for the moderation benchmark: kinds that qunzhu.moderation.evasion does
not produce and that normalize.py was not written to undo one by one.

The tests and the training use ``evasion.evade``, whose tricks ``normalize`` was built
against; a drop of 0.0 after those says little. These are the tricks a spammer would try
next. Normalization may undo some of them through its general rules (NFKC folds half and
full width alike; single characters between separators are joined), but nothing in it
names them. They are kept here, in the benchmark, so that nobody tunes the product on them:
the figure they give (``evaded_unseen``) is an estimate for evasions nobody planned for.

``evade_unseen(text, rng)`` applies two of the tricks, chosen at random per message.
"""

from __future__ import annotations

import random
from collections.abc import Callable

# separators normalize has no rule for: middle dots, Japanese and decorative marks, emoji
_MARKS = ("·", "•", "丶", "ﾟ", "︶", "🌸", "🔥", "💰", "✨", "/", "_")
# letters of other scripts that look like Latin ones and that neither NFKC nor the
# look-alike table of normalize turns into Latin (Armenian, Cherokee, Latin extensions)
_HOMOGLYPHS = {
    "o": "օ",
    "u": "ս",
    "h": "һ",
    "g": "ց",
    "n": "ո",
    "q": "զ",
    "i": "ı",
    "l": "ӏ",
    "A": "Ꭺ",
    "B": "Ᏼ",
    "C": "Ꮯ",
    "E": "Ꭼ",
    "H": "Ꮋ",
    "M": "Ꮇ",
    "S": "Ꮪ",
    "T": "Ꭲ",
    "W": "Ꮃ",
}
# blank characters that are letters or symbols to Unicode, not format characters
_FILLERS = ("\u3164", "\u115f", "\u2800", "\uffa0")
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
_NUMERALS = ("〇一二三四五六七八九", "零壹贰叁肆伍陆柒捌玖")
# contact words written in pinyin or a near-homophone normalize has no entry for
_PINYIN = {
    "微信": ("vei信", "V芯", "喂信", "wēi信", "V❤芯"),
    "加": ("jia", "伽", "枷"),
    "联系": ("lian系", "连系", "联喺"),
    "私聊": ("si聊", "私撩"),
    "电话": ("dian话", "殿话"),
}


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def marks_between(text: str, rng: random.Random) -> str:
    """A mark after some characters of a word (Latin or Chinese): "cl·aim", "加💰微"."""
    out: list[str] = []
    for i, ch in enumerate(text):
        out.append(ch)
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if (ch.isalpha() or _is_cjk(ch)) and (nxt.isalpha() or _is_cjk(nxt)) and rng.random() < 0.3:
            out.append(rng.choice(_MARKS))
    return "".join(out)


def spaced_letters(text: str, rng: random.Random) -> str:
    """Every letter of some Latin words spaced out: "W I N a prize"."""
    words = text.split(" ")
    return " ".join(
        " ".join(w) if w.isascii() and w.isalpha() and rng.random() < 0.5 else w for w in words
    )


def homoglyphs(text: str, rng: random.Random) -> str:
    return "".join(_HOMOGLYPHS[c] if c in _HOMOGLYPHS and rng.random() < 0.6 else c for c in text)


def fillers(text: str, rng: random.Random) -> str:
    """Blank-looking characters that are not format characters, between characters."""
    return "".join(c + (rng.choice(_FILLERS) if rng.random() < 0.25 else "") for c in text)


def leet(text: str, rng: random.Random) -> str:
    return "".join(
        _LEET[c.lower()] if c.lower() in _LEET and rng.random() < 0.5 else c for c in text
    )


def chinese_numerals(text: str, rng: random.Random) -> str:
    """Digits as Chinese numerals (一三八 / 壹叁捌): phone numbers, QQ ids, prices."""
    table = rng.choice(_NUMERALS)
    return "".join(table[int(c)] if c.isascii() and c.isdigit() else c for c in text)


def pinyin_contact(text: str, rng: random.Random) -> str:
    for word, variants in _PINYIN.items():
        if word in text:
            text = text.replace(word, rng.choice(variants))
    return text


def mixed_width(text: str, rng: random.Random) -> str:
    """Some ASCII characters full width, the rest as they were."""
    return "".join(
        chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and rng.random() < 0.5 else c for c in text
    )


TRICKS: dict[str, Callable[[str, random.Random], str]] = {
    "marks_between": marks_between,
    "spaced_letters": spaced_letters,
    "homoglyphs": homoglyphs,
    "fillers": fillers,
    "leet": leet,
    "chinese_numerals": chinese_numerals,
    "pinyin_contact": pinyin_contact,
    "mixed_width": mixed_width,
}


def evade_unseen(text: str, rng: random.Random, tricks: int = 2) -> str:
    """``text`` with ``tricks`` of the held-out evasions applied, in a random order."""
    for name in rng.sample(sorted(TRICKS), tricks):
        text = TRICKS[name](text, rng)
    return text
