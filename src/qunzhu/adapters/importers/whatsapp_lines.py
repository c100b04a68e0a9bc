"""The dated header line of a WhatsApp text export, in the shapes phones write it.

The date and time come first, in the order and with the separators of the phone's locale,
then the sender and text::

    12/31/21, 11:59 PM - Alice: text             Android (any locale's date order)
    [31/12/2021, 23:59:59] Alice: text           iOS
    13.6.2018 klo 21.25 - Alice: text            Finnish ("klo" before the time)
    2018. 06. 13. 21:25 - Alice: text            Hungarian (dots and spaces, a final dot)
    13. 6. 2018. 21:25:15 Alice: text            the same with no dash
    13.06.18 21.25.15: Alice: text               time followed by a colon
    3/6/18, 1:55 p. m. - Alice: text             12-hour with a.m./p.m. (Spanish)

iOS puts U+202F (a narrow space) before AM/PM and U+200E (a left-to-right mark) before the
line and before the text of what WhatsApp itself wrote; other marks (U+202A…U+202C around
phone numbers, U+200F, a BOM) carry nothing. A header's *shape* (brackets, date separator,
comma, what comes between time and sender) is the same on every line of one export: a line
of another shape is a message's text that happens to start with a date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

LRM = "\u200e"
# marks that carry nothing (removed) and spaces written as other characters (a space)
PROBE = str.maketrans(
    {
        "\u200f": None, "\u202a": None, "\u202b": None, "\u202c": None, "\u202d": None,
        "\u202e": None, "\u2066": None, "\u2067": None, "\u2068": None, "\u2069": None,
        "\ufeff": None, "\u202f": " ", "\u00a0": " ", "\u2009": " ", "\u2007": " ",
    }
)  # fmt: skip
# every mark, LRM included: what a message's own text keeps of them
INVISIBLE = {**PROBE, ord(LRM): None}

_HEADER = re.compile(
    rf"{LRM}*(\[)?{LRM}*"
    # date: d/m/y, m/d/y or y/m/d with / or -, dots, or dots and spaces (Hungarian); the
    # second separator is the first one again
    r"(\d{1,4})([/\-]|\. ?)(\d{1,2})\3(\d{1,4})(\.)?"
    r"(,?) (?:klo )?"
    r"(上午|下午)?(\d{1,2})([:.])(\d{2})(?:[:.](\d{2}))?\.?"
    r"(?: ?([AaPp])\.? ?[Mm]\.?| ?(上午|下午))?"
    r"(\] ?| [-–] |: | )"
    rf"({LRM}*\S.*)$"
)


class Header(NamedTuple):
    first: int  # the three date numbers in the order written
    second: int
    third: int
    year_first: bool  # the first number has four digits
    hour: int
    minute: int
    second_of_minute: int
    meridiem: str  # "" (24-hour), "a" or "p"
    shape: tuple[object, ...]
    rest: str  # sender and text, or a system line; may begin with LRM


def header(probe: str) -> Header | None:
    """The header at the start of ``probe`` (a line translated by :data:`PROBE`), if any."""
    found = _HEADER.match(probe)
    if found is None:
        return None
    (bracket, first, date_sep, second, third, dot, comma, before, hour, time_sep, minute,
     seconds, ampm, after, sep, rest) = found.groups()  # fmt: skip
    if (bracket is None) == (sep[0] == "]"):
        return None
    if sep == " " and dot is None:
        return None  # a bare space ends only the Hungarian date (it ends in a dot)
    marker = before or after
    meridiem = (ampm or "").lower() if marker is None else "a" if marker == "上午" else "p"
    shape = (bracket is not None, date_sep, comma, time_sep, sep.rstrip() or " ")
    # every line of the file comes here (twice): a tuple, not NamedTuple's own __new__
    return _new(Header, (int(first), int(second), int(third), len(first) == 4, int(hour),
                         int(minute), int(seconds or 0), meridiem, shape, rest))  # fmt: skip


_new: Callable[[type[Header], tuple[Any, ...]], Header] = tuple.__new__
