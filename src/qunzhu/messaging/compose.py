"""A message composed once, with variables filled in for each target.

Variables are checked when the message is composed, not when it is sent: an unknown name, an
unbalanced brace, or a member's variable in a message to whole groups is an error naming the
variable and the text it is in, and nothing is queued.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

LANGS = ("zh-CN", "en")
GROUP_VARIABLES = frozenset({"group", "community"})
MEMBER_VARIABLES = frozenset({"name", "tier", "days_left"})
VARIABLES = GROUP_VARIABLES | MEMBER_VARIABLES
MAX_TEXT = 4000  # Telegram's limit for one message is 4096 characters; QQ's is larger


class ComposeError(ValueError):
    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Composed:
    texts: Mapping[str, str]  # by language; at least one
    to_members: bool

    def text_for(self, lang: str) -> str:
        """The variant in ``lang``, else the other one (a message written only in Chinese
        goes to an English group in Chinese rather than not at all)."""
        if lang in self.texts:
            return self.texts[lang]
        return next(iter(self.texts.values()))

    def render(self, lang: str, values: Mapping[str, str]) -> str:
        return string.Formatter().vformat(self.text_for(lang), (), dict(values))


def _names(text: str, field: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ComposeError(f"unbalanced braces in the text: {exc}", field=field) from None


def compose(texts: Mapping[str, str | None], *, to_members: bool) -> Composed:
    """Check ``texts`` (by language) for a message to groups or, with ``to_members``, to
    members one by one."""
    kept = {lang: text for lang, text in texts.items() if text is not None and text.strip()}
    if not kept:
        raise ComposeError("the message is empty: write a text", field="text")
    for lang, text in kept.items():
        field = f"text.{lang}"
        if lang not in LANGS:
            raise ComposeError(f"unknown language {lang!r}: use zh-CN or en", field=field)
        if len(text) > MAX_TEXT:
            raise ComposeError(
                f"the text is {len(text)} characters; at most {MAX_TEXT} fit one message",
                field=field,
            )
        if "\x00" in text:
            raise ComposeError("the text holds a NUL character", field=field)
        for name in sorted(_names(text, field)):
            if name == "" or not name.isidentifier():
                raise ComposeError(
                    "a variable needs a name, e.g. {name}; write {{ and }} for braces",
                    field=field,
                )
            if name not in VARIABLES:
                known = ", ".join("{" + v + "}" for v in sorted(VARIABLES))
                raise ComposeError(f"unknown variable {{{name}}}; known: {known}", field=field)
            if name in MEMBER_VARIABLES and not to_members:
                raise ComposeError(
                    f"{{{name}}} names one member: send to members one by one to use it",
                    field=field,
                )
    return Composed(texts=kept, to_members=to_members)
