"""Broadcasts in the store: who a message goes to, the broadcast and its deliveries written
in one transaction, and what became of each delivery.

A delivery is an outbox row (origin ``broadcast:<id>``, one per target): the drainer of
``qunzhu serve`` carries it out on the platform, its status is the delivery's status, and
its key, unique per community, is why a repeated or resumed send never queues a target twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunzhu.events import Action
from qunzhu.store.community import Group, Identity, Member
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.growth import Subscription
from qunzhu.store.intelligence import TierState
from qunzhu.store.messaging import Broadcast
from qunzhu.store.outbox import enqueue

ORIGIN = "broadcast:"


class AudienceError(ValueError):
    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Target:
    platform: str
    chat: str  # the platform's group id, or the member's user id for a private message
    group_id: int | None
    group_name: str
    member_id: int | None = None
    member_name: str = ""
    tier: str | None = None
    expires_at: datetime | None = None

    def values(
        self, community: str, tier_names: Mapping[str, str], now: datetime
    ) -> dict[str, str]:
        out = {"group": self.group_name, "community": community, "name": self.member_name}
        out["tier"] = tier_names.get(self.tier or "", self.tier or "")
        left = "" if self.expires_at is None else str(max(0, (self.expires_at - now).days))
        out["days_left"] = left
        return out


def group_targets(
    session: Session,
    community_id: int,
    *,
    groups: Sequence[str] = (),
    segment: str | None = None,
    every_group: bool = False,
) -> list[Target]:
    """The groups named (by id, platform id or name), of a segment, or all of them."""
    rows = session.execute(
        select(Group.id, Group.platform, Group.platform_group_id, Group.name, Group.segment)
        .where(Group.community_id == community_id)
        .order_by(Group.id)
    ).all()
    chosen: dict[int, Any] = {}
    for wanted in groups:
        found = [r for r in rows if wanted in (str(r.id), r.platform_group_id, r.name)]
        if not found:
            raise AudienceError(f"no group {wanted!r} in this community", field="groups")
        if len(found) > 1:
            raise AudienceError(f"{wanted!r} names {len(found)} groups: use the id", field="groups")
        chosen[found[0].id] = found[0]
    if segment is not None:
        inside = [r for r in rows if r.segment == segment]
        if not inside:
            raise AudienceError(f"no group in segment {segment!r}", field="segment")
        chosen.update({r.id: r for r in inside})
    if every_group:
        chosen.update({r.id: r for r in rows})
    return [
        Target(platform=r.platform, chat=r.platform_group_id, group_id=r.id, group_name=r.name)
        for r in sorted(chosen.values(), key=lambda r: r.id)
    ]


def member_targets(session: Session, community_id: int, members: Sequence[str]) -> list[Target]:
    """Members by id or platform user id, each reached on their first platform account."""
    targets: dict[int, Target] = {}
    now = datetime.now(UTC)
    for wanted in members:
        query = select(Identity.member_id).where(Identity.community_id == community_id)
        if wanted.isdigit():
            query = query.where(
                (Identity.member_id == int(wanted)) | (Identity.platform_user_id == wanted)
            )
        else:
            query = query.where(Identity.platform_user_id == wanted)
        member_id = session.scalars(query.order_by(Identity.id).limit(1)).first()
        if member_id is None:
            raise AudienceError(f"no member {wanted!r} in this community", field="members")
        identity = session.execute(
            select(Identity.platform, Identity.platform_user_id, Identity.name)
            .where(Identity.community_id == community_id, Identity.member_id == member_id)
            .order_by(Identity.id)
            .limit(1)
        ).one()
        name = session.scalar(
            select(Member.display_name).where(
                Member.community_id == community_id, Member.id == member_id
            )
        )
        tier = session.scalar(
            select(TierState.tier).where(
                TierState.community_id == community_id, TierState.member_id == member_id
            )
        )
        expires = session.scalar(
            select(func.min(Subscription.expires_at)).where(
                Subscription.community_id == community_id,
                Subscription.member_id == member_id,
                Subscription.status == "active",
                Subscription.expires_at > now,
            )
        )
        targets[member_id] = Target(
            platform=identity.platform,
            chat=identity.platform_user_id,
            group_id=None,
            group_name="",
            member_id=member_id,
            member_name=name or identity.name or "",
            tier=tier,
            expires_at=expires,
        )
    return list(targets.values())


def planned_per_day(
    session: Session, community_id: int, tz: ZoneInfo, now: datetime
) -> Counter[date]:
    """Deliveries of this community's broadcasts planned for today and later, per local day
    (the daily cap counts them all)."""
    start = datetime.combine(now.astimezone(tz).date(), datetime.min.time(), tzinfo=tz)
    when = func.coalesce(OutboxAction.not_before, OutboxAction.created_at)
    times = session.scalars(
        select(when).where(
            OutboxAction.community_id == community_id,
            OutboxAction.origin.like(ORIGIN + "%"),
            when >= start.astimezone(UTC),
        )
    )
    return Counter(_aware(t).astimezone(tz).date() for t in times)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def write(
    session: Session,
    community_id: int,
    *,
    slug: str,
    created_by: str,
    texts: Mapping[str, str],
    audience: Mapping[str, Any],
    deliveries: Sequence[tuple[Target, str]],
    times: Sequence[datetime | None],
    send_at: datetime | None,
) -> int:
    """The broadcast and one outbox row per delivery, in the caller's transaction."""
    broadcast = Broadcast(
        community_id=community_id,
        created_by=created_by[:64],
        texts=dict(texts),
        audience=dict(audience),
        targets=len(deliveries),
        send_at=send_at,
    )
    session.add(broadcast)
    session.flush()
    actions = [
        Action(
            kind="send_message",
            platform=target.platform,
            community=slug,
            group=target.chat,
            member=None if target.member_id is None else target.chat,
            text=text,
            reason=f"broadcast {broadcast.id}",
            key=f"broadcast:{broadcast.id}:{target.group_id}:{target.member_id}",
            detail={"broadcast": broadcast.id, "private": target.member_id is not None},
        )
        for target, text in deliveries
    ]
    enqueue(session, community_id, actions, f"{ORIGIN}{broadcast.id}", not_before=times)
    return int(broadcast.id)


