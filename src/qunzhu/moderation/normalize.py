"""Text normalization before detection, keeping a map back to the original for evidence.

Spammers write "加 薇 信", "V❤X", "𝙭𝙝𝖈593", "聯繫", "1️⃣3️⃣8️⃣" so that a plain word list misses
them. :func:`normalize` undoes that in two views, each with an index map from every
character to the position in the original text it came from:

``text``
    one character at a time: NFKC (full-width, mathematical and circled letters), case
    folding, traditional → simplified (OpenCC's character table), Cyrillic and Greek
    look-alikes → Latin, accented Latin letters → their base letter ("ćlàím"), circled /
    keycap / dingbat digits → digits, Chinese numerals written for digits → digits ("Call
    〇八四四", "加我一三八零零…"); zero-width, format, control and combining characters
    dropped. Separators stay (URLs need ``.`` and ``/``).
``compact``
    ``text`` with the separators that spammers insert removed: a run of spaces or symbols
    goes when a neighbour is a Chinese character, a single character or a digit next to a
    digit ("加 - 微 - 信", "v x", "138 0013 8000"), else it becomes one space ("call now");
    then digits written for letters between letters become letters ("pr1z3" → "prize",
    not "mp3", "x86" or a hash); then homophones of contact words become one form
    (薇信 / 威信 / V信 / vx / wx → 微信; 扣扣 / 企鹅 / 🐧 → qq; tg / 纸飞机 / 电报 → 飞机).

``Normalized.span(view, start, end)`` gives the original text a match came from.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Literal

View = Literal["text", "compact"]

_LOOKALIKES = {
    # Greek and Cyrillic letters that look like Latin ones, before case folding
    "Α": "a",
    "Β": "b",
    "Ε": "e",
    "Ζ": "z",
    "Η": "h",
    "Ι": "i",
    "Κ": "k",
    "Μ": "m",
    "Ν": "n",
    "Ο": "o",
    "Ρ": "p",
    "Τ": "t",
    "Υ": "y",
    "Χ": "x",
    "α": "a",
    "β": "b",
    "ε": "e",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    "η": "n",
    "А": "a",
    "В": "b",
    "Е": "e",
    "К": "k",
    "М": "m",
    "Н": "h",
    "О": "o",
    "Р": "p",
    "С": "c",
    "Т": "t",
    "У": "y",
    "Х": "x",
    "Ѕ": "s",
    "І": "i",
    "Ј": "j",
    "Ԁ": "d",
    "Ү": "y",
    "З": "3",
    "а": "a",
    "в": "b",
    "е": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ј": "j",
    "ԁ": "d",
    "ү": "y",
    "з": "3",
    "б": "6",
    "ɡ": "g",
    "ɑ": "a",
    "ʀ": "r",
    "ɪ": "i",
    "ʏ": "y",
    "ᴠ": "v",
    "ᴡ": "w",
    "ⅴ": "v",
    "ⅹ": "x",
    # symbols that stand for a letter or a word in contact offers
    "➕": "+",
    "✚": "+",
    "🐧": "qq",
    "✈": "飞机",
    "🛩": "飞机",
    "☎": "电话",
    "📞": "电话",
    "📱": "电话",
}
_DROP_CATEGORIES = frozenset({"Cf", "Mn", "Me", "Cs", "Co"})
# letters Unicode lists as default-ignorable (they render as nothing: Hangul fillers), and
# the blank braille pattern, which renders as a space
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
_BLANK_SYMBOLS = frozenset("\u2800")
_NAMED_LETTER = re.compile(
    r"(?:LATIN (?:CAPITAL|SMALL) LETTER|REGIONAL INDICATOR SYMBOL LETTER) (\w)$"
)
_KEYCAP_TEN = "🔟"
_MARKED_LATIN = re.compile(r"[a-z][\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff]+$")
"""NFKD of a letter that is a Latin letter plus combining marks (é, ǹ, ḁ): base letter."""


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> dict[str, str]:
    """One-to-one character table from OpenCC (t2s), built once: about 5 ms."""
    import opencc

    converter = opencc.OpenCC("t2s")
    out: dict[str, str] = {}
    for first, last in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)):
        chars = [chr(c) for c in range(first, last + 1)]
        # newlines keep OpenCC from converting phrases across characters
        converted = converter.convert("\n".join(chars)).split("\n")
        if len(converted) != len(chars):
            continue
        out.update((a, b) for a, b in zip(chars, converted, strict=True) if a != b and len(b) == 1)
    return out


@lru_cache(maxsize=1)
def _confusable_letters() -> dict[str, str]:
    """Letters of other scripts that look like one Latin letter (Armenian "օ", Cherokee
    "Ꭼ", dotless "ı", …): ``data/lookalikes.tsv``, generated from Unicode's confusables
    data by scripts/gen_lookalikes.py. The hand-made table above takes precedence."""
    path = resources.files("qunzhu.moderation").joinpath("data", "lookalikes.tsv")
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            source, target = line.split("\t")[:2]
            out[source] = target
    return out


def _fold(ch: str) -> str:
    """What one character of the original becomes in the ``text`` view ('' = dropped)."""
    if ch in _LOOKALIKES:
        return _LOOKALIKES[ch]
    category = unicodedata.category(ch)
    if category in _DROP_CATEGORIES or ch in _INVISIBLE_LETTERS:
        return ""
    if category == "Cc" or category in ("Zs", "Zl", "Zp") or ch in _BLANK_SYMBOLS:
        return " "
    if ch == _KEYCAP_TEN:
        return "10"
    digit = unicodedata.digit(ch, None)
    if digit is not None:
        return str(digit)
    folded = unicodedata.normalize("NFKC", ch).casefold()
    if not folded.isascii():
        folded = _unmarked(folded)
    if folded == ch and category == "So":
        named = _NAMED_LETTER.search(unicodedata.name(ch, ""))
        if named:
            return named.group(1).lower()
    if len(folded) > 1 and not folded.isascii():
        # e.g. "㈱" → "(株)": keep each part folded too
        return "".join(_fold(part) if part != ch else part for part in folded)
    t2s = _traditional_to_simplified()
    confusable = _confusable_letters()
    return "".join(_LOOKALIKES.get(c) or confusable.get(c) or t2s.get(c, c) for c in folded)


def _unmarked(folded: str) -> str:
    """A Latin letter with accents or marks ("ć", "à", "ḁ") as its base letter, as NFKD
    gives it: spammers write "ćlàím" for "claim", and no word list holds every accent.
    What is left of a character that was a mark alone (half-width "ﾟ" folds to a combining
    mark) is dropped like any combining mark. Other letters (Korean, Japanese kana) keep
    their composed form."""
    decomposed = unicodedata.normalize("NFKD", folded)
    if _MARKED_LATIN.match(decomposed) or all(
        unicodedata.category(part) in ("Mn", "Me") for part in folded
    ):
        return "".join(p for p in decomposed if unicodedata.category(p) not in ("Mn", "Me"))
    return folded


class _FoldTable(dict[int, str]):
    """Code point → what it becomes; filled on first sight, usable by ``str.translate``.

    ``uneven`` collects the characters that do not become exactly one character: a text
    without any of them keeps its positions, and needs no index map at all.
    """

    def __init__(self) -> None:
        super().__init__()
        self.uneven: set[str] = set()
        self._uneven_class: re.Pattern[str] | None = None  # None: to build (again)

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        value = _fold(ch)
        if len(value) != 1 and ch not in self.uneven:
            self.uneven.add(ch)
            self._uneven_class = None
        if len(self) < 200_000:  # bounded: a hostile text cannot grow it without end
            self[code] = value
        return value

    def any_uneven(self, text: str) -> bool:
        """Whether ``text``, already translated with this table, has a character of
        ``uneven``. A character class reads it at C speed; ``set.isdisjoint`` hashes every
        character (a fifth of normalizing Chinese text). Built again only when ``uneven``
        has grown: a few dozen characters in a day of chat."""
        pattern = self._uneven_class
        if pattern is None:
            if not self.uneven:
                return False
            chars = "".join(re.escape(ch) for ch in sorted(self.uneven))
            pattern = self._uneven_class = re.compile(f"[{chars}]")
        return pattern.search(text) is not None


_FOLD = _FoldTable()


_WORDISH = re.compile(r"[\w+@]+")
"""A run of characters that are not separators: letters, digits, CJK, and + @ _."""
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
_SYMBOLS = "\u00b7\u2022\u2190-\u21ff\u2300-\u23ff\u25a0-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff"
"""Bullets, arrows, shapes, dingbats and emoji: between two letters they break no word."""
# The pieces of _JOIN. It is written to begin with a separator character (the
# look-behinds reach back over it): the regex engine then skips the letters between
# separators without trying anything. It only starts at the first character of a run:
# retrying inside a long run would read the rest of the run again at every character
# (50,000 dashes: 25 s, now 5 ms).
_RUN_START = r"[^\w+@](?<![^\w+@][^\w+@])"
_RUN_REST = r"[^\w+@]*"
_NEXT_TO_CJK = rf"(?<=[{_CJK}][^\w+@])|(?=[^\w+@]*[{_CJK}])"
_BETWEEN_DIGITS = r"(?<=\d[^\w+@])(?=[^\w+@]*\d)"
_BETWEEN_SINGLES = r"(?<=(?<![\w+@])[\w+@][^\w+@])(?=[^\w+@]*[\w+@](?![\w+@]))"
# a run of symbols only, with a letter on each side: "cl🔥aim", "f•r•e•e"
_BETWEEN_LETTERS = rf"(?<=[^\W\d_][{_SYMBOLS}])(?=[{_SYMBOLS}]*[^\W\d_])"


def _join(*branches: str) -> re.Pattern[str]:
    return re.compile(f"{_RUN_START}(?:{'|'.join(branches)}){_RUN_REST}")


_JOIN = _join(_NEXT_TO_CJK, _BETWEEN_DIGITS, _BETWEEN_SINGLES, _BETWEEN_LETTERS)
"""A separator run inserted to break a word: a neighbour is a Chinese character, both
neighbours are digits, or both neighbouring tokens are single characters ("加 - 微 - 信",
"138 0013 8000", "v x", "f.r.e.e"); other runs become one space."""
_JOIN_ASCII = _join(_BETWEEN_DIGITS, _BETWEEN_SINGLES)
"""_JOIN for ASCII text: its Chinese and symbol branches need a character that is not
ASCII, so they cannot match, yet they cost at every separator (the look-ahead for a
Chinese character reads the rest of the run each time). Most chat is ASCII."""

_ASCII_WORD_BYTES = bytes(
    c if chr(c).isascii() and (chr(c).isalnum() or chr(c) in "_+@") else 32 for c in range(256)
)
"""For ``bytes.translate``: an ASCII character of _WORDISH stays, any other becomes a space."""
_ASCII_JOINABLE_SINGLES = re.compile(rb" [^ ] [^ ] ")
_ASCII_JOINABLE_DIGITS = re.compile(rb"\d \d")
"""In ASCII words one space apart (padded with a space at each end), where _JOIN_ASCII
could match: two single-character words in a row, or a digit on each side of a space."""

_RUNS = re.compile(f"{_JOIN.pattern}|([^\\w+@]+)")
"""Every separator run: joined away by _JOIN, or else (group 1) kept as one space."""
_RUNS_ASCII = re.compile(f"{_JOIN_ASCII.pattern}|([^\\w+@]+)")

_LATIN_WORD = r"(?<![a-z])(?:{})(?![a-z])"
_CANON: list[tuple[str, str]] = [
    (
        _LATIN_WORD.format("weixin|wechat|vxin|wx|vx")
        + r"|(?:wei|v|w)信|(?:微|薇|威|徽|维)(?:x|xin)(?![a-z])"
        + r"|(?:薇|威|徽|维|唯|卫|危|溦)信|(?:微|薇|威)(?:芯|心)",
        "微信",
    ),
    (r"扣扣|抠抠|寇寇|蔻蔻|叩叩|企鹅|扣q|" + _LATIN_WORD.format("qq"), "qq"),
    (_LATIN_WORD.format("telegram|tg") + "|纸飞机|电报", "飞机"),
]
_CANON_RE = re.compile("|".join(f"({pattern})" for pattern, _ in _CANON))
_CANON_TO = [target for _, target in _CANON]
_CANON_PROBE = re.compile(
    # every match of _CANON_RE holds one of these; unlike it, this regex starts each branch
    # with a plain character, which the engine looks for at C speed
    "|".join(
        [
            *("weixin", "wechat", "vxin", "wx", "vx", "信", "芯", "心"),
            *(c + "x" for c in "微薇威徽维"),
            *("扣", "抠", "寇", "蔻", "叩", "企鹅", "qq", "telegram", "tg", "纸飞机", "电报"),
        ]
    )
)

_LEET = str.maketrans("013457", "oieast")
_LEET_PROBE = re.compile(r"[013457](?<=[a-z][013457])[013457]*[a-z]")
# (written to begin with a digit: the engine skips to the next digit at C speed)
"""A digit that stands for a letter, between two letters: "fr3e", "w1nner", "c0st"."""
_LEET_TOKEN = re.compile(r"[a-z0-9]+")
_LEET_INNER = re.compile(r"(?<=[a-z])[013457]+(?=[a-z])")
_HEX = re.compile(r"0x[0-9a-f]+|[0-9a-f]{7,}")
"""A hex number or a hash ("0x1f", "3fa4b1c"): its digits are digits."""
_THREE_DIGITS = re.compile(r"\d{3}")
"""Three digits in a row are a number (an id "sx111505zq", a model "kc4007c"), not leet."""
_LEET_EDGE = re.compile(r"^[013457]+(?=[a-z])|(?<=[a-z])[013457]+$")
_NUMERALS = "〇零一二三四五六七八九壹贰叁肆伍陆柒捌玖"
MIN_NUMERAL_RUN = 5
"""Chinese numerals in a row read as a number among Chinese text from this many on (a
phone number or QQ id written 一三八…); fewer are words ("一下", "三个")."""
_NUMERAL_DIGITS = str.maketrans(_NUMERALS, "00123456789123456789")
_NUMERAL_RUN = re.compile(
    # long, or with no Chinese character right beside it (then see _digits_for_numerals);
    # written to begin with a numeral (the look-behind after it), so that the engine skips
    # to the next numeral at C speed instead of trying every character of the text
    f"[{_NUMERALS}](?:[{_NUMERALS}]{{{MIN_NUMERAL_RUN - 1},}}"
    f"|(?<![{_CJK}][{_NUMERALS}])[{_NUMERALS}]*(?![{_CJK}]))"
)
_CJK_WORD = re.compile(f"(?![{_NUMERALS}])[{_CJK}]")
"""A Chinese or Japanese character that is no numeral."""


def _letters_for_digits(token: re.Match[str]) -> str:
    """A token with a leet digit between two letters ("pr1z3", "fr3e"): every digit that
    stands for a letter (0 1 3 4 5 7 → o i e a s t), at its ends too ("pr1z3" → "prize");
    a token with any other digit ("x86", "h264"), none inside ("mp3", "ipv4", "python3",
    "1st"), three digits in a row ("sx111505zq") or that is a hex number or a hash
    ("0x1f3a", "a3f41bc") stays as it is: versions, codecs, ordinals, ids and hashes are
    no evasion."""
    word = token.group(0)
    if (
        not _LEET_INNER.search(word)
        or any(d in word for d in "2689")
        or _HEX.fullmatch(word)
        or _THREE_DIGITS.search(word)
    ):
        return word
    return _LEET_EDGE.sub(_leet_run, _LEET_INNER.sub(_leet_run, word))


def _leet_run(run: re.Match[str]) -> str:
    return run.group(0).translate(_LEET)


def _digits_for_numerals(text: str) -> str:
    """Chinese numerals written for digits ("Call 〇八四四 八六一", "加我一三八零零一三八零零零"):
    a run of them as digits when it is long, or when the nearest characters on both sides
    (past spaces and symbols) are no Chinese characters but numerals. One for one: the
    text keeps its positions."""
    out: list[str] = []
    last = 0
    for run in _NUMERAL_RUN.finditer(text):
        start, end = run.span()
        if end - start < MIN_NUMERAL_RUN and (
            _CJK_WORD.match(_beside(text, start - 1, -1)) or _CJK_WORD.match(_beside(text, end, 1))
        ):
            continue
        out.append(text[last:start])
        out.append(run.group(0).translate(_NUMERAL_DIGITS))
        last = end
    out.append(text[last:])
    return "".join(out)


def _beside(text: str, at: int, step: int) -> str:
    """The first letter or digit from ``at`` on (going ``step``): past spaces, punctuation
    and emoji ("五🐎你" is Chinese text); '' if none."""
    while 0 <= at < len(text) and not text[at].isalnum():
        at += step
    return text[at] if 0 <= at < len(text) else ""


def _letters_again(compact: str) -> str:
    """Leet undone in the compact view (one for one: the segments stay)."""
    if _LEET_PROBE.search(compact):
        return _LEET_TOKEN.sub(_letters_for_digits, compact)
    return compact


Segment = tuple[int, int, int, int]
"""(compact start, compact end, text start, text end): equal lengths map one to one;
unequal ones (a canonical word, a separator) map as a whole."""


class _Map:
    """Segments in compact order, with their starts for bisection (built once)."""

    __slots__ = ("segments", "starts")

    def __init__(self, segments: tuple[Segment, ...]) -> None:
        self.segments = segments
        self.starts = [seg[0] for seg in segments]

    def to_text(self, position: int, *, end: bool) -> int:
        k = max(bisect_right(self.starts, position - (1 if end else 0)) - 1, 0)
        c_start, c_end, t_start, t_end = self.segments[k]
        if c_end - c_start == t_end - t_start:
            return t_start + (position - c_start)
        return t_end if end else t_start

    def slice(self, start: int, end: int, at: int) -> list[Segment]:
        """The segments covering compact[start:end], moved to begin at ``at``."""
        out: list[Segment] = []
        first = max(bisect_right(self.starts, start) - 1, 0)
        for c_start, c_end, t_start, t_end in self.segments[first:]:
            if c_start >= end:
                break
            lo, hi = max(c_start, start), min(c_end, end)
            if lo >= hi:
                continue
            if c_end - c_start == t_end - t_start:
                shift = lo - c_start
                out.append(
                    (at + lo - start, at + hi - start, t_start + shift, t_start + shift + hi - lo)
                )
            else:
                out.append((at + lo - start, at + hi - start, t_start, t_end))
        return out


@dataclass(slots=True)
class Normalized:
    """Not frozen, to be cheap to build (one per message); treat it as read-only."""

    original: str
    text: str
    text_index: tuple[int, ...] | None  # None: text[i] came from original[i]
    compact: str
    _lazy: list[_Map] = field(default_factory=list, compare=False, repr=False)

    @property
    def segments(self) -> tuple[Segment, ...]:
        """How ``compact`` maps to ``text``; worked out only when evidence is asked for."""
        return self._map.segments

    @property
    def _map(self) -> _Map:
        if not self._lazy:
            self._lazy.append(_Map(tuple(_segments(self.text))))
        return self._lazy[0]

    def _to_original(self, position: int, *, end: bool) -> int:
        if self.text_index is None:
            return min(position, len(self.original))
        if not self.text_index:
            return 0
        if end:
            return self.text_index[min(position, len(self.text_index)) - 1] + 1
        return self.text_index[min(position, len(self.text_index) - 1)]

    def _compact_to_text(self, position: int, *, end: bool) -> int:
        return self._map.to_text(position, end=end)

    def span(self, view: View, start: int, end: int) -> tuple[int, int]:
        """Where ``view[start:end]`` came from in the original: (start, end)."""
        if start >= end or (view == "compact" and not self.segments):
            return (0, 0)
        if view == "compact":
            start = self._compact_to_text(start, end=False)
            end = self._compact_to_text(end, end=True)
        if start >= end:
            return (0, 0)
        return (self._to_original(start, end=False), self._to_original(end, end=True))

    def evidence(self, view: View, start: int, end: int) -> str:
        first, last = self.span(view, start, end)
        return self.original[first:last]

    @property
    def changed(self) -> bool:
        """Whether normalization changed anything beyond case and spacing."""
        return self.text != self.original.casefold()


def normalize(original: str) -> Normalized:
    """Both views of ``original`` with their maps back to it; never raises on odd input."""
    if original.isascii():
        # what the table does to ASCII: lower case, control characters to spaces
        text = original.lower()
        if not text.isprintable():
            text = text.translate(_FOLD)
    else:
        text = original.translate(_FOLD)
        if _NUMERAL_RUN.search(text):
            text = _digits_for_numerals(text)
    index: tuple[int, ...] | None = None
    # every ASCII character folds to exactly one (isascii is a flag, not a scan)
    if not original.isascii() and _FOLD.any_uneven(original):
        index = _index(original)
    compact = _ascii_compact(text) if text.isascii() else None
    if compact is None:
        joins = _JOIN_ASCII if text.isascii() else _JOIN
        compact = " ".join(_WORDISH.findall(joins.sub("", text)))
    if _CANON_PROBE.search(compact):
        compact = _CANON_RE.sub(_canonical_word, compact)
    compact = _letters_again(compact)
    return Normalized(original, text, index, compact)


def _ascii_compact(text: str) -> str | None:
    """The compact view (before contact words and leet) of an ASCII ``text`` without
    running _JOIN_ASCII, or None where it could join something (then ask it). In ASCII a
    separator is any character but a letter, a digit, ``_``, ``+`` and ``@``: the words are
    what is left after turning separators into spaces, most often one space apart. Half
    the cost of the two regular expressions on English chat."""
    padded = b" ".join([b"", *text.encode("ascii").translate(_ASCII_WORD_BYTES).split(), b""])
    if _ASCII_JOINABLE_DIGITS.search(padded) or _ASCII_JOINABLE_SINGLES.search(padded):
        return None
    return padded[1:-1].decode("ascii")


def _canonical_word(match: re.Match[str]) -> str:
    return _CANON_TO[(match.lastindex or 1) - 1]


def _index(original: str) -> tuple[int, ...]:
    out: list[int] = []
    for position, ch in enumerate(original):
        out.extend([position] * len(_FOLD[ord(ch)]))
    return tuple(out)


def _compact(text: str) -> tuple[str, list[Segment]]:
    """The compact view with its segments (the same decisions as the regular expressions
    in :func:`normalize`, which build the string alone faster): one pass over the separator
    runs, each either joined away or kept as one space."""
    out: list[str] = []
    segments: list[Segment] = []
    length = 0  # of the compact text so far
    position = 0  # in text, where the next token starts
    size = len(text)
    runs = _RUNS_ASCII if text.isascii() else _RUNS
    for run in runs.finditer(text):
        start, end = run.span()
        if start > position:  # the token before this run
            out.append(text[position:start])
            segments.append((length, length + start - position, position, start))
            length += start - position
        if run.group(1) is not None and out and end < size:  # a space between two tokens
            out.append(" ")
            segments.append((length, length + 1, start, end))
            length += 1
        position = end
    if position < size:
        out.append(text[position:])
        segments.append((length, length + size - position, position, size))
    return "".join(out), segments


def _mapped_compact(text: str) -> tuple[str, list[Segment]]:
    """The compact view of ``text`` with its segments: the same string as :func:`normalize`
    builds, step by step."""
    compact, segments = _compact(text)
    if _CANON_PROBE.search(compact):
        compact, segments = _canonical(compact, segments)
    # after the contact words: a digit beside "tg" or "vx" in an id ("1tg3") stays a digit
    return _letters_again(compact), segments


def _segments(text: str) -> list[Segment]:
    """The segments of :func:`_mapped_compact` alone (leet is one for one: no need)."""
    compact, segments = _compact(text)
    if _CANON_PROBE.search(compact):
        segments = _canonical(compact, segments)[1]
    return segments


def _canonical(compact: str, segments: list[Segment]) -> tuple[str, list[Segment]]:
    matches = list(_CANON_RE.finditer(compact))
    if not matches:  # the probe's hit was an ordinary word ("相信", "开心"): nothing moves
        return compact, segments
    probe = _Map(tuple(segments))
    out: list[str] = []
    new: list[Segment] = []
    length = 0
    last = 0
    for match in matches:
        start, end = match.span()
        if start > last:
            out.append(compact[last:start])
            new.extend(probe.slice(last, start, length))
            length += start - last
        target = _CANON_TO[(match.lastindex or 1) - 1]
        out.append(target)
        new.append(
            (
                length,
                length + len(target),
                probe.to_text(start, end=False),
                probe.to_text(end, end=True),
            )
        )
        length += len(target)
        last = end
    if last < len(compact):
        out.append(compact[last:])
        new.extend(probe.slice(last, len(compact), length))
    return "".join(out), new
