"""A review moves a member's points, and their role follows in the same request: a
disruptor whose flag a moderator undoes is not one when the page comes back, and one whose
flags a moderator approves becomes one — without waiting for the daily recompute."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import select

from qunzhu.engines.recompute import recompute_community
from qunzhu.store.intelligence import RoleAssignment, RoleChange
from qunzhu.store.models import AuditEntry, MemberDaily, Message, ModerationAction


def _roles(store, member_id):
    with store.reading() as session:
        return set(
            session.scalars(
                select(RoleAssignment.role).where(RoleAssignment.member_id == member_id)
            )
        )


def _sanction(store, community_id, member, key, *, status="applied", points=3.0):
    with store.unit_of_work() as session:
        action = ModerationAction(
            community_id=community_id,
            member_id=member,
            key=key,
            action="warn",
            rule="contact_solicitation",
            detector="phone",
            score=0.9,
            points=points,
            status=status,
            mode="live",
        )
        session.add(action)
        session.flush()
        return action.id


def _recompute(store, community_id):
    with store.engine.begin() as conn:
        day = datetime.now(store.settings.tz).date()
        recompute_community(conn, community_id, day, store.settings.tz, score=False)


def _decide(client, decision, ids):
    token = csrf_from(client.get("/c/acme/review?status=all").text)
    answer = client.post(
        "/c/acme/review/decide",
        data={"csrf_token": token, "decision": decision, "ids": [str(i) for i in ids]},
    )
    assert answer.status_code == 200


def test_an_undone_flag_takes_the_disruptor_role_back_in_the_same_request(client, acme, personas):
    store, community = personas.store, personas.communities["acme"]
    first = _sanction(store, community, acme["u2"], "s1")
    _sanction(store, community, acme["u2"], "s2")
    _recompute(store, community)
    assert _roles(store, acme["u2"]) == {"disruptor"}  # 6 points ≥ disruptor_points 6
    log_in(client, "moderator")
    _decide(client, "undo", [first])
    assert "disruptor" not in _roles(store, acme["u2"])
    with store.reading() as session:
        assert session.get_one(ModerationAction, first).points == 0.0
        change = session.scalars(
            select(RoleChange).where(RoleChange.member_id == acme["u2"]).order_by(RoleChange.id)
        ).all()[-1]
        assert change.previous_role == "disruptor" and change.role != "disruptor"
        audited = session.scalar(select(AuditEntry).where(AuditEntry.action == "moderation.undo"))
        assert audited is not None and audited.target == str(first)
    # the rules give the same role as a full recompute does
    after = _roles(store, acme["u2"])
    _recompute(store, community)
    assert _roles(store, acme["u2"]) == after


def test_approved_flags_make_a_disruptor_at_once(client, acme, personas):
    store, community = personas.store, personas.communities["acme"]
    _sanction(store, community, acme["u2"], "s1")
    _recompute(store, community)
    assert "disruptor" not in _roles(store, acme["u2"])
    # the seeded phone-number flag waits for review; its rule's severity is 3 by default
    log_in(client, "moderator")
    _decide(client, "approve", [acme["action"]])
    assert _roles(store, acme["u2"]) == {"disruptor"}


def test_an_undone_flag_is_taken_off_the_days_flagged_count(client, acme, personas):
    store = personas.store
    with store.unit_of_work() as session:
        action = session.get_one(ModerationAction, acme["action"])
        message = session.get_one(Message, action.message_id)
        day = message.occurred_at.astimezone(store.settings.tz).date()
        row = session.scalars(
            select(MemberDaily).where(
                MemberDaily.member_id == action.member_id, MemberDaily.day == day
            )
        ).one()
        row.flagged = 1  # the fixture flags the message after the pipeline counted it
    log_in(client, "moderator")
    _decide(client, "undo", [acme["action"]])
    with store.reading() as session:
        assert session.get_one(Message, message.id).flagged is False
        assert session.get_one(MemberDaily, (row.group_id, row.member_id, day)).flagged == 0


def test_escalating_a_member_updates_the_role_at_once(client, acme, personas):
    store, community = personas.store, personas.communities["acme"]
    _sanction(store, community, acme["u2"], "s1", points=1.0)
    _recompute(store, community)
    assert "disruptor" not in _roles(store, acme["u2"])
    log_in(client, "moderator")
    pending = _sanction(store, community, acme["u2"], "p1", status="pending_review", points=0)
    _decide(client, "escalate", [pending])
    # the next rung of the default ladder carries points over the disruptor line or not:
    # whichever it is, the role is what a full recompute gives
    now = _roles(store, acme["u2"])
    _recompute(store, community)
    assert _roles(store, acme["u2"]) == now


@pytest.mark.parametrize("how", ["undo", "appeal"])
def test_an_undo_or_upheld_appeal_through_the_api_takes_the_role_back_at_once(
    client, acme, personas, how
):
    store, community = personas.store, personas.communities["acme"]
    first = _sanction(store, community, acme["u2"], "s1")
    _sanction(store, community, acme["u2"], "s2")
    _recompute(store, community)
    assert _roles(store, acme["u2"]) == {"disruptor"}
    base = f"/api/v1/communities/acme/moderation/items/{first}"
    if how == "undo":
        answer = client.post(f"{base}/undo", json={}, headers=personas["moderator"].headers)
    else:
        answer = client.post(
            f"{base}/appeal",
            json={"reason": "my own shop number", "decision": "uphold"},
            headers=personas["moderator"].headers,
        )
    assert answer.status_code == 200, answer.text
    assert "disruptor" not in _roles(store, acme["u2"])


def _flag_days(store, community_id, member, flagged):
    """The member's day rows say ``flagged`` messages, as the pipeline counts a flag."""
    with store.unit_of_work() as session:
        rows = session.scalars(
            select(MemberDaily).where(
                MemberDaily.community_id == community_id, MemberDaily.member_id == member
            )
        ).all()
        assert rows
        rows[-1].flagged = flagged


def test_flags_waiting_for_review_never_make_a_disruptor(acme, personas):
    store, community = personas.store, personas.communities["acme"]
    for n in range(8):  # eight classifier flags, none reviewed: no points yet
        _sanction(store, community, acme["u2"], f"p{n}", status="pending_review", points=0)
    _flag_days(store, community, acme["u2"], 8)
    _recompute(store, community)
    assert "disruptor" not in _roles(store, acme["u2"])


def test_expired_points_no_longer_make_a_disruptor(acme, personas):
    store, community = personas.store, personas.communities["acme"]
    first = _sanction(store, community, acme["u2"], "s1")
    second = _sanction(store, community, acme["u2"], "s2")
    _recompute(store, community)
    assert _roles(store, acme["u2"]) == {"disruptor"}
    with store.unit_of_work() as session:
        session.get_one(ModerationAction, first).expires_at = datetime(2020, 1, 1, tzinfo=UTC)
        session.get_one(ModerationAction, second).expires_at = datetime(2099, 1, 1, tzinfo=UTC)
    _recompute(store, community)
    assert "disruptor" not in _roles(store, acme["u2"])  # 3 points stand, below 6
