"""The snapshots the seat decisions (:mod:`qunzhu.growth.seat_decide`) are made from: the
group's cap and size policy, the segment's other groups, the holders one-in-one-out may
evict and their value, the head of the waitlist. Reads only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from qunzhu.growth.common import parsed_spec, place_of
from qunzhu.growth.seat_decide import FullGroup, LeaveSnapshot, OtherGroup, Waiting
from qunzhu.growth.seats import holds_seat, seat_holders
from qunzhu.growth.value import value_of
from qunzhu.growth.waitlist import head_of_waitlist
from qunzhu.spec.positioning import SizePolicy
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.base import table_of
from qunzhu.store.growth import MemberTag
from qunzhu.store.intelligence import RoleAssignment, TierState
from qunzhu.store.models import Community, Group, Member
from qunzhu.store.uncounted import uncounted_ids

OFFERS = 5  # waiting members offered a freed seat in turn, at most


def group_cap(own_cap: int | None, spec_yaml: str | None) -> int | None:
    """The cap admission enforces: the group's own, else the spec's (a community that wrote
    no spec has only the caps set on groups)."""
    if own_cap is not None:
        return own_cap
    return parsed_spec(spec_yaml).size.cap if spec_yaml else None


def size_policy(conn: Connection, group_id: int) -> tuple[int, CommunitySpec, int | None]:
    """The group's community, its spec, and the group's cap: the group's own, else the
    spec's (a community that wrote no spec has only the caps set on groups)."""
    row = conn.execute(
        select(Group.community_id, Group.cap, Community.spec_yaml)
        .join(Community, Community.id == Group.community_id)
        .where(Group.id == group_id)
    ).one()
    spec = parsed_spec(row.spec_yaml or "")
    return int(row.community_id), spec, group_cap(row.cap, row.spec_yaml)


def segment_groups(conn: Connection, spec: CommunitySpec, group_id: int) -> list[int]:
    """The other groups of this group's segment, in the spec's order."""
    g = conn.execute(select(Group).where(Group.id == group_id)).one()
    for seg in spec.segments:
        if g.platform_group_id in seg.groups or g.segment == seg.id:
            ids = []
            for pgid in seg.groups:
                found = conn.execute(
                    select(Group.id).where(
                        Group.community_id == g.community_id, Group.platform_group_id == pgid
                    )
                ).scalar()
                if found is not None and found != group_id:
                    ids.append(int(found))
            return ids
    if g.segment:
        return [
            int(i)
            for (i,) in conn.execute(
                select(Group.id)
                .where(
                    Group.community_id == g.community_id,
                    Group.segment == g.segment,
                    Group.id != group_id,
                )
                .order_by(Group.id)
            )
        ]
    return []


def is_protected(
    conn: Connection, policy: SizePolicy, group_id: int, member_ids: list[int]
) -> set[int]:
    """Members never removed: flagged protected, bots and staff (not ranked by value, so
    never the least valuable), or named in ``size.protected`` by id, tier, role or tag
    (owner, admin, mentor…)."""
    names = set(policy.protected)
    out = {
        int(m)
        for (m,) in conn.execute(
            select(Member.id).where(Member.id.in_(member_ids), Member.protected.is_(True))
        )
    }
    community_id = conn.execute(select(Group.community_id).where(Group.id == group_id)).scalar()
    if community_id is not None:
        out |= set(member_ids) & uncounted_ids(conn, int(community_id))
    out |= {m for m in member_ids if str(m) in names}
    if names:
        out |= {
            int(m)
            for (m,) in conn.execute(
                select(TierState.member_id).where(
                    TierState.member_id.in_(member_ids), TierState.tier.in_(names)
                )
            )
        }
        out |= {
            int(m)
            for (m,) in conn.execute(
                select(RoleAssignment.member_id).where(
                    RoleAssignment.group_id == group_id,
                    RoleAssignment.member_id.in_(member_ids),
                    RoleAssignment.role.in_(names),
                )
            )
        }
        t = table_of(MemberTag)
        out |= {
            int(m)
            for (m,) in conn.execute(
                select(t.c.member_id).where(t.c.member_id.in_(member_ids), t.c.tag.in_(names))
            )
        }
    return out


def load_full_group(
    conn: Connection,
    spec: CommunitySpec,
    group_id: int,
    member_id: int,
    cap: int,
    now: datetime,
) -> FullGroup:
    """What the size policy of a full group decides from; only its own policy's part."""
    policy = spec.size
    others: tuple[OtherGroup, ...] = ()
    values: dict[int, float] = {}
    match policy.policy:
        case "new_group":
            others = tuple(
                OtherGroup(o, size_policy(conn, o)[2] or policy.cap, place_of(conn, o, member_id))
                for o in segment_groups(conn, spec, group_id)
            )
        case "one_in_one_out":
            holders = [m for m in seat_holders(conn, group_id) if m != member_id]
            safe = is_protected(conn, policy, group_id, holders)
            values = value_of(conn, [m for m in holders if m not in safe], now.date())
        case "waitlist":
            pass
    return FullGroup(
        group_id,
        member_id,
        cap,
        policy,
        here=place_of(conn, group_id, member_id),
        hub=place_of(conn, group_id, None),
        others=others,
        values=values,
    )


def load_leave(conn: Connection, group_id: int, member_id: int) -> LeaveSnapshot:
    if not holds_seat(conn, group_id, member_id):
        return LeaveSnapshot(group_id, member_id, held_seat=False)
    waiting = tuple(Waiting(e, m) for e, m in head_of_waitlist(conn, group_id, OFFERS))
    return LeaveSnapshot(group_id, member_id, held_seat=True, waiting=waiting)
