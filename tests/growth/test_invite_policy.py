"""who_may_invite on live joins, both databases: an invitation by someone the rule leaves out
is flagged, put to an admin, or removed, as rules.uninvited_join says; allowed inviters and
joins nobody invited pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from qunzhu.events import event_from_json
from qunzhu.growth.invite_policy import Inviter, decide
from qunzhu.spec.loader import load_spec
from qunzhu.store import Store
from qunzhu.store.community import Community, Identity, Member
from qunzhu.store.connectors import OutboxAction
from qunzhu.wiring import build_pipeline

BASE = "name: 读书会\npurpose: read together\n"


def _spec(who: str, then: str = "ask") -> str:
    return BASE + f"rules: {{who_may_invite: {who}, uninvited_join: {then}}}\n"


@pytest.mark.parametrize(
    ("who", "inviter", "verdict"),
    [
        ("all", Inviter(member=False, protected=False), "allowed"),
        ("members", Inviter(member=True, protected=False), "allowed"),
        ("members", Inviter(member=False, protected=False), "ask"),
        ("operators", Inviter(member=True, protected=False), "ask"),
        ("operators", Inviter(member=True, protected=True), "allowed"),
        ("operators", None, "allowed"),
    ],
)
def test_decide(who, inviter, verdict):
    assert decide(load_spec(_spec(who)), inviter) == verdict


def _join(member: str, inviter: str | None, n: int) -> dict:
    return {
        "type": "member_joined",
        "platform": "telegram",
        "community": "acme",
        "group": "-1001",
        "member": member,
        "member_name": f"新人{member}",
        "inviter": inviter,
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=10 - n)).isoformat(),
    }


def _outbox(store: Store) -> list[tuple[str, str | None]]:
    with store.reading() as session:
        rows = session.execute(
            select(OutboxAction.kind, OutboxAction.action).order_by(OutboxAction.id)
        ).all()
    return [(k, a.get("member")) for k, a in rows if (a.get("reason") == "who_may_invite")]


@pytest.mark.parametrize(
    ("then", "expected"),
    [
        ("ask", [("alert", "guest2")]),
        ("flag", [("alert", "guest2")]),
        ("remove", [("remove", "guest2"), ("send_message", "guest2")]),
    ],
)
def test_only_operators_may_invite(store, then, expected):
    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="读书会", spec_yaml=_spec("operators", then)))
    pipeline = build_pipeline(store, "live")
    pipeline.run([event_from_json(_join("owner", None, 0))], source="test")
    pipeline.run([event_from_json(_join("mod", None, 1))], source="test")
    with store.unit_of_work() as session:
        owner = session.scalar(
            select(Identity.member_id).where(Identity.platform_user_id == "owner")
        )
        session.execute(update(Member).where(Member.id == owner).values(protected=True))
    pipeline.run(
        [
            event_from_json(_join("guest1", "owner", 2)),  # invited by the owner: fine
            event_from_json(_join("guest2", "mod", 3)),  # by a plain member: not allowed
            event_from_json(_join("guest3", None, 4)),  # through a link: not an invitation
        ],
        source="test",
    )
    assert _outbox(store) == expected
