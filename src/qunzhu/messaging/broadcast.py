"""A broadcast from request to queued deliveries: compose (check the variables), resolve the
audience, render each target's text, plan each delivery's time (quiet hours, daily cap), and
write it all in the caller's transaction — or only show it (a preview)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunzhu.messaging.compose import ComposeError, compose
from qunzhu.messaging.pacing import plan
from qunzhu.spec.schema import CommunitySpec
from qunzhu.spec.zones import zone_named
from qunzhu.store import broadcasts
from qunzhu.store.broadcasts import AudienceError, Target
from qunzhu.store.models import Membership

MAX_TARGETS = 20_000


@dataclass(frozen=True, slots=True)
class SendRequest:
    texts: Mapping[str, str | None]
    groups: Sequence[str] = ()
    segment: str | None = None
    every_group: bool = False
    members: Sequence[str] = ()
    lang: str = "zh-CN"
    send_at: datetime | None = None
    created_by: str = "cli"
    audience: Mapping[str, Any] = field(default_factory=dict)
    # the groups the sender may speak in (a moderator's assigned groups); None: every group
    allowed_groups: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class Planned:
    deliveries: list[tuple[Target, str]]
    times: list[datetime | None]
    texts: Mapping[str, str]

    def as_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "platform": t.platform,
                "group": t.group_name or None,
                "member": t.member_name or None,
                "private": t.member_id is not None,
                "text": text,
                "planned_for": when,
            }
            for (t, text), when in zip(self.deliveries, self.times, strict=True)
        ]


def community_zone(spec: CommunitySpec, default: ZoneInfo) -> ZoneInfo:
    """Where quiet hours and a send's planned time are counted: the spec's ``timezone``,
    else the server's."""
    return zone_named(spec.timezone) or default


def prepare(
    session: Session,
    community_id: int,
    spec: CommunitySpec,
    tz: ZoneInfo,
    request: SendRequest,
    now: datetime,
) -> Planned:
    """Everything a send would queue, checked; raises ComposeError or AudienceError."""
    to_members = bool(request.members)
    if to_members and (request.groups or request.segment or request.every_group):
        raise AudienceError(
            "send to groups or to members one by one, not both in one message", field="members"
        )
    composed = compose(request.texts, to_members=to_members)
    if request.send_at is not None and request.send_at > broadcasts.horizon(now):
        raise ComposeError("a send can be planned at most a year ahead", field="send_at")
    if to_members:
        targets = broadcasts.member_targets(session, community_id, request.members)
    else:
        targets = broadcasts.group_targets(
            session,
            community_id,
            groups=request.groups,
            segment=request.segment,
            every_group=request.every_group,
        )
    if not targets:
        raise AudienceError(
            "the message has nobody to go to: name groups or members", field="groups"
        )
    _within_allowed(session, community_id, targets, request)
    if len(targets) > MAX_TARGETS:
        raise AudienceError(
            f"{len(targets)} targets; one broadcast reaches at most {MAX_TARGETS}", field="members"
        )
    lang = "en" if request.lang.lower().startswith("en") else "zh-CN"
    tier_names = {t.id: (t.name_en or t.name_zh) if lang == "en" else t.name_zh for t in spec.tiers}
    deliveries = [(t, composed.render(lang, t.values(spec.name, tier_names, now))) for t in targets]
    times = plan(
        len(deliveries),
        now=now,
        tz=tz,
        quiet=spec.messaging.quiet_window(),
        daily_cap=spec.messaging.daily_cap,
        planned=broadcasts.planned_per_day(session, community_id, tz, now),
        send_at=request.send_at,
    )
    return Planned(deliveries=deliveries, times=times, texts=dict(composed.texts))


class NotAssigned(AudienceError):
    """The sender is a moderator and the audience reaches beyond the groups assigned to
    them: a refusal of who asks (403), not of what was asked."""


def _within_allowed(
    session: Session, community_id: int, targets: Sequence[Target], request: SendRequest
) -> None:
    """A moderator speaks in the groups assigned to them, and privately to members of those
    groups; a whole segment or every group takes an admin."""
    allowed = request.allowed_groups
    if allowed is None:
        return
    if request.segment or request.every_group:
        raise NotAssigned(
            "a whole segment or every group takes an admin: name your groups", field="groups"
        )
    wanted = [t.member_id for t in targets if t.member_id is not None]
    reachable = (
        set(
            session.scalars(
                select(Membership.member_id).where(
                    Membership.community_id == community_id,
                    Membership.member_id.in_(wanted),
                    Membership.group_id.in_(sorted(allowed)),
                )
            )
        )
        if wanted
        else set()
    )
    for t in targets:
        ok = t.member_id in reachable if t.member_id is not None else t.group_id in allowed
        if not ok:
            where = t.group_name or t.member_name or t.chat
            raise NotAssigned(
                f"{where} is not in a group assigned to you: an admin sends there, or assigns "
                "you the group (Operators page)",
                field="members" if t.member_id is not None else "groups",
            )


def send(
    session: Session,
    community_id: int,
    slug: str,
    spec: CommunitySpec,
    tz: ZoneInfo,
    request: SendRequest,
    now: datetime,
) -> tuple[int, Planned]:
    """Queue the broadcast in the caller's transaction; its id and what was planned."""
    planned = prepare(session, community_id, spec, tz, request, now)
    audience = dict(request.audience) or {
        "groups": list(request.groups),
        "segment": request.segment,
        "every_group": request.every_group,
        "members": list(request.members),
        "lang": request.lang,
    }
    broadcast_id = broadcasts.write(
        session,
        community_id,
        slug=slug,
        created_by=request.created_by,
        texts=planned.texts,
        audience=audience,
        deliveries=planned.deliveries,
        times=planned.times,
        send_at=request.send_at,
    )
    return broadcast_id, planned
