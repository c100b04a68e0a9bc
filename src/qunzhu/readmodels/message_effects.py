"""What a message qunzhu sent caused (群发效果): for each group a broadcast or a calendar post
reached, the 24 hours after it went out — direct replies to it, messages and distinct members
who spoke, value those messages earned, reactions, and people who left — beside the same 24
hours a week earlier (the group's usual), so "12 messages" can be read as more or less than
normal. Private messages are not measured (nothing public follows them).

Value comes from the engines: it is counted once ``qunzhu recompute`` (or serve's schedule)
scored the messages of the window. A window not over yet is marked ``complete: false``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunzhu.store.activity import Message
from qunzhu.store.community import Group, MembershipEvent
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.messaging import Broadcast

WINDOW = timedelta(hours=24)
BASELINE_SHIFT = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Window:
    messages: int = 0
    speakers: int = 0
    value: float = 0.0
    reactions: int = 0
    leaves: int = 0


@dataclass(frozen=True, slots=True)
class GroupEffect:
    group_id: int
    group: str
    sent_at: datetime
    complete: bool
    replies: int
    after: Window
    usual: Window


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _window(session: Session, community_id: int, group_id: int, start: datetime) -> Window:
    end = start + WINDOW
    m = Message
    row = session.execute(
        select(
            func.count(),
            func.count(func.distinct(m.member_id)),
            func.coalesce(func.sum(m.value), 0.0),
            func.coalesce(func.sum(m.reactions), 0),
        ).where(
            m.community_id == community_id,
            m.group_id == group_id,
            m.occurred_at >= start,
            m.occurred_at < end,
        )
    ).one()
    e = MembershipEvent
    leaves = session.scalar(
        select(func.count()).where(
            e.community_id == community_id,
            e.group_id == group_id,
            e.kind.in_(("leave", "remove", "ban")),
            e.occurred_at >= start,
            e.occurred_at < end,
        )
    )
    return Window(int(row[0]), int(row[1]), round(float(row[2]), 2), int(row[3]), int(leaves or 0))


def effects_of(
    session: Session, community_id: int, broadcast_id: int, now: datetime | None = None
) -> list[GroupEffect]:
    """Each group the broadcast reached, with what followed."""
    now = now or datetime.now(UTC)
    rows = session.execute(
        select(
            OutboxAction.platform, OutboxAction.action, OutboxAction.result, OutboxAction.done_at
        )
        .where(
            OutboxAction.community_id == community_id,
            OutboxAction.origin == f"broadcast:{broadcast_id}",
            OutboxAction.status == "sent",
        )
        .order_by(OutboxAction.id)
    ).all()
    out: list[GroupEffect] = []
    for platform, action, result, done_at in rows:
        if (action.get("detail") or {}).get("private") or done_at is None:
            continue
        group = session.execute(
            select(Group.id, Group.name).where(
                Group.community_id == community_id,
                Group.platform == platform,
                Group.platform_group_id == str(action.get("group")),
            )
        ).first()
        if group is None:
            continue
        sent_at = _aware(done_at)
        said = str((result or {}).get("message_id") or "")
        replies = 0
        if said:
            replies = int(
                session.scalar(
                    select(func.count()).where(
                        Message.community_id == community_id,
                        Message.group_id == group.id,
                        Message.reply_to_platform_id == said,
                        Message.occurred_at >= sent_at,
                        Message.occurred_at < sent_at + WINDOW,
                    )
                )
                or 0
            )
        out.append(
            GroupEffect(
                group_id=group.id,
                group=group.name,
                sent_at=sent_at,
                complete=now >= sent_at + WINDOW,
                replies=replies,
                after=_window(session, community_id, group.id, sent_at),
                usual=_window(session, community_id, group.id, sent_at - BASELINE_SHIFT),
            )
        )
    return out


def summary(effects: Sequence[GroupEffect]) -> dict[str, Any]:
    """The effects of one broadcast added up over its groups."""

    def total(which: str) -> dict[str, float]:
        windows = [getattr(e, which) for e in effects]
        return {
            "messages": sum(w.messages for w in windows),
            "speakers": sum(w.speakers for w in windows),
            "value": round(sum(w.value for w in windows), 2),
            "reactions": sum(w.reactions for w in windows),
            "leaves": sum(w.leaves for w in windows),
        }

    return {
        "groups": len(effects),
        "complete": all(e.complete for e in effects),
        "replies": sum(e.replies for e in effects),
        "after": total("after"),
        "usual": total("usual"),
        "by_group": [asdict(e) for e in effects],
    }


def calendar_effects(
    session: Session, community_id: int, post_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """A planned post's occurrences so far, each occurrence's effect added up, and the mean
    per occurrence (what ranks topics)."""
    ids = session.scalars(
        select(Broadcast.id).where(
            Broadcast.community_id == community_id, Broadcast.created_by == f"calendar:{post_id}"
        )
    ).all()
    each = [summary(effects_of(session, community_id, b, now)) for b in ids]
    n = len(each) or 1
    return {
        "occurrences": len(each),
        "mean_replies": round(sum(e["replies"] for e in each) / n, 2),
        "mean_speakers": round(sum(e["after"]["speakers"] for e in each) / n, 2),
        "mean_value": round(sum(e["after"]["value"] for e in each) / n, 2),
        "mean_leaves": round(sum(e["after"]["leaves"] for e in each) / n, 2),
    }
