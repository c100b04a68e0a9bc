"""Writes for one chunk of events whose ids are resolved: each event type to its table.

Every insert is ``ON CONFLICT DO NOTHING`` on the event's idempotency key and returns the
keys it really inserted, so side effects (memberships, rollups, referrals) follow only from
events that are new to the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select, update

from qunzhu import events as ev
from qunzhu.store.base import table_of
from qunzhu.store.batch import Resolved, Written, raw_payload
from qunzhu.store.bulk import insert_ignoring_conflicts, insert_new_by_key
from qunzhu.store.memberships_write import referral_row
from qunzhu.store.messages_write import write_membership_changes, write_messages
from qunzhu.store.models import (
    Activity,
    Application,
    Attendance,
    CheckInRecord,
    EventLogEntry,
    Identity,
    Message,
    Order,
    Payment,
    Referral,
)

__all__ = ["Resolved", "Writer", "Written"]


def _log_row(r: Resolved) -> dict[str, Any]:
    e = r.event
    detail = {
        k: v
        for k, v in e.to_json().items()
        if k
        not in ("platform", "community", "group", "member", "occurred_at", "key", "raw", "type")
    }
    return {
        "community_id": r.community_id,
        "group_id": r.group_id,
        "member_id": r.member_id,
        "key": e.key,
        "type": e.type_name,
        "occurred_at": e.occurred_at,
        "detail": detail,
    }


_messages = table_of(Message)
_here = and_(
    _messages.c.group_id == bindparam("b_group"),
    _messages.c.platform_message_id == bindparam("b_msg"),
)
_EDIT = update(_messages).where(_here).values(edited_text=bindparam("b_text"))
_RECALL = update(_messages).where(_here).values(recalled=True)
_REACT = update(_messages).where(_here).values(reactions=_messages.c.reactions + 1)


class Writer:
    """The per-event writer: each resolved event to its table, events sharing a table in one
    statement."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def write(self, items: Sequence[Resolved]) -> Written:
        handlers = self._handlers()
        # events sharing a handler go through it together, so joins and leaves keep their order
        by_handler: dict[str, list[Resolved]] = {}
        for r in items:
            handler = handlers.get(r.event.type_name)
            if handler is None:
                raise TypeError(f"no table for event type {r.event.type_name!r}")
            by_handler.setdefault(handler.__name__, []).append(r)
        out = Written()
        for name, group in by_handler.items():
            for r in getattr(self, name)(group, out):
                out.new.setdefault(r.event.type_name, []).append(r)
        return out

    def _handlers(self) -> dict[str, Callable[[list[Resolved], Written], list[Resolved]]]:
        return {
            "message_posted": self._messages,
            "member_joined": self._memberships,
            "member_left": self._memberships,
            "invite_used": self._invites,
            "message_edited": self._logged,
            "message_recalled": self._logged,
            "reaction_added": self._logged,
            "member_renamed": self._renamed,
            "application_submitted": self._applications,
            "payment_received": self._payments,
            "check_in": self._check_ins,
            "activity_attended": self._attendance,
        }

    def _messages(self, items: list[Resolved], out: Written) -> list[Resolved]:
        return write_messages(self.conn, items, out)

    def _memberships(self, items: list[Resolved], out: Written) -> list[Resolved]:
        return write_membership_changes(self.conn, items)

    def _insert_new(
        self, table: Any, items: list[Resolved], row: Callable[[Resolved], dict[str, Any]]
    ) -> list[Resolved]:
        keys = insert_new_by_key(self.conn, table, [row(r) for r in items])
        return [r for r in items if r.event.key in keys]

    def _invites(self, items: list[Resolved], out: Written) -> list[Resolved]:
        usable = [r for r in items if r.other_member_id not in (None, r.member_id)]
        new = self._insert_new(table_of(EventLogEntry), usable, _log_row)
        insert_ignoring_conflicts(self.conn, table_of(Referral), [referral_row(r) for r in new])
        return new

    def _logged(self, items: list[Resolved], out: Written) -> list[Resolved]:
        new = self._insert_new(table_of(EventLogEntry), items, _log_row)
        edits: list[dict[str, Any]] = []
        recalls: list[dict[str, Any]] = []
        reactions: list[dict[str, Any]] = []
        for r in new:
            e = r.event
            msg_id = getattr(e, "message_id", None)
            if isinstance(e, ev.MessageEdited):
                edits.append({"b_group": r.group_id, "b_msg": msg_id, "b_text": e.text})
            elif isinstance(e, ev.MessageRecalled) and msg_id:
                recalls.append({"b_group": r.group_id, "b_msg": msg_id})
            elif isinstance(e, ev.ReactionAdded):
                reactions.append({"b_group": r.group_id, "b_msg": msg_id})
        # one executemany per kind instead of one statement per event; each kind sets its own
        # column, and within a kind the events' order is kept (the last edit wins)
        if edits:
            self.conn.execute(_EDIT, edits)
        if recalls:
            self.conn.execute(_RECALL, recalls)
        if reactions:
            self.conn.execute(_REACT, reactions)
        return new

    def _renamed(self, items: list[Resolved], out: Written) -> list[Resolved]:
        """Renames are logged; one that names the new platform id (an IRC nick) links that
        id to the same member, so a later file under the new nick finds this member, not a
        new one. An id someone already holds keeps its member: nicks are reused, and which
        person a reused nick was is the operator's call (``qunzhu members merge``)."""
        links = [
            {
                "community_id": r.community_id,
                "member_id": r.member_id,
                "platform": e.platform,
                "platform_user_id": e.new_member,
                "name": e.new_name,
            }
            for r in items
            if isinstance(e := r.event, ev.MemberRenamed) and e.new_member not in (None, e.member)
        ]
        insert_ignoring_conflicts(self.conn, table_of(Identity), links)
        return self._logged(items, out)

    def _applications(self, items: list[Resolved], out: Written) -> list[Resolved]:
        def row(r: Resolved) -> dict[str, Any]:
            e = r.event
            assert isinstance(e, ev.ApplicationSubmitted)
            return {
                "community_id": r.community_id,
                "group_id": r.group_id,
                "member_id": r.member_id,
                "key": e.key,
                "external_id": e.application_id,
                "answers": dict(e.answers),
                "status": "pending",
                "submitted_at": e.occurred_at,
            }

        return self._insert_new(table_of(Application), items, row)

    def _payments(self, items: list[Resolved], out: Written) -> list[Resolved]:
        def row(r: Resolved) -> dict[str, Any]:
            e = r.event
            assert isinstance(e, ev.PaymentReceived)
            return {
                "community_id": r.community_id,
                "member_id": r.member_id,
                "order_id": None,
                "key": e.key,
                "provider": e.provider,
                "provider_ref": e.payment_id,
                "amount_cents": e.amount_cents,
                "currency": e.currency,
                "plan": e.plan,
                "occurred_at": e.occurred_at,
                "raw": raw_payload(e),
            }

        new = self._insert_new(table_of(Payment), items, row)
        orders = table_of(Order)
        paid = [
            {
                "b_community": r.community_id,
                "b_order": r.event.order_id,
                "b_at": r.event.occurred_at,
            }
            for r in new
            if isinstance(r.event, ev.PaymentReceived) and r.event.order_id
        ]
        if paid:
            self.conn.execute(
                update(orders)
                .where(
                    orders.c.community_id == bindparam("b_community"),
                    orders.c.order_no == bindparam("b_order"),
                    orders.c.status == "open",
                )
                .values(status="paid", paid_at=bindparam("b_at")),
                paid,
            )
        return new

    def _check_ins(self, items: list[Resolved], out: Written) -> list[Resolved]:
        def row(r: Resolved) -> dict[str, Any]:
            e = r.event
            assert isinstance(e, ev.CheckIn)
            return {
                "community_id": r.community_id,
                "group_id": r.group_id,
                "member_id": r.member_id,
                "key": e.key,
                "name": e.name,
                "occurred_at": e.occurred_at,
                "note": e.note,
            }

        return self._insert_new(table_of(CheckInRecord), items, row)

    def _attendance(self, items: list[Resolved], out: Written) -> list[Resolved]:
        acts = table_of(Activity)
        wanted = {
            (r.community_id, r.event.activity)
            for r in items
            if isinstance(r.event, ev.ActivityAttended)
        }
        insert_ignoring_conflicts(
            self.conn,
            acts,
            [{"community_id": c, "slug": s, "name": s, "kind": "online"} for c, s in wanted],
        )
        ids = {
            (c, s): i
            for c, s, i in self.conn.execute(
                select(acts.c.community_id, acts.c.slug, acts.c.id).where(
                    acts.c.slug.in_([s for _, s in wanted])
                )
            )
        }

        def row(r: Resolved) -> dict[str, Any]:
            e = r.event
            assert isinstance(e, ev.ActivityAttended)
            return {
                "community_id": r.community_id,
                "activity_id": ids[(r.community_id, e.activity)],
                "member_id": r.member_id,
                "key": e.key,
                "status": e.status,
                "occurred_at": e.occurred_at,
            }

        return self._insert_new(table_of(Attendance), items, row)
