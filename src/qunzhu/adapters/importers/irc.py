"""IRC logs in the layouts operators meet, told apart from the file's first lines:

- irclogs (irclogs.ubuntu.com): ``[HH:MM] <nick> text``, ``[HH:MM]  * nick action`` and
  system lines ``=== nick [user@host]  has joined|left|quit #chan``, ``=== old is now
  known as new`` (the same reader takes ZNC's ``[HH:MM:SS] *** Joins: nick (u@host)``);
- irssi: ``--- Log opened …``, ``HH:MM < nick> text``, ``HH:MM -!- nick [u@host] has joined``;
- weechat: ``YYYY-MM-DD HH:MM:SS<TAB>nick<TAB>text``, ``-->``/``<--``/``--`` lines;
- Supybot/Limnoria ChannelLogger: ``YYYY-MM-DDTHH:MM:SS  <nick> text``, ``*** …`` lines;
- dircproxy: ``@1528924815 <nick!u@host> text`` and ``[13 Jun 21:25] <nick!u@host> text``.

A layout that writes only times takes its date from the file name (``2004-11-15.txt``,
``#ubuntu-2004-11-15.log``, ZNC's ``#chan_20180613.log``) or from irssi's ``--- Log
opened`` / ``--- Day changed`` headers; a time earlier than the one before by more than an
hour starts the next day. irclogs' system lines carry no time: they take the next one.

IRC has no reply links, so they are inferred from addressing — ``nick: …`` or ``nick, …``
answers that member's latest message — and marked ``reply_inferred``. A nick change keeps
the member: later lines under the new nick belong to the same member, and the change names
the new nick (``MemberRenamed.new_member``) so the store links it to the member for later
files too. A line no layout reads is quarantined with its number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, tzinfo
from operator import itemgetter
from pathlib import Path

from qunzhu import events as ev
from qunzhu.adapters.importers.common import (
    ImportFormatError,
    Ordinals,
    Posted,
    ProgressFn,
    Rejected,
    Row,
    detect_encoding,
    message_key_prefix,
    numbered_lines,
    read_head,
)
from qunzhu.adapters.importers.irc_grammar import (
    header,
    layout_of,
    read_bracketed,
    read_irclogs_system,
)
from qunzhu.adapters.importers.irc_layouts import dated_rows
from qunzhu.adapters.importers.irc_state import LogState, member_rows, message, when

__all__ = ["FORMAT", "PLATFORM", "date_from_name", "ev", "parse_lines", "rows", "sniff"]

FORMAT = "irc"
PLATFORM = "irc"
# named with --format irc, any text file is read: what no layout reads is quarantined
READ_WHEN_NAMED = True

_MESSAGE = re.compile(r"\[(\d{1,2}):(\d{2})(?::(\d{2}))?\] <([^>]+)>(?: (.*))?$")
_ACTION = re.compile(r"\[(\d{1,2}):(\d{2})(?::(\d{2}))?\]\s+\* (\S+)(?: (.*))?$")
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
_SECOND = itemgetter(1)
_NO_DATE = (
    "no date for this log: name the file with its date (e.g. 2024-05-01.log) "
    "or keep irssi's '--- Log opened' header"
)


def sniff(head: bytes | str, filename: str = "") -> bool:
    raw = head.encode("utf-8", "replace") if isinstance(head, str) else head
    return layout_of(raw) is not None


def date_from_name(name: str) -> date | None:
    found = _DATE_IN_NAME.search(name)
    if found is None:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def rows(
    path: Path,
    *,
    community: str,
    group: str,
    tz: tzinfo,
    progress: ProgressFn | None = None,
) -> Iterator[Row]:
    numbered = numbered_rows(
        path,
        numbered_lines(path, progress),
        community=community,
        group=group,
        tz=tz,
        encoding=detect_encoding(read_head(path)),
    )
    return map(_SECOND, numbered)  # no generator frame of its own per line


def parse_lines(
    path: Path,
    lines: Iterable[tuple[int, bytes]],
    *,
    community: str,
    group: str,
    tz: tzinfo,
) -> Iterator[tuple[int, ev.Event | Rejected]]:
    """(line number, event or reject) for each line that holds one."""
    for number, item in numbered_rows(path, lines, community=community, group=group, tz=tz):
        if type(item) is Posted:
            yield number, item.event(PLATFORM, community, group)
        else:
            yield number, item  # type: ignore[misc]


def numbered_rows(
    path: Path,
    lines: Iterable[tuple[int, bytes]],
    *,
    community: str,
    group: str,
    tz: tzinfo,
    encoding: str = "utf-8",
) -> Iterator[tuple[int, Row]]:
    """(line number, light message, other event or reject) for each line that holds one;
    lines are read in ``encoding`` (a UTF-8 log may hold Latin-1 lines: read as such)."""
    # named with --format irc, a file most of whose head is no log is read all the same: in
    # the layout its head has most lines of, and what that does not read is quarantined
    layout = layout_of(read_head(path), most=False) or "brackets"
    state = LogState(day=date_from_name(path.name))
    ids = Ordinals(PLATFORM, group)
    where = (community, group, message_key_prefix(PLATFORM, community, group))
    if layout == "brackets":
        return _bracketed_rows(path, lines, state, ids, where, tz, encoding)
    return dated_rows(path, layout, lines, state, ids, where, tz, encoding)


def _bracketed_rows(
    path: Path,
    lines: Iterable[tuple[int, bytes]],
    state: LogState,
    ids: Ordinals,
    where: tuple[str, str, str],
    tz: tzinfo,
    encoding: str,
) -> Iterator[tuple[int, Row]]:
    """irclogs and ZNC: the import's hot path (the shared #ubuntu logs, the benchmark)."""
    fallback = "latin-1" if encoding in ("utf-8", "utf-8-sig") else None
    keys = where[2]
    source = str(path)
    pending: list[tuple[int, str]] = []  # system lines before the first time: wait for it
    # the clock of the last message line and what it gave: most lines share their minute
    # with the line before, and the time, its slot and its UTC moment stay as they were
    clock: tuple[str, str, str | None] | None = None
    moment: datetime | None = None
    slot: tuple[date | None, int] = (None, -1)
    match_message, match_action = _MESSAGE.match, _ACTION.match
    for number, raw in lines:
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError:
            if fallback is None:
                yield number, Rejected(source, number, f"not valid {encoding} text", repr(raw))
                continue
            line = raw.decode(fallback)  # old IRC clients wrote Latin-1; every byte maps
        if number == 1 and line[:1] == "\ufeff":
            line = line[1:]  # a byte order mark (UTF-8 written by Windows tools)
        if not line.strip():
            continue
        if line.startswith("---"):
            stamp = header(line)
            if stamp is not None:
                state.day, state.minute = stamp[1], -1
            clock = None
            continue
        if line.startswith("["):
            if state.day is None:
                raise ImportFormatError(path, _NO_DATE, line=number)
            found = match_message(line) or match_action(line)
            if found is None:
                yield from _znc(number, line, state, ids, where, tz, source)
                clock = None
                continue
            hours, minutes, seconds, nick, text = found.groups()
            if clock is None or clock != (hours, minutes, seconds):
                hour, minute, second = int(hours), int(minutes), int(seconds or 0)
                if hour > 23 or minute > 59 or second > 59:
                    yield number, Rejected(source, number, f"impossible time {hour}:{minute}", line)
                    continue
                state.at(hour, minute, second)
                clock = (hours, minutes, seconds)
                moment, slot = when(state, tz), (state.day, state.minute)
            if pending:
                for early, system in pending:
                    yield from _irclogs_system(early, system, state, ids, where, tz, source)
                pending.clear()
            assert moment is not None
            yield number, message(nick, text or "", line, state, ids, keys, moment, slot)
        elif line.startswith("=== "):
            if state.day is None:
                raise ImportFormatError(path, _NO_DATE, line=number)
            if state.minute < 0:
                pending.append((number, line))
            else:
                yield from _irclogs_system(number, line, state, ids, where, tz, source)
        else:
            yield number, Rejected(source, number, "not an IRC log line", line)
    if pending:  # a log of system lines only: they happened at the start of its day
        state.at(0, 0, 0)
        for early, text in pending:
            yield from _irclogs_system(early, text, state, ids, where, tz, source)


