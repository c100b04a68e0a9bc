"""IRC logs: ``[HH:MM] <nick> text``, ``[HH:MM]  * nick action``, and system lines
``=== nick [user@host]  has joined|left|quit #chan`` and ``=== old is now known as new``.

The date comes from the file name (``2004-11-15.txt``, ``#ubuntu-2004-11-15.log``) or from
irssi's ``--- Log opened …`` / ``--- Day changed …`` headers; a time earlier than the one
before by more than an hour starts the next day. System lines carry no time: they take
the time of the line before.

IRC has no reply links, so they are inferred from addressing — ``nick: …`` or ``nick, …``
answers that member's latest message — and marked ``reply_inferred``. A nick change keeps
the member: later lines under the new nick belong to the same member.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from operator import itemgetter
from pathlib import Path
from typing import Any

from qunzhu import events as ev
from qunzhu.adapters.importers.common import (
    ImportFormatError,
    Ordinals,
    Posted,
    ProgressFn,
    Rejected,
    Row,
    _digest,
    detect_encoding,
    message_key_prefix,
    new_posted,
    numbered_lines,
    read_head,
)

FORMAT = "irc"
PLATFORM = "irc"

_MESSAGE = re.compile(r"\[(\d{1,2}):(\d{2})(?::(\d{2}))?\] <([^>]+)>(?: (.*))?$")
_ACTION = re.compile(r"\[(\d{1,2}):(\d{2})(?::(\d{2}))?\]\s+\* (\S+)(?: (.*))?$")
_PRESENCE = re.compile(
    r"=== (?P<nick>.+?)\s+\[(?P<host>\S*)\]\s+has (?P<what>joined|left|quit)\b(?P<rest>.*)$"
)
_RENAME = re.compile(r"=== (.+?)\s+is now known as (.+?)\s*$")
_OTHER_SYSTEM = re.compile(r"=== (?:\.\.\[topic|mode/|\S+\.\S+ -> |\[?topic|Topic|\S+ sets mode)")
_EMOTE = re.compile(r"=== (\S+) (.+)$")
_ADDRESSED = re.compile(r"\s*([^\s:,]{1,32})[:,](?:\s|$)")
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_LOG_OPENED = re.compile(r"--- Log opened \w{3} (\w{3} +\d{1,2} [\d:]+ \d{4})")
_DAY_CHANGED = re.compile(r"--- Day changed \w{3} (\w{3} +\d{1,2} \d{4})")
_SECOND = itemgetter(1)
_SNIFF = re.compile(rb"^(?:\[\d{1,2}:\d{2}(?::\d{2})?\] (?:<[^>]+>|\s*\*)|=== |--- (?:Log|Day) )")


def sniff(head: bytes | str, filename: str = "") -> bool:
    raw = head.encode("utf-8", "replace") if isinstance(head, str) else head
    lines = [line for line in raw.splitlines()[:40] if line.strip()][:20]
    if not lines:
        return False
    hits = sum(1 for line in lines if _SNIFF.match(line))
    return hits * 2 > len(lines)


def date_from_name(name: str) -> date | None:
    found = _DATE_IN_NAME.search(name)
    if found is None:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


@dataclass
class _State:
    """Where the log is: its day, the last time seen, who is who."""

    day: date | None
    minute: int = -1
    second: int = 0
    alias: dict[str, str] = field(default_factory=dict)  # lower nick -> member id
    # member id -> their latest message: (message id, whom it addressed, sequence number)
    latest: dict[str, tuple[str, str | None, int]] = field(default_factory=dict)
    said: int = 0  # messages so far
    moment: tuple[object, datetime] | None = None  # the last time built, reused per minute

    def member(self, nick: str) -> str:
        low = nick.lower()
        return self.alias.get(low, low)

    def at(self, hour: int, minute: int, second: int) -> None:
        now = hour * 60 + minute
        if self.day is not None and self.minute >= 0 and now < self.minute - 60:
            self.day += timedelta(days=1)  # the clock went round: the log crossed midnight
        self.minute, self.second = now, second


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
    fallback = "latin-1" if encoding in ("utf-8", "utf-8-sig") else None
    state = _State(day=date_from_name(path.name))
    ids = Ordinals(PLATFORM, group)
    keys = message_key_prefix(PLATFORM, community, group)
    where = (community, group, keys)
    source = str(path)
    pending: list[tuple[int, str]] = []  # system lines before the first time: wait for it
    # the clock of the last message line and what it gave: most lines share their minute
    # with the line before, and the time, its slot and its UTC moment stay as they were
    clock: tuple[str, str, str | None] | None = None
    when: datetime | None = None
    slot: tuple[date | None, int] = (None, -1)
    message, action = _MESSAGE.match, _ACTION.match
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
            _header(line, state)
            clock = None
            continue
        if state.day is None:
            raise ImportFormatError(
                path,
                "no date for this log: name the file with its date (e.g. 2024-05-01.log) "
                "or keep irssi's '--- Log opened' header",
                line=number,
            )
        if line.startswith("["):
            found = message(line) or action(line)
            if found is None:
                yield number, Rejected(source, number, "not an IRC log line", line)
                continue
            hours, minutes, seconds, nick, text = found.groups()
            if clock is None or clock != (hours, minutes, seconds):
                hour, minute, second = int(hours), int(minutes), int(seconds or 0)
                if hour > 23 or minute > 59 or second > 59:
                    yield number, Rejected(source, number, f"impossible time {hour}:{minute}", line)
                    continue
                state.at(hour, minute, second)
                clock = (hours, minutes, seconds)
                when, slot = _when(state, tz), (state.day, state.minute)
            if pending:
                for early, system in pending:
                    yield from _system(early, system, state, ids, where, tz, source)
                pending.clear()
            assert when is not None
            yield number, _message(nick, text or "", line, state, ids, keys, when, slot)
        elif line.startswith("=== "):
            if state.minute < 0:
                pending.append((number, line))
            else:
                yield from _system(number, line, state, ids, where, tz, source)
        else:
            yield number, Rejected(source, number, "not an IRC log line", line)
    if pending:  # a log of system lines only: they happened at the start of its day
        state.at(0, 0, 0)
        for early, text in pending:
            yield from _system(early, text, state, ids, where, tz, source)


def _header(line: str, state: _State) -> None:
    opened = _LOG_OPENED.match(line)
    if opened:
        state.day = datetime.strptime(opened[1], "%b %d %H:%M:%S %Y").date()
        state.minute = -1
        return
    changed = _DAY_CHANGED.match(line)
    if changed:
        state.day = datetime.strptime(changed[1], "%b %d %Y").date()
        state.minute = -1


def _when(state: _State, tz: tzinfo) -> datetime:
    assert state.day is not None
    slot = (state.day, state.minute, state.second)
    if state.moment is not None and state.moment[0] == slot:
        return state.moment[1]
    day = state.day
    local_time = datetime(
        day.year, day.month, day.day, state.minute // 60, state.minute % 60, state.second, tzinfo=tz
    )
    moment = local_time.astimezone(UTC)  # events keep UTC; converting once per minute is cheaper
    state.moment = (slot, moment)
    return moment


def _message(
    nick: str,
    text: str,
    line: str,
    state: _State,
    ids: Ordinals,
    keys: str,
    when: datetime,
    slot: tuple[date | None, int],
) -> Posted:
    low = nick.lower()
    member = state.alias.get(low, low)
    message_id = ids.message_id(slot, nick, text)
    reply_to: str | None = None
    mentions: tuple[str, ...] = ()
    target: str | None = None
    addressed = _ADDRESSED.match(text)
    if addressed is not None:
        target = state.member(addressed[1])
        if target != member and target in state.latest:
            reply_to = _antecedent(state, member, target)
            mentions = (target,)
    state.said += 1
    state.latest[member] = (message_id, target, state.said)
    return new_posted(
        Posted,
        (
            _digest(keys + message_id),  # message_key(PLATFORM, community, group, message_id)
            message_id,
            member,
            nick,
            when,
            text,
            "text",
            reply_to,
            reply_to is not None,
            mentions,
            0,
            False,
            None,
            line,
        ),
    )


def _antecedent(state: _State, speaker: str, target: str) -> str:
    """What ``speaker``'s "target: …" answers: target's latest message; or the speaker's own
    latest message to target, when target has not spoken since (the speaker goes on with
    their own thread). Measured against the #ubuntu annotation, the second rule turns
    most of the "answered the speaker's own line" misses into hits."""
    theirs = state.latest[target]
    own = state.latest.get(speaker)
    if own is not None and own[1] == target and own[2] > theirs[2]:
        return own[0]
    return theirs[0]


def _system(
    number: int,
    line: str,
    state: _State,
    ids: Ordinals,
    where: tuple[str, str, str],
    tz: tzinfo,
    source: str,
) -> Iterator[tuple[int, Row]]:
    """The rows of a system line, or its reject when its event is out of bounds (a nick of
    300 characters, a date from the file name before 1970)."""
    try:
        yield from _system_rows(number, line, state, ids, where, tz, source)
    except ev.EventError as exc:
        yield number, Rejected(source, number, str(exc), line)


def _system_rows(
    number: int,
    line: str,
    state: _State,
    ids: Ordinals,
    where: tuple[str, str, str],
    tz: tzinfo,
    source: str,
) -> Iterator[tuple[int, Row]]:
    """The rows of a system line; ``where`` is (community, group, the message keys' prefix)."""
    community, group, keys = where
    when = _when(state, tz)
    slot = (state.day, state.minute)
    common: dict[str, Any] = {
        "platform": PLATFORM,
        "community": community,
        "group": group,
        "occurred_at": when,
    }
    presence = _PRESENCE.match(line)
    if presence is not None:
        nick = presence["nick"].strip()
        member = state.member(nick)
        if presence["what"] == "joined":
            key = ids.event_key("join", slot, member)
            yield (
                number,
                ev.MemberJoined(
                    member=member, member_name=nick, via="self", key=key, raw=line, **common
                ),
            )
        else:
            key = ids.event_key("leave", slot, member)
            yield (
                number,
                ev.MemberLeft(
                    member=member, member_name=nick, reason="left", key=key, raw=line, **common
                ),
            )
        return
    renamed = _RENAME.match(line)
    if renamed is not None:
        old, new = renamed[1], renamed[2]
        member = state.member(old)
        state.alias[new.lower()] = member
        key = ids.event_key("rename", slot, member, new)
        yield (
            number,
            ev.MemberRenamed(
                member=member, old_name=old, new_name=new, key=key, raw=line, **common
            ),
        )
        return
    if _OTHER_SYSTEM.match(line):
        return  # topic, mode and server lines: nothing a member did
    emote = _EMOTE.match(line)
    if emote is None:
        yield number, Rejected(source, number, "not an IRC system line", line)
        return
    yield number, _message(emote[1], emote[2], line, state, ids, keys, when, slot)
