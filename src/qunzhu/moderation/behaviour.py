"""Detectors that read behaviour, not words: flooding, the same text across groups, mass
mentions, and message kinds the platform marks (contact cards, mini-programs).

Windows live in memory, bounded, per process: a worker sees the messages it moderates.
(With several pipeline workers, a member's messages are spread across them; each still
catches a flood it sees itself.)
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict, deque
from datetime import datetime

from qunzhu.events import MessagePosted
from qunzhu.moderation.findings import Finding, safe_text
from qunzhu.spec.rules import Rules

_MENTION = re.compile(r"(?<![\w@])@[\w.-]{2,32}")
_MIN_DUPLICATE_LENGTH = 6  # "ok", "+1", "谢谢" repeat honestly


class _Bounded(OrderedDict[tuple[str, ...], object]):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def touch(self, key: tuple[str, ...]) -> None:
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


class Behaviour:
    """Remembers recent messages to judge flooding and cross-group duplicates."""

    def __init__(self, limit: int = 200_000) -> None:
        self._times = _Bounded(limit)
        self._copies = _Bounded(limit)

    def observe(self, event: MessagePosted, compact: str, rules: Rules) -> list[Finding]:
        out = self._flooding(event, rules)
        out += self._duplicates(event, compact, rules)
        return out

    def _flooding(self, event: MessagePosted, rules: Rules) -> list[Finding]:
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
        if len(times) <= rule.max_messages:
            return []
        return [
            Finding(
                rule="flooding",
                detector="flood_window",
                severity=rule.severity,
                score=1.0,
                evidence=f"{len(times)} messages in {rule.per_seconds} s",
                detail={"count": len(times), "seconds": rule.per_seconds},
            )
        ]

    def _duplicates(self, event: MessagePosted, compact: str, rules: Rules) -> list[Finding]:
        if len(compact) < _MIN_DUPLICATE_LENGTH:
            return []
        rule = rules.duplicate_across_groups
        digest = hashlib.blake2b(compact.encode("utf-8", "replace"), digest_size=8).hexdigest()
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
        if len(seen) <= rule.max_groups:
            return []
        return [
            Finding(
                rule="duplicate_across_groups",
                detector="same_text_groups",
                severity=rule.severity,
                score=1.0,
                evidence=safe_text(event.text, 200),
                detail={"groups": len(seen), "seconds": rule.per_seconds},
            )
        ]


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
