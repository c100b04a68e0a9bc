"""Detectors that read behaviour, not words: flooding, the same text across groups, mass
mentions, and message kinds the platform marks (contact cards, mini-programs).

The windows of flooding and of the same text across groups live in one of two places:

- :class:`Behaviour`: in memory, bounded, per process. A worker sees the messages it
  moderates; with several workers a member's messages are spread across them and each
  catches only the flood it sees itself.
- :class:`SharedBehaviour`: in Redis (``QUNZHU_REDIS_URL``), so every worker and every
  machine counts the same windows: one sorted set per member and group (scored by message
  time, the message key as member, so a message delivered twice counts once) and one per
  member and text (the groups it was seen in, scored by time), each expiring after its
  window. A batch costs one round trip. When Redis fails, the batch is counted in process
  instead and moderation goes on.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from qunzhu.events import MessagePosted
from qunzhu.moderation.findings import Finding, safe_text
from qunzhu.spec.rules import Rules

log = logging.getLogger(__name__)

_MENTION = re.compile(r"(?<![\w@])@[\w.-]{2,32}")
_MIN_DUPLICATE_LENGTH = 6  # "ok", "+1", "谢谢" repeat honestly
PREFIX = "qunzhu:moderation:"


class _Bounded(OrderedDict[tuple[str, ...], object]):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def touch(self, key: tuple[str, ...]) -> None:
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


@dataclass(frozen=True, slots=True)
class Seen:
    """What the windows hold once a message is counted."""

    messages: int  # from this member in this group within the flooding window
    groups: int  # groups this member posted this text to within its window (0: too short)


def _text_digest(compact: str) -> str | None:
    if len(compact) < _MIN_DUPLICATE_LENGTH:
        return None
    return hashlib.blake2b(compact.encode("utf-8", "replace"), digest_size=8).hexdigest()


def _findings(event: MessagePosted, rules: Rules, seen: Seen) -> list[Finding]:
    out: list[Finding] = []
    flood = rules.flooding
    if seen.messages > flood.max_messages:
        out.append(
            Finding(
                rule="flooding",
                detector="flood_window",
                severity=flood.severity,
                score=1.0,
                evidence=f"{seen.messages} messages in {flood.per_seconds} s",
                detail={"count": seen.messages, "seconds": flood.per_seconds},
            )
        )
    copies = rules.duplicate_across_groups
    if seen.groups > copies.max_groups:
        out.append(
            Finding(
                rule="duplicate_across_groups",
                detector="same_text_groups",
                severity=copies.severity,
                score=1.0,
                evidence=safe_text(event.text, 200),
                detail={"groups": seen.groups, "seconds": copies.per_seconds},
            )
        )
    return out


class Behaviour:
    """Remembers recent messages in this process to judge flooding and cross-group
    duplicates."""

    def __init__(self, limit: int = 200_000) -> None:
        self._times = _Bounded(limit)
        self._copies = _Bounded(limit)

    def prepare(self, batch: Sequence[tuple[MessagePosted, str, Rules]]) -> None:
        """Count a batch ahead of :meth:`observe` (in process there is nothing to gain)."""

    def observe(self, event: MessagePosted, compact: str, rules: Rules) -> list[Finding]:
        return _findings(event, rules, self.count(event, compact, rules))

    def count(self, event: MessagePosted, compact: str, rules: Rules) -> Seen:
        return Seen(self._flooding(event, rules), self._duplicates(event, compact, rules))

    def _flooding(self, event: MessagePosted, rules: Rules) -> int:
        rule = rules.flooding
        key = (event.platform, event.community, event.group, event.member)
        times = self._times.get(key)
        if not isinstance(times, deque):
            times = deque()
            self._times[key] = times
        self._times.touch(key)
        now = event.occurred_at.timestamp()
        times.append(now)
        while times and times[0] <= now - rule.per_seconds:
            times.popleft()
        while len(times) > rule.max_messages * 4:  # enough to judge, bounded
            times.popleft()
        return len(times)

    def _duplicates(self, event: MessagePosted, compact: str, rules: Rules) -> int:
        digest = _text_digest(compact)
        if digest is None:
            return 0
        rule = rules.duplicate_across_groups
        key = (event.platform, event.community, event.member, digest)
        seen = self._copies.get(key)
        if not isinstance(seen, dict):
            seen = {}
            self._copies[key] = seen
        self._copies.touch(key)
        now = event.occurred_at.timestamp()
        seen[event.group] = now
        for group in [g for g, t in seen.items() if t <= now - rule.per_seconds]:
            del seen[group]
        return len(seen)


def _name(prefix: str, kind: str, *parts: str) -> str:
    # ids may hold any character: the key is a digest of them, never the ids themselves
    joined = "\x1f".join(parts).encode("utf-8", "replace")
    return f"{prefix}{kind}:{hashlib.blake2b(joined, digest_size=12).hexdigest()}"


class SharedBehaviour(Behaviour):
    """The same windows kept in Redis, shared by every pipeline worker."""

    def __init__(self, client: redis.Redis, *, prefix: str = PREFIX) -> None:
        super().__init__()
        self.client = client
        self.prefix = prefix
        self._ready: dict[str, Seen] = {}
        self._local = False  # Redis failed for this batch: the rest of it counts in process

    def prepare(self, batch: Sequence[tuple[MessagePosted, str, Rules]]) -> None:
        """Count the whole batch in one round trip, in order; :meth:`observe` then reads
        the counts. Redis down: the batch is counted in process (and logged)."""
        self._ready.clear()
        pipe = self.client.pipeline(transaction=False)
        places = [self._queue(pipe, event, compact, rules) for event, compact, rules in batch]
        replies = self._run(pipe)
        # one failure per batch is enough: no message of it waits on Redis again
        self._local = replies is None
        if replies is None:
            return
        for (event, _, _), (flood_at, copies_at) in zip(batch, places, strict=True):
            self._ready[event.key] = _seen(replies, flood_at, copies_at)

    def count(self, event: MessagePosted, compact: str, rules: Rules) -> Seen:
        ready = self._ready.pop(event.key, None)
        if ready is not None:
            return ready
        if self._local:
            return super().count(event, compact, rules)
        pipe = self.client.pipeline(transaction=False)
        flood_at, copies_at = self._queue(pipe, event, compact, rules)
        replies = self._run(pipe)
        if replies is None:
            return super().count(event, compact, rules)
        return _seen(replies, flood_at, copies_at)

    def _run(self, pipe: Any) -> list[Any] | None:
        try:
            return list(pipe.execute())
        except redis.RedisError as exc:
            log.warning("moderation windows: Redis failed (%s); counting in this process", exc)
            return None

    def _queue(
        self, pipe: Any, event: MessagePosted, compact: str, rules: Rules
    ) -> tuple[int, int | None]:
        """Queue the commands for one message; where its two counts will be in the replies."""
        now = event.occurred_at.timestamp()
        flood = rules.flooding
        name = _name(
            self.prefix, "flood", event.platform, event.community, event.group, event.member
        )
        # the message key as member: a message delivered twice counts once
        flood_at = self._window(pipe, name, event.key, now, flood.per_seconds)
        # enough to judge, bounded: a flood of thousands keeps only the newest few
        pipe.zremrangebyrank(name, 0, -(flood.max_messages * 4 + 1))
        digest = _text_digest(compact)
        if digest is None:
            return flood_at, None
        name = _name(self.prefix, "copies", event.platform, event.community, event.member, digest)
        copies = rules.duplicate_across_groups
        return flood_at, self._window(pipe, name, event.group, now, copies.per_seconds)

    def _window(self, pipe: Any, name: str, member: str, now: float, seconds: float) -> int:
        pipe.zadd(name, {member: now})
        pipe.zremrangebyscore(name, "-inf", now - seconds)
        pipe.zcard(name)
        pipe.expire(name, math.ceil(seconds) + 60)
        return len(pipe.command_stack) - 2


def _seen(replies: list[Any], flood_at: int, copies_at: int | None) -> Seen:
    return Seen(int(replies[flood_at]), 0 if copies_at is None else int(replies[copies_at]))


def behaviour_for(redis_url: str | None) -> Behaviour:
    """Shared windows when Redis is configured, else in-process ones."""
    if not redis_url:
        return Behaviour()
    # short timeouts: a hung Redis must not hold up moderation (the batch falls back)
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    return SharedBehaviour(client)


def mass_mentions(event: MessagePosted, rules: Rules) -> list[Finding]:
    rule = rules.mass_mentions
    in_text = _MENTION.findall(event.text[:20_000])
    count = max(len(set(event.mentions)), len(set(in_text)))
    if count < rule.max_mentions:
        return []
    return [
        Finding(
            rule="mass_mentions",
            detector="mentions",
            severity=rule.severity,
            score=1.0,
            evidence=safe_text(" ".join(in_text) or f"{count} mentions", 300),
            detail={"count": count},
        )
    ]


def marked_kinds(event: MessagePosted, rules: Rules) -> list[Finding]:
    """Contact cards and mini-programs, where the platform marks the message kind."""
    if event.kind == "contact_card":
        return [
            Finding(
                rule="contact_cards",
                detector="contact_card",
                severity=rules.contact_cards.severity,
                score=1.0,
                evidence=safe_text(event.text or "[contact card]", 200),
            )
        ]
    if event.kind == "mini_program":
        return [
            Finding(
                rule="ads",
                detector="mini_program",
                severity=rules.ads.severity,
                score=1.0,
                evidence=safe_text(event.text or "[mini-program]", 200),
            )
        ]
    return []


def is_newcomer(joined_at: datetime | None, at: datetime, rules: Rules) -> bool:
    days = rules.links.newcomer_block_days
    if not days or joined_at is None:
        return False
    return (at - joined_at).total_seconds() < days * 86_400
