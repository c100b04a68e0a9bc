"""Writing joins, leaves and invitations: history once each, current state, referrals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, update

from qunzhu import events as ev
from qunzhu.events import make_key
from qunzhu.store.base import table_of
from qunzhu.store.batch import Resolved, raw_payload
from qunzhu.store.bulk import insert_ignoring_conflicts, insert_new_by_key
from qunzhu.store.models import Membership, MembershipEvent, Referral


def membership_event_row(r: Resolved) -> dict[str, Any]:
    e = r.event
    if isinstance(e, ev.MemberJoined):
        kind, via, detail = "join", e.via, e.invite_code
    else:
        assert isinstance(e, ev.MemberLeft)
        kind = {"left": "leave", "removed": "remove", "banned": "ban"}[e.reason]
        via, detail = None, None
    return {
        "community_id": r.community_id,
        "group_id": r.group_id,
        "member_id": r.member_id,
        "key": e.key,
        "kind": kind,
        "occurred_at": e.occurred_at,
        "via": via,
        "other_member_id": r.other_member_id,
        "detail": detail,
        "raw": raw_payload(e),
    }


def referral_row(r: Resolved) -> dict[str, Any]:
    e = r.event
    code = e.invite_code if isinstance(e, ev.MemberJoined) else getattr(e, "code", None)
    # one referral per (group, inviter, invitee), however many events tell of it
    key = make_key("referral", r.community_id, r.group_id, r.other_member_id, r.member_id)
    return {
        "community_id": r.community_id,
        "group_id": r.group_id,
        "inviter_member_id": r.other_member_id,
        "invitee_member_id": r.member_id,
        "key": key,
        "code": code,
        "occurred_at": e.occurred_at,
        "status": "pending",
    }


def write_memberships(conn: Connection, items: list[Resolved]) -> list[Resolved]:
    """Record joins and leaves once each and bring the current membership up to date."""
    keys = insert_new_by_key(
        conn, table_of(MembershipEvent), [membership_event_row(r) for r in items]
    )
    new = [r for r in items if r.event.key in keys]
    table = table_of(Membership)
    for r in sorted(new, key=lambda r: r.event.occurred_at):
        e = r.event
        pair = and_(table.c.group_id == r.group_id, table.c.member_id == r.member_id)
        if isinstance(e, ev.MemberJoined):
            insert_ignoring_conflicts(
                conn,
                table,
                [
                    {
                        "community_id": r.community_id,
                        "group_id": r.group_id,
                        "member_id": r.member_id,
                        "status": "active",
                        "joined_at": e.occurred_at,
                        "left_at": None,
                        "inviter_member_id": r.other_member_id,
                        "join_via": e.via,
                    }
                ],
            )
            # a later join (a re-join) supersedes; an older one only fills what is missing
            conn.execute(
                update(table)
                .where(
                    pair,
                    (table.c.left_at.is_(None)) | (table.c.left_at <= e.occurred_at),
                    (table.c.joined_at.is_(None))
                    | (table.c.joined_at >= e.occurred_at)
                    | (table.c.left_at.is_not(None)),
                )
                .values(
                    status="active",
                    joined_at=e.occurred_at,
                    left_at=None,
                    inviter_member_id=r.other_member_id,
                    join_via=e.via,
                )
            )
        else:
            assert isinstance(e, ev.MemberLeft)
            status = {"left": "left", "removed": "removed", "banned": "banned"}[e.reason]
            conn.execute(
                update(table)
                .where(
                    pair,
                    (table.c.joined_at.is_(None)) | (table.c.joined_at <= e.occurred_at),
                )
                .values(status=status, left_at=e.occurred_at)
            )
    record_referrals(conn, new)
    return new


def record_referrals(conn: Connection, new: list[Resolved]) -> None:
    """A referral for each newly stored join that names someone else as its inviter."""
    referred = [
        r
        for r in new
        if isinstance(r.event, ev.MemberJoined)
        and r.other_member_id is not None
        and r.other_member_id != r.member_id
    ]
    insert_ignoring_conflicts(conn, table_of(Referral), [referral_row(r) for r in referred])
