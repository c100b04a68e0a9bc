"""Routing (分流) and segments (分群): rules on tags and application answers choose the
segment; the unmatched wait in the holding group; re-segmentation previews before it
writes."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from qunzhu.growth.common import GrowthError, spec_of
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.growth import MemberTag, SegmentAssignment
from qunzhu.store.models import Application, Member


def tags_of(
    conn: Connection, community_id: int, member_id: int | None = None
) -> dict[int, set[str]]:
    """Tags by member: everyone's, or one member's."""
    t = table_of(MemberTag)
    out: dict[int, set[str]] = defaultdict(set)
    q = select(t.c.member_id, t.c.tag).where(t.c.community_id == community_id)
    if member_id is not None:
        q = q.where(t.c.member_id == member_id)
    for m, tag in conn.execute(q):
        out[int(m)].add(tag)
    return out


def set_tags(
    conn: Connection, community_id: int, member_id: int, add: list[str], remove: list[str]
) -> list[str]:
    if (
        conn.execute(
            select(Member.id).where(Member.id == member_id, Member.community_id == community_id)
        ).first()
        is None
    ):
        raise GrowthError("unknown_member", f"member {member_id} is not in this community")
    t = table_of(MemberTag)
    bad = [x for x in add if not x.strip() or len(x) > 64]
    if bad:
        raise GrowthError("bad_tag", f"tags must be 1-64 characters: {bad!r}")
    insert_ignoring_conflicts(
        conn,
        t,
        [{"member_id": member_id, "tag": x.strip(), "community_id": community_id} for x in add],
    )
    if remove:
        conn.execute(delete(t).where(t.c.member_id == member_id, t.c.tag.in_(remove)))
    return sorted(tags_of(conn, community_id, member_id).get(member_id, set()))


def latest_answers(
    conn: Connection, community_id: int, member_id: int | None = None
) -> dict[int, dict[str, str]]:
    """Each member's answers from their newest application (everyone's, or one member's)."""
    t = table_of(Application)
    out: dict[int, dict[str, str]] = {}
    q = select(t.c.member_id, t.c.answers).where(
        t.c.community_id == community_id, t.c.member_id.is_not(None)
    )
    if member_id is not None:
        q = q.where(t.c.member_id == member_id)
    for m, answers in conn.execute(q.order_by(t.c.submitted_at, t.c.id)):
        out[int(m)] = {str(k): str(v) for k, v in (answers or {}).items()}
    return out


def segment_for(spec: CommunitySpec, tags: set[str], answers: dict[str, str]) -> str | None:
    return spec.routing.segment_for(tags, answers)


def plan(conn: Connection, community_id: int) -> list[dict[str, Any]]:
    """Where every member would go under the current rules, beside where they are; manual
    assignments stay. Nothing is written."""
    spec = spec_of(conn, community_id)
    tags, answers = tags_of(conn, community_id), latest_answers(conn, community_id)
    a = table_of(SegmentAssignment)
    current = {
        int(m): (seg, src)
        for m, seg, src in conn.execute(
            select(a.c.member_id, a.c.segment, a.c.source).where(a.c.community_id == community_id)
        )
    }
    out = []
    for (m,) in conn.execute(
        select(Member.id)
        .where(Member.community_id == community_id, Member.merged_into_id.is_(None))
        .order_by(Member.id)
    ):
        old, source = current.get(int(m), (None, None))
        if source == "manual":
            continue
        new = segment_for(spec, tags.get(int(m), set()), answers.get(int(m), {}))
        if int(m) not in current or old != new:
            out.append(
                {"member_id": int(m), "from": old, "to": new, "to_group": _first_group(spec, new)}
            )
    return out


def _first_group(spec: CommunitySpec, segment: str | None) -> str | None:
    if segment is None:
        return spec.routing.holding_group
    seg = spec.segment(segment)
    return seg.groups[0] if seg and seg.groups else None


def apply(conn: Connection, community_id: int, changes: list[dict[str, Any]]) -> int:
    a = table_of(SegmentAssignment)
    now = datetime.now(UTC)
    for c in changes:
        conn.execute(delete(a).where(a.c.member_id == c["member_id"], a.c.source != "manual"))
        insert_ignoring_conflicts(
            conn,
            a,
            [
                {
                    "member_id": c["member_id"],
                    "community_id": community_id,
                    "segment": c["to"],
                    "source": "rule",
                    "assigned_at": now,
                }
            ],
        )
    return len(changes)


def assign(
    conn: Connection, community_id: int, member_id: int, segment: str | None, manual: bool = False
) -> dict[str, Any]:
    spec = spec_of(conn, community_id)
    if segment is not None and spec.segment(segment) is None:
        raise GrowthError("unknown_segment", f"segment {segment!r} is not in the spec")
    a = table_of(SegmentAssignment)
    conn.execute(delete(a).where(a.c.member_id == member_id))
    insert_ignoring_conflicts(
        conn,
        a,
        [
            {
                "member_id": member_id,
                "community_id": community_id,
                "segment": segment,
                "source": "manual" if manual else "rule",
                "assigned_at": datetime.now(UTC),
            }
        ],
    )
    return {"member_id": member_id, "segment": segment, "group": _first_group(spec, segment)}


def route_member(conn: Connection, community_id: int, member_id: int) -> dict[str, Any]:
    """Route one member now (after an application, a new tag): keeps a manual choice."""
    a = table_of(SegmentAssignment)
    found = conn.execute(select(a.c.segment, a.c.source).where(a.c.member_id == member_id)).first()
    if found is not None and found.source == "manual":
        return {"member_id": member_id, "segment": found.segment, "manual": True}
    spec = spec_of(conn, community_id)
    tags = tags_of(conn, community_id, member_id).get(member_id, set())
    answers = latest_answers(conn, community_id, member_id).get(member_id, {})
    return assign(conn, community_id, member_id, segment_for(spec, tags, answers))
