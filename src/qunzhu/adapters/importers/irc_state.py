"""What every IRC log layout shares once a line is read: where the log is in time, who is
who (a nick change keeps the member), and the rows a line becomes.

A layout's grammar turns a line into a :data:`Said` — what kind of line it is, whose nick,
and the text (or the new nick, or the kicker) — and :func:`member_rows` or :func:`message`
turn that into the importer's rows, the same for every layout.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from qunzhu import events as ev
from qunzhu.adapters.importers.common import (
    Ordinals,
    Posted,
    Rejected,
    Row,
    _digest,
    new_posted,
)
from qunzhu.adapters.importers.irc_grammar import ADDRESSED

PLATFORM = "irc"


@dataclass
class LogState:
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
        """A time of day in a layout that writes only times: a clock that goes back by more
        than an hour has crossed midnight."""
        now = hour * 60 + minute
        if self.day is not None and self.minute >= 0 and now < self.minute - 60:
            self.day += timedelta(days=1)
        self.minute, self.second = now, second

    def dated(self, day: date, hour: int, minute: int, second: int) -> None:
        """A full date and time (weechat, Limnoria, dircproxy): nothing to guess."""
        self.day, self.minute, self.second = day, hour * 60 + minute, second

    def exact(self, moment: datetime, tz: tzinfo) -> None:
        """A Unix time (dircproxy's ``@1528924815``): the day and clock in ``tz`` for the
        ids, the moment itself as the time, with no round trip through local time."""
        here = moment.astimezone(tz)
        self.dated(here.date(), here.hour, here.minute, here.second)
        self.moment = ((self.day, self.minute, self.second), moment.astimezone(UTC))


def when(state: LogState, tz: tzinfo) -> datetime:
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


def message(
    nick: str,
    text: str,
    line: str,
    state: LogState,
    ids: Ordinals,
    keys: str,
    moment: datetime,
    slot: tuple[date | None, int],
) -> Posted:
    low = nick.lower()
    member = state.alias.get(low, low)
    message_id = ids.message_id(slot, nick, text)
    reply_to: str | None = None
    mentions: tuple[str, ...] = ()
    target: str | None = None
    addressed = ADDRESSED.match(text)
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
            moment,
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


def _antecedent(state: LogState, speaker: str, target: str) -> str:
    """What ``speaker``'s "target: …" answers: target's latest message; or the speaker's own
    latest message to target, when target has not spoken since (the speaker goes on with
    their own thread). Measured against the #ubuntu annotation, the second rule turns
    most of the "answered the speaker's own line" misses into hits."""
    theirs = state.latest[target]
    own = state.latest.get(speaker)
    if own is not None and own[1] == target and own[2] > theirs[2]:
        return own[0]
    return theirs[0]


def member_rows(
    number: int,
    said: tuple[str, str, str],
    line: str,
    state: LogState,
    ids: Ordinals,
    where: tuple[str, str, str],
    tz: tzinfo,
    source: str,
) -> Iterator[tuple[int, Row]]:
    """The rows of a line that is not a message: a join, a leave, a kick or a nick change
    (``said`` is (kind, nick, other): the new nick of a change, the kicker of a kick); or
    its reject when its event is out of bounds (a nick of 300 characters, a date before
    1970)."""
    kind, nick, other = said
    community, group, _ = where
    moment = when(state, tz)
    slot = (state.day, state.minute)
    common: dict[str, Any] = {
        "platform": PLATFORM,
        "community": community,
        "group": group,
        "occurred_at": moment,
        "raw": line,
    }
    member = state.member(nick)
    try:
        if kind == "join":
            key = ids.event_key("join", slot, member)
            yield (
                number,
                ev.MemberJoined(member=member, member_name=nick, via="self", key=key, **common),
            )
        elif kind in ("leave", "kick"):
            by = state.member(other) if kind == "kick" and other else None
            key = ids.event_key("leave", slot, member)
            reason = "removed" if kind == "kick" else "left"
            yield (
                number,
                ev.MemberLeft(
                    member=member, member_name=nick, reason=reason, by=by, key=key, **common
                ),
            )
        elif kind == "rename":
            key = ids.event_key("rename", slot, member, other)
            renamed = ev.MemberRenamed(
                member=member,
                old_name=nick,
                new_name=other,
                new_member=other.lower(),
                key=key,
                **common,
            )
            state.alias[other.lower()] = member  # later lines under the new nick: same member
            yield number, renamed
    except ev.EventError as exc:
        yield number, Rejected(source, number, str(exc), line)
