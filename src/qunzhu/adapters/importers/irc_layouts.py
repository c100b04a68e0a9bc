"""The reading loop of the layouts other than irclogs/ZNC: irssi, weechat, Limnoria and
dircproxy. Each line goes through its layout's grammar (irc_grammar), its time moves the
log's clock, and what it said becomes a message or a member event (irc_state)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from qunzhu.adapters.importers.common import ImportFormatError, Ordinals, Rejected, Row
from qunzhu.adapters.importers.irc_grammar import (
    NOTICE,
    SKIP,
    Read,
    Said,
    Stamp,
    day_of,
    nick_of,
    read_irssi,
    read_limnoria,
    read_weechat,
    star_body,
    system,
)
from qunzhu.adapters.importers.irc_state import LogState, member_rows, message, when

_YEAR_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")

# --- dircproxy: ``@1528924815 <nick!u@host> text`` (1.0), ``[13 Jun 21:25] …`` (1.2) ------
_DIRCPROXY_UNIX = re.compile(r"@(\d{9,11}) (.*)$")
_DIRCPROXY_USER = re.compile(r"\[(\d\d) ([A-Z][a-z]{2}) (\d\d):(\d\d)\] (.*)$")
_DIRCPROXY_CTCP = re.compile(r"\[([^\]\s]+)\] (\S+) ?(.*)$")
_DIRCPROXY_EVENT: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(\S+) \([^)]*\) joined the channel"), "join"),
    (re.compile(r"(\S+) \([^)]*\) (?:left the channel|quit from IRC)"), "leave"),
    (re.compile(r"(\S+) kicked off by (\S+)"), "kick"),
    (re.compile(r"(\S+) \([^)]*\) changed nickname to (\S+)"), "rename"),
)
_MONTHS = {"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
           "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}  # fmt: skip


def read_dircproxy(line: str) -> Read:
    unix = _DIRCPROXY_UNIX.match(line)
    if unix is not None:
        stamp: tuple[Any, ...] = ("u", int(unix[1]))
        body = unix[2]
    else:
        user = _DIRCPROXY_USER.match(line)
        if user is None or user[2] not in _MONTHS:
            return "not a dircproxy log line"
        stamp = ("md", _MONTHS[user[2]], int(user[1]), int(user[3]), int(user[4]), 0)
        body = user[5]
    said = _dircproxy_body(body)
    return "not a dircproxy log line" if said is None else (stamp, said)


def _dircproxy_body(body: str) -> Said | None:
    if body[:4] in ("--> ", "<-- ", "--- "):
        return system(body[4:], _DIRCPROXY_EVENT)
    if body.startswith("*** "):
        return SKIP  # the proxy's own client and server notes
    if body.startswith("["):  # a CTCP; ACTION is a /me
        ctcp = _DIRCPROXY_CTCP.match(body)
        if ctcp is None:
            return None
        return ("msg", nick_of(ctcp[1]), ctcp[3]) if ctcp[2] == "ACTION" else SKIP
    if body.startswith("-"):
        notice = NOTICE.match(body)
        if notice is None:
            return None
        if "!" not in notice[1]:  # from the server: 1.0 writes member events as its notices
            return system(notice[2], _DIRCPROXY_EVENT)
        return "msg", nick_of(notice[1]), notice[2]
    return star_body(body)


READERS: dict[str, Callable[[str], Read]] = {
    "weechat": read_weechat,
    "limnoria": read_limnoria,
    "dircproxy": read_dircproxy,
    "irssi": read_irssi,
}


def dated_rows(
    path: Path,
    layout: str,
    lines: Iterable[tuple[int, bytes]],
    state: LogState,
    ids: Ordinals,
    where: tuple[str, str, str],
    tz: tzinfo,
    encoding: str,
) -> Iterator[tuple[int, Row]]:
    read = READERS[layout]
    fallback = "latin-1" if encoding in ("utf-8", "utf-8-sig") else None
    source = str(path)
    year = _Year(path, state.day)
    for number, raw in lines:
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError:
            if fallback is None:
                yield number, Rejected(source, number, f"not valid {encoding} text", repr(raw))
                continue
            line = raw.decode(fallback)  # old IRC clients wrote Latin-1; every byte maps
        if number == 1 and line[:1] == "\ufeff":
            line = line[1:]
        if not line.strip():
            continue
        got = read(line)
        if isinstance(got, str):
            yield number, Rejected(source, number, got, line)
            continue
        stamp, said = got
        wrong = _move_clock(stamp, state, year, tz, path, number)
        if wrong:
            yield number, Rejected(source, number, wrong, line)
            continue
        kind = said[0]
        if kind == "skip":
            continue
        if state.day is None or state.minute < 0:
            raise ImportFormatError(path, f"no time before this {layout} line", line=number)
        if kind == "msg":
            moment, slot = when(state, tz), (state.day, state.minute)
            yield number, message(said[1], said[2], line, state, ids, where[2], moment, slot)
        else:
            yield from member_rows(number, said, line, state, ids, where, tz, source)


def _move_clock(
    stamp: Stamp, state: LogState, year: _Year, tz: tzinfo, path: Path, number: int
) -> str | None:
    """Set the log's clock from a line's stamp; the reason when the stamp is impossible."""
    if stamp is None:
        return None
    kind = stamp[0]
    if kind == "day":  # irssi's date headers
        state.day, state.minute = stamp[1], -1
        return None
    if kind == "u":
        try:
            moment = datetime.fromtimestamp(stamp[1], UTC)
        except (OverflowError, OSError, ValueError):
            return f"impossible Unix time {stamp[1]}"
        state.exact(moment, tz)
        return None
    hour, minute, second = stamp[-3:]
    if hour > 23 or minute > 59 or second > 59:
        return f"impossible time {hour}:{minute}:{second}"
    if kind == "t":
        if state.day is None:
            raise ImportFormatError(
                path,
                "no date for this log: name the file with its date (e.g. 2024-05-01.log) "
                "or keep irssi's '--- Log opened' header",
                line=number,
            )
        state.at(hour, minute, second)
        return None
    try:
        day = day_of(stamp[1]) if kind == "d" else year.day(stamp[1], stamp[2], number)
    except ImportFormatError:
        raise  # no year at all: the whole file waits for its name (a ValueError too)
    except ValueError as exc:
        return f"impossible date: {exc}"
    state.dated(day, hour, minute, second)
    return None


class _Year:
    """dircproxy's ``[13 Jun 21:25]`` has no year: it comes from the file name (a date or a
    year in it), and moves on when the months go round (December, then January)."""

    def __init__(self, path: Path, named: date | None) -> None:
        found = _YEAR_IN_NAME.search(path.name)
        self.path = path
        self.year = named.year if named else int(found[1]) if found else None
        self.last = (0, 0)

    def day(self, month: int, day: int, number: int) -> date:
        if self.year is None:
            raise ImportFormatError(
                self.path,
                "dircproxy writes no year: name the file with the year of its first line "
                "(e.g. #chan-2018.log)",
                line=number,
            )
        if (month, day) < self.last and month < self.last[0] - 6:
            self.year += 1
        self.last = (month, day)
        return date(self.year, month, day)