def _irclogs_system(
    number: int,
    line: str,
    state: LogState,
    ids: Ordinals,
    where: tuple[str, str, str],
    tz: tzinfo,
    source: str,
) -> Iterator[tuple[int, Row]]:
    said = read_irclogs_system(line[4:])
    if said is None:
        yield number, Rejected(source, number, "not an IRC system line", line)
    elif said[0] == "msg":
        moment, slot = when(state, tz), (state.day, state.minute)
        yield number, message(said[1], said[2], line, state, ids, where[2], moment, slot)
    elif said[0] != "skip":
        yield from member_rows(number, said, line, state, ids, where, tz, source)


def _znc(
    number: int,
    line: str,
    state: LogState,
    ids: Ordinals,
    where: tuple[str, str, str],
    tz: tzinfo,
    source: str,
) -> Iterator[tuple[int, Row]]:
    """A bracketed line that is no message: ZNC's ``*** Joins: …`` and notices."""
    read = read_bracketed(line)
    if isinstance(read, str):
        yield number, Rejected(source, number, read, line)
        return
    stamp, said = read
    assert stamp is not None  # every bracketed line has its clock
    _, hour, minute, second = stamp
    if hour > 23 or minute > 59 or second > 59:
        yield number, Rejected(source, number, f"impossible time {hour}:{minute}", line)
        return
    state.at(hour, minute, second)
    if said[0] == "msg":
        moment, slot = when(state, tz), (state.day, state.minute)
        yield number, message(said[1], said[2], line, state, ids, where[2], moment, slot)
    elif said[0] != "skip":
        yield from member_rows(number, said, line, state, ids, where, tz, source)
