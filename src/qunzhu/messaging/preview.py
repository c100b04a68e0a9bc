"""What an operator reads before pressing send: how many targets, the text a few of them get,
which cannot be reached on their platform and why, and what the quiet hours and the daily
cap do to the times — from the same :class:`~qunzhu.messaging.broadcast.Planned` the send
would queue, so the preview and the send cannot disagree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from qunzhu.messaging.broadcast import Planned, SendRequest, prepare
from qunzhu.messaging.pacing import after_quiet
from qunzhu.messaging.reach import reach
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store import broadcasts
from qunzhu.store.send_options import connected_platforms, disabled_chats

SAMPLES = 5
LISTED = 200  # unreachable targets listed by name; the counts cover them all


def _who(target: Any) -> str:
    return str(target.member_name or target.chat) if target.member_id else target.group_name


def summarize(
    planned: Planned,
    *,
    spec: CommunitySpec,
    tz: ZoneInfo,
    now: datetime,
    send_at: datetime | None,
    connected: Collection[str],
    disabled: Mapping[tuple[str, str], str],
    planned_today: int,
) -> dict[str, Any]:
    samples: list[dict[str, Any]] = []
    unreachable: list[dict[str, Any]] = []
    outcomes: Counter[str] = Counter()
    for target, text in planned.deliveries:
        private = target.member_id is not None
        found = reach(
            target.platform, target.chat, private=private, connected=connected, disabled=disabled
        )
        outcomes[found.outcome] += 1
        row = {"to": _who(target), "platform": target.platform, "private": private}
        if len(samples) < SAMPLES:
            samples.append({**row, "text": text})
        if found.outcome != "send" and len(unreachable) < LISTED:
            unreachable.append({**row, "outcome": found.outcome, "why": found.why,
                                "detail": found.detail})  # fmt: skip
    start = max(send_at or now, now)
    quiet = spec.messaging.quiet_window()
    times = [t or now for t in planned.times]
    days = Counter(t.astimezone(tz).date() for t in times)
    first_day = min(days) if days else None  # quiet hours may have moved it a day on
    return {
        "targets": len(planned.deliveries),
        "groups": sum(1 for t, _ in planned.deliveries if t.member_id is None),
        "members": sum(1 for t, _ in planned.deliveries if t.member_id is not None),
        "samples": samples,
        "outcomes": dict(outcomes),
        "unreachable": unreachable,
        "pacing": {
            "quiet_hours": spec.messaging.quiet_hours,
            "daily_cap": spec.messaging.daily_cap,
            "planned_today": planned_today,
            "held_by_quiet": quiet is not None and after_quiet(start, quiet, tz) != start,
            "now": sum(1 for t in planned.times if t is None),
            "first": min(times) if times else None,
            "last": max(times) if times else None,
            "days": sorted(days.items()),
            "moved_by_cap": sum(n for day, n in days.items() if first_day and day > first_day),
        },
    }


def preview(
    session: Session,
    community_id: int,
    spec: CommunitySpec,
    tz: ZoneInfo,
    request: SendRequest,
    now: datetime,
) -> tuple[Planned, dict[str, Any]]:
    """What a send would queue and its summary; raises what ``prepare`` raises. The send page
    and the API's preview both show this."""
    today = broadcasts.planned_per_day(session, community_id, tz, now)
    planned = prepare(session, community_id, spec, tz, request, now)
    return planned, summarize(
        planned,
        spec=spec,
        tz=tz,
        now=now,
        send_at=request.send_at,
        connected=connected_platforms(session, community_id),
        disabled=disabled_chats(session, community_id),
        planned_today=today.get(now.astimezone(tz).date(), 0),
    )