def deliveries(session: Session, community_id: int, broadcast_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            OutboxAction.id,
            OutboxAction.platform,
            OutboxAction.action,
            OutboxAction.status,
            OutboxAction.error,
            OutboxAction.not_before,
            OutboxAction.done_at,
        )
        .where(
            OutboxAction.community_id == community_id,
            OutboxAction.origin == f"{ORIGIN}{broadcast_id}",
        )
        .order_by(OutboxAction.id)
    ).all()
    return [
        {
            "outbox_id": r.id,
            "platform": r.platform,
            "chat": r.action.get("group"),
            "private": bool((r.action.get("detail") or {}).get("private")),
            "status": r.status,
            "error": r.error,
            "planned_for": r.not_before,
            "done_at": r.done_at,
        }
        for r in rows
    ]


def summary(session: Session, community_id: int, broadcast_id: int) -> dict[str, Any] | None:
    found = session.scalar(
        select(Broadcast).where(
            Broadcast.community_id == community_id, Broadcast.id == broadcast_id
        )
    )
    if found is None:
        return None
    items = deliveries(session, community_id, broadcast_id)
    return {
        "id": found.id,
        "created_by": found.created_by,
        "created_at": found.created_at,
        "send_at": found.send_at,
        "texts": found.texts,
        "audience": found.audience,
        "targets": found.targets,
        "counts": dict(Counter(d["status"] for d in items)),
        "deliveries": items,
    }


def recent(session: Session, community_id: int, limit: int = 50) -> list[dict[str, Any]]:
    found = session.scalars(
        select(Broadcast)
        .where(Broadcast.community_id == community_id)
        .order_by(Broadcast.id.desc())
        .limit(limit)
    ).all()
    ids = [f"{ORIGIN}{b.id}" for b in found]
    counts: dict[str, Counter[str]] = {i: Counter() for i in ids}
    if ids:
        for origin, status, n in session.execute(
            select(OutboxAction.origin, OutboxAction.status, func.count())
            .where(OutboxAction.community_id == community_id, OutboxAction.origin.in_(ids))
            .group_by(OutboxAction.origin, OutboxAction.status)
        ):
            counts[origin][status] = int(n)
    return [
        {
            "id": b.id,
            "created_by": b.created_by,
            "created_at": b.created_at,
            "send_at": b.send_at,
            "text": next(iter(b.texts.values()), ""),
            "targets": b.targets,
            "counts": dict(counts[f"{ORIGIN}{b.id}"]),
        }
        for b in found
    ]


def horizon(now: datetime) -> datetime:
    """How far ahead a broadcast may be planned: a year."""
    return now + timedelta(days=366)
