"""What every growth module needs: the community's spec, where a member can be reached on a
platform (to address actions), and the error type that carries a reason for the operator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, select

from qunzhu import events as ev
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.models import Community, Group, Identity, Membership
from qunzhu.store.quarantine import RejectedRecord, quarantine_rows
from qunzhu.store.resolve import community_id_by_slug


class GrowthError(ValueError):
    """Refused input: ``reason`` is a stable code, the message says what and where."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def default_spec() -> CommunitySpec:
    return CommunitySpec(name="community", purpose="not written yet")


def spec_of(conn: Connection, community_id: int) -> CommunitySpec:
    """The community's spec; the defaults when it has none or one that does not validate
    (``qunzhu spec lint`` tells the operator why)."""
    text = conn.execute(select(Community.spec_yaml).where(Community.id == community_id)).scalar()
    return parsed_spec(text or "")


@lru_cache(maxsize=64)
def parsed_spec(text: str) -> CommunitySpec:
    # keyed by the text itself: an edited spec is a new key, so nothing stale is served
    if not text:
        return default_spec()
    from qunzhu.spec.loader import load_spec  # YAML machinery: load late

    try:
        return load_spec(text)
    except Exception:  # an invalid spec must not stop admission; the lint reports it
        return default_spec()


def community_id_of(conn: Connection, slug: str) -> int:
    found = community_id_by_slug(conn, slug)
    if found is None:
        raise GrowthError("unknown_community", f"community {slug!r} does not exist")
    return found


@dataclass(frozen=True)
class Place:
    """A member in a group, as a platform knows them: what an Action is addressed to."""

    platform: str
    community: str
    group: str
    member: str | None


def place_of(conn: Connection, group_id: int, member_id: int | None) -> Place:
    row = conn.execute(
        select(Group.platform, Group.platform_group_id, Community.slug)
        .join(Community, Community.id == Group.community_id)
        .where(Group.id == group_id)
    ).one()
    user = None
    if member_id is not None:
        user = conn.execute(
            select(Identity.platform_user_id)
            .where(Identity.member_id == member_id, Identity.platform == row.platform)
            .limit(1)
        ).scalar()
        user = user or str(member_id)
    return Place(row.platform, row.slug, row.platform_group_id, user)


def action(
    kind: ev.ActionKind, place: Place, *, text: str | None = None, reason: str = "", **detail: Any
) -> ev.Action:
    return ev.Action(
        kind=kind,
        platform=place.platform,
        community=place.community,
        group=place.group,
        member=place.member,
        text=text,
        reason=reason,
        detail=detail,
    )


def active_groups_of(conn: Connection, member_id: int) -> list[int]:
    return [
        int(g)
        for (g,) in conn.execute(
            select(Membership.group_id).where(
                Membership.member_id == member_id, Membership.status == "active"
            )
        )
    ]


def record_refusal(
    conn: Connection, community_id: int | None, source: str, reason: str, what: str
) -> None:
    """Keep a refused input with its reason (once, however often it is retried)."""
    quarantine_rows(
        conn, [RejectedRecord(source=source, line=0, reason=reason, text=what)], community_id
    )


def aware(at: datetime) -> datetime:
    """Datetimes from SQLite's own functions may come back naive: they are UTC."""
    from datetime import UTC

    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
