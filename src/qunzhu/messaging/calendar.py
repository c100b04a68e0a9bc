"""The content calendar (群日历): posts planned per group — topics to start a conversation,
干货, announcements, the rules notice — once or recurring, drafted by moderators and
approved by an admin; each occurrence goes out as a broadcast.

``due`` is a job of ``qunzhu serve`` (every minute): every approved post whose next
occurrence has come is sent, and its next occurrence computed, in one transaction — so an
occurrence is sent once. An occurrence more than ``GRACE`` late (serve was not running) is
counted as missed, not sent late: a "good morning" topic at 15:00 helps nobody.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunzhu.messaging.broadcast import SendRequest, send
from qunzhu.messaging.compose import ComposeError, compose
from qunzhu.messaging.recurrence import check, first_after, zone
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store import broadcasts
from qunzhu.store.broadcasts import AudienceError
from qunzhu.store.messaging import PlannedPost

Kind = Literal["topic", "content", "announcement", "rules"]
KINDS: tuple[str, ...] = get_args(Kind)
GRACE = timedelta(hours=1)


class CalendarError(ValueError):
    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class PostRequest:
    texts: Mapping[str, str | None]
    starts_at: datetime
    timezone: str
    kind: str = "topic"
    title: str = ""
    rrule: str | None = None
    groups: Sequence[str] = ()
    segment: str | None = None
    every_group: bool = False
    created_by: str = "cli"
    approve: bool = False
    lang: str = "zh-CN"
    extra: Mapping[str, Any] = field(default_factory=dict)


def create(session: Session, community_id: int, request: PostRequest, now: datetime) -> PlannedPost:
    """Check and save a planned post (a draft unless ``approve``); raises ComposeError,
    AudienceError, RecurrenceError or CalendarError naming the field."""
    if request.kind not in KINDS:
        raise CalendarError(f"kind is one of {', '.join(KINDS)}", field="kind")
    composed = compose(request.texts, to_members=False)
    tz = zone(request.timezone)
    starts = request.starts_at  # without a zone: a time in the post's own zone
    starts = starts if starts.tzinfo is not None else starts.replace(tzinfo=tz)
    first = check(request.rrule, starts, tz, now)
    targets = broadcasts.group_targets(
        session,
        community_id,
        groups=request.groups,
        segment=request.segment,
        every_group=request.every_group,
    )
    if not targets:
        raise AudienceError("the post has no group to go to: name groups", field="groups")
    title = request.title.strip() or next(iter(composed.texts.values()))[:60]
    post = PlannedPost(
        community_id=community_id,
        kind=request.kind,
        title=title[:200],
        texts=dict(composed.texts),
        audience={
            "groups": list(request.groups),
            "segment": request.segment,
            "every_group": request.every_group,
            "lang": request.lang,
        },
        starts_at=starts,
        rrule=request.rrule.strip().removeprefix("RRULE:") if request.rrule else None,
        timezone=request.timezone,
        status="approved" if request.approve else "draft",
        created_by=request.created_by[:64],
        approved_by=request.created_by[:64] if request.approve else None,
        approved_at=now if request.approve else None,
        next_at=first,
        sent=0,
        missed=0,
    )
    session.add(post)
    session.flush()
    return post


def _post(session: Session, community_id: int, post_id: int) -> PlannedPost:
    post = session.scalar(
        select(PlannedPost).where(
            PlannedPost.community_id == community_id, PlannedPost.id == post_id
        )
    )
    if post is None:
        raise CalendarError(f"no planned post {post_id} in this community", field="id")
    return post


def approve(
    session: Session, community_id: int, post_id: int, by: str, now: datetime
) -> PlannedPost:
    post = _post(session, community_id, post_id)
    if post.status != "draft":
        raise CalendarError(f"post {post_id} is {post.status}, not a draft", field="id")
    upcoming = first_after(post.rrule, post.starts_at, zone(post.timezone), now, inclusive=True)
    if upcoming is None:
        raise CalendarError(f"post {post_id} has no occurrence left to approve", field="id")
    post.status, post.approved_by, post.approved_at, post.next_at = (
        "approved",
        by[:64],
        now,
        upcoming,
    )
    return post


def cancel(session: Session, community_id: int, post_id: int) -> PlannedPost:
    post = _post(session, community_id, post_id)
    if post.status in ("cancelled", "done"):
        raise CalendarError(f"post {post_id} is {post.status} already", field="id")
    post.status, post.next_at = "cancelled", None
    return post


def upcoming(post: PlannedPost, now: datetime, count: int = 3) -> list[datetime]:
    out: list[datetime] = []
    moment: datetime | None = post.next_at
    tz = zone(post.timezone)
    while moment is not None and len(out) < count:
        out.append(moment)
        moment = first_after(post.rrule, post.starts_at, tz, moment)
    return out


def as_dict(post: PlannedPost, now: datetime) -> dict[str, Any]:
    return {
        "id": post.id,
        "kind": post.kind,
        "title": post.title,
        "texts": post.texts,
        "audience": post.audience,
        "starts_at": post.starts_at,
        "rrule": post.rrule,
        "timezone": post.timezone,
        "status": post.status,
        "created_by": post.created_by,
        "approved_by": post.approved_by,
        "next": upcoming(post, now) if post.status in ("draft", "approved") else [],
        "sent": post.sent,
        "missed": post.missed,
        "problem": post.problem,
    }


def listing(session: Session, community_id: int, now: datetime) -> list[dict[str, Any]]:
    posts = session.scalars(
        select(PlannedPost)
        .where(PlannedPost.community_id == community_id)
        .order_by(PlannedPost.next_at.is_(None), PlannedPost.next_at, PlannedPost.id)
    )
    return [as_dict(p, now) for p in posts]


def due(
    session: Session, community_id: int, slug: str, spec: CommunitySpec, now: datetime
) -> dict[str, Any]:
    """Send every approved post whose occurrence has come; in the caller's transaction."""
    posts = session.scalars(
        select(PlannedPost)
        .where(
            PlannedPost.community_id == community_id,
            PlannedPost.status == "approved",
            PlannedPost.next_at <= now,
        )
        .order_by(PlannedPost.next_at, PlannedPost.id)
    ).all()
    sent = missed = failed = 0
    for post in posts:
        occurrence = post.next_at
        assert occurrence is not None
        tz = zone(post.timezone)
        if now - occurrence > GRACE:
            while occurrence is not None and occurrence <= now - GRACE:
                post.missed += 1
                missed += 1
                occurrence = first_after(post.rrule, post.starts_at, tz, occurrence)
            post.next_at = occurrence
            if occurrence is None:
                post.status = "done"
            if occurrence is None or occurrence > now:
                continue
        audience = post.audience
        try:
            with session.begin_nested():  # one post's stale audience must not stop the rest
                send(
                    session,
                    community_id,
                    slug,
                    spec,
                    tz,
                    SendRequest(
                        texts=post.texts,
                        groups=audience.get("groups") or (),
                        segment=audience.get("segment"),
                        every_group=bool(audience.get("every_group")),
                        lang=str(audience.get("lang") or "zh-CN"),
                        created_by=f"calendar:{post.id}",
                        audience={
                            **audience,
                            "calendar": post.id,
                            "occurrence": occurrence.isoformat(),
                        },
                    ),
                    now,
                )
            post.sent += 1
            sent += 1
        except (ComposeError, AudienceError) as exc:  # a group renamed or left since
            failed += 1
            post.status, post.problem = "draft", f"{exc.field}: {exc}"[:500]  # back to an admin
            continue
        following = first_after(post.rrule, post.starts_at, tz, occurrence)
        post.next_at = following
        if following is None:
            post.status = "done"
    return {"sent": sent, "missed": missed, "failed": failed}
