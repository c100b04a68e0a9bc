"""What an operator reads on a page, and what in it is not in the operator's language.

``shown_text`` keeps the text of an HTML page and the attributes a person sees or hears
(``title``, ``aria-label``, ``placeholder``, ``alt``, the label of a submit button); scripts,
styles and every other attribute are left out. ``problems`` then names what should not be
there: catalog keys (``nav.today``), snake_case identifiers, dicts printed as text, English
words in a Chinese page (outside an allow-list), and English plurals after a count of one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser

from qunzhu.http.i18n import catalog

SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
HIDDEN_ELEMENTS = {"script", "style", "template", "head", "textarea"}
MEMBER_TEXT_CLASSES = {"msg-text", "snippet"}
VOID_ELEMENTS = {"br", "hr", "img", "input", "meta", "link", "source", "wbr", "col", "area"}
BLOCKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "option", "section", "table"}
SPACED = {"td", "th", "span", "a", "button", "label", "dt", "dd", "small", "strong", "em"}
# names of products, platforms, file formats and units an operator reads as they are
ALLOWED_ENGLISH = {
    "telegram", "wechat", "qq", "wecom", "discord", "onebot", "irc", "slack", "api", "csv",
    "url", "id", "ids", "json", "yaml", "html", "pdf", "http", "https", "www", "sqlite",
    "postgresql", "redis", "utc", "qunzhu", "totp", "2fa", "cli", "csrf", "webhook", "ok",
    "d7", "d30", "kb", "mb", "ms", "am", "pm", "ip", "sso", "ua", "bot", "ai",
    "javascript", "python", "markdown",
    "admin",  # the operator `qunzhu serve` creates on first run
}  # fmt: skip
# what the operator types, said as it is typed: `...` and qunzhu commands with their options
COMMANDS = re.compile(r"`[^`\n]*`|\bqunzhu(?: +(?:--?)?[a-z0-9][\w-]*)+")
FILE_NAME = re.compile(r"\.(?:ya?ml|csv|json|txt|html|pdf|db|log)$")
FILE_TOKEN = re.compile(r"[\w./-]+\.(?:ya?ml|csv|json|txt|html|pdf|db|log)\b")
KEY_PREFIXES = frozenset(key.split(".", 1)[0] for key in catalog("en"))
DOTTED = re.compile(r"(?<![\w./-])([a-z][a-z0-9_]*)\.([a-z0-9_]+(?:\.[a-z0-9_]+)*)(?![\w/-])")
SNAKE = re.compile(r"(?<![\w./@:-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])")
DICT_TEXT = re.compile(r"""[{\[]\s*["'][^"'\n]{1,60}["']\s*[:,]""")
ENGLISH_WORD = re.compile(r"(?<![\w@/.-])[A-Za-z][A-Za-z']+(?![\w@/-])")
ONE_PLURAL = re.compile(r"(?<![\d.,])\b1 ([a-z]{3,}s)\b")
NOT_PLURALS = {"this", "has", "was", "is", "its", "less", "class", "access", "status", "bonus"}


@dataclass(frozen=True)
class Problem:
    kind: str  # catalog_key | snake_case | dict_text | english | plural
    where: str
    found: str
    context: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.where}: {self.found!r} in …{self.context}…"


class _ShownText(HTMLParser):
    """Collects shown text; skips hidden elements and what members wrote (``translate="no"``,
    or the message classes), which is in whatever language they wrote it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[tuple[str, bool]] = []  # (tag, hidden)

    @property
    def hidden(self) -> bool:
        return bool(self.open) and self.open[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        hide = (
            self.hidden
            or tag in HIDDEN_ELEMENTS
            or values.get("translate") == "no"
            or bool(classes & MEMBER_TEXT_CLASSES)
        )
        if tag not in VOID_ELEMENTS:
            self.open.append((tag, hide))
        if hide:
            return
        for name in SHOWN_ATTRIBUTES:
            if values.get(name):
                self.parts.append(f" {values[name]} ")
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(f" {values['value']} ")
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if any(open_tag == tag for open_tag, _ in self.open):
            while self.open and self.open.pop()[0] != tag:
                pass
        if not self.hidden:
            self.parts.append("\n" if tag in BLOCKS else " " if tag in SPACED else "")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def shown_text(html: str) -> str:
    """The text of ``html`` a person reads, one line per block, blank lines dropped."""
    parser = _ShownText()
    parser.feed(html)
    text = "".join(parser.parts)
    lines = (re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _around(text: str, start: int, end: int) -> str:
    return text[max(0, start - 30) : end + 30].replace("\n", " ⏎ ")


def problems(text: str, where: str, *, language: str, allowed: Iterable[str] = ()) -> list[Problem]:
    """Everything in ``text`` (shown in ``language``) that is a code rather than words."""
    allow = ALLOWED_ENGLISH | {word.lower() for word in allowed}
    text = COMMANDS.sub(lambda m: "qunzhu" if m.group(0).startswith("q") else "", text)
    found: list[Problem] = []

    def add(kind: str, match: re.Match[str]) -> None:
        found.append(Problem(kind, where, match.group(0), _around(text, *match.span())))

    for match in DOTTED.finditer(text):
        name = match.group(0)
        if match.group(1) in KEY_PREFIXES and not FILE_NAME.search(name) and name not in allow:
            add("catalog_key", match)
    for match in SNAKE.finditer(text):
        if match.group(0).lower() not in allow:
            add("snake_case", match)
    for match in DICT_TEXT.finditer(text):
        add("dict_text", match)
    if language == "zh-CN":
        text = FILE_TOKEN.sub("", text)
        for match in ENGLISH_WORD.finditer(text):
            word = match.group(0).lower().strip("'")
            if word not in allow and not SNAKE.fullmatch(word):
                add("english", match)
    else:
        for match in ONE_PLURAL.finditer(text):
            if match.group(1) not in NOT_PLURALS:
                add("plural", match)
    return found


def words_of(texts: Iterable[str | None]) -> set[str]:
    """The Latin-letter words of ``texts`` (names, messages: what members wrote)."""
    words: set[str] = set()
    for text in texts:
        if text:
            words.update(w.lower().strip("'") for w in ENGLISH_WORD.findall(text))
            words.update(w.lower() for w in SNAKE.findall(text))
    return words
