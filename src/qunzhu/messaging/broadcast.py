"""A broadcast from request to queued deliveries: compose (check the variables), resolve the
audience, render each target's text, plan each delivery's time (quiet hours, daily cap), and
write it all in the caller's transaction — or only show it (a preview)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from qunzhu.messaging.compose import ComposeError, compose
from qunzhu.messaging.pacing import plan
from qunzhu.spec.schema import CommunitySpec
from qunzhu.spec.zones import zone_named
from qunzhu.store import broadcasts
from qunzhu.store.broadcasts import AudienceError, Target

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
