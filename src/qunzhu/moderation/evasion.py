"""Synthetic evasions, as spammers write them: for tests and the benchmark.

``evade(text, rng)`` applies two of the tricks below at random, the ones the issue names:
separators between characters, traditional characters, Cyrillic look-alikes, full-width
and mathematical letters, zero-width characters, circled and keycap digits, and the
homophones of contact words. A detector that only matched plain text loses these.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import lru_cache

_SEPARATORS = (" ", "-", ".", "*", "❤", "|", "、", "~")
_CYRILLIC = {
    "a": "а",
    "e": "е",
    "o": "о",
    "p": "р",
    "c": "с",
    "x": "х",
    "y": "у",
    "i": "і",
    "A": "А",
    "E": "Е",
    "O": "О",
    "P": "Р",
    "C": "С",
    "X": "Х",
    "H": "Н",
    "K": "К",
}
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\ufeff", "\u2060")
_CIRCLED = "⓪①②③④⑤⑥⑦⑧⑨"
_CONTACT = {
    "微信": ("薇信", "V信", "vx", "威信", "wx"),
    "QQ": ("扣扣", "企鹅", "Q Q"),
    "qq": ("扣扣", "企鹅"),
    "加": ("➕", "+", "加"),
}


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@lru_cache(maxsize=1)
def _s2t() -> Callable[[str], str]:
    import opencc

    converter = opencc.OpenCC("s2t")
    return converter.convert


def spaced(text: str, rng: random.Random) -> str:
    out: list[str] = []
    for i, ch in enumerate(text):
        out.append(ch)
        if i + 1 < len(text) and _is_cjk(ch) and rng.random() < 0.6:
            out.append(rng.choice(_SEPARATORS))
    return "".join(out)


def traditional(text: str, rng: random.Random) -> str:
    return _s2t()(text)


def lookalikes(text: str, rng: random.Random) -> str:
    return "".join(_CYRILLIC[c] if c in _CYRILLIC and rng.random() < 0.7 else c for c in text)


def full_width(text: str, rng: random.Random) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def math_letters(text: str, rng: random.Random) -> str:
    def bold(c: str) -> str:
        if "a" <= c <= "z":
            return chr(0x1D41A + ord(c) - ord("a"))
        if "A" <= c <= "Z":
            return chr(0x1D400 + ord(c) - ord("A"))
        return c

    return "".join(bold(c) for c in text)


def zero_width(text: str, rng: random.Random) -> str:
    return "".join(c + (rng.choice(_ZERO_WIDTH) if rng.random() < 0.4 else "") for c in text)


def circled_digits(text: str, rng: random.Random) -> str:
    def swap(c: str) -> str:
        if not c.isascii() or not c.isdigit():
            return c
        return _CIRCLED[int(c)] if rng.random() < 0.5 else c + "\ufe0f\u20e3"

    return "".join(swap(c) for c in text)


def homophones(text: str, rng: random.Random) -> str:
    for word, variants in _CONTACT.items():
        if word in text:
            text = text.replace(word, rng.choice(variants))
    return text


TRICKS: dict[str, Callable[[str, random.Random], str]] = {
    "spaced": spaced,
    "traditional": traditional,
    "lookalikes": lookalikes,
    "full_width": full_width,
    "math_letters": math_letters,
    "zero_width": zero_width,
    "circled_digits": circled_digits,
    "homophones": homophones,
}


def evade(text: str, rng: random.Random, tricks: int = 2) -> str:
    """``text`` with ``tricks`` evasions applied (homophones always tried first)."""
    chosen = rng.sample(sorted(TRICKS), tricks)
    text = homophones(text, rng)
    for name in chosen:
        text = TRICKS[name](text, rng)
    return text
