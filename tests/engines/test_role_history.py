"""Role history: the daily role assignment writes a row when a member's role changes, and
the member's explanation shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.engines import views
from qunzhu.engines.reactor import ValueScorer
from qunzhu.engines.recompute import recompute_community
from qunzhu.pipeline import Pipeline
from qunzhu.store.intelligence import RoleChange
from qunzhu.store.models import Community, Member

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def _posts(member: str, days: range) -> list[ev.Event]:
    return [
        ev.MessagePosted(
            platform="telegram",
            community="c1",
            group="g1",
            member=member,
            member_name=member,
            occurred_at=T0 + timedelta(days=d, minutes=i),
            message_id=f"{member}-{d}-{i}",
            text=f"here is how to tune retrieval, step {i}: rerank the top {d + 10} chunks",
        )
        for d in days
        for i in range(3)
    ]


def _history(store) -> list[tuple[str, str | None]]:
    with store.engine.connect() as conn:
        return [
            (role, previous)
            for role, previous in conn.execute(
                select(RoleChange.role, RoleChange.previous_role).order_by(
                    RoleChange.day, RoleChange.id
                )
            )
        ]


def test_a_row_only_when_the_role_changes_and_explain_shows_it(store):
    pipeline = Pipeline(store, create_communities=True, reactors=[ValueScorer(store.settings.tz)])
    pipeline.run(_posts("bob", range(0, 40)), source="test")
    with store.engine.begin() as conn:
        cid = conn.execute(select(Community.id)).scalar_one()
        for day in (0, 1, 1, 2):  # the same day twice: nothing added
            recompute_community(conn, cid, (T0 + timedelta(days=day)).date(), store.settings.tz)
    first = _history(store)
    assert first == [("newcomer", None)]
    with store.engine.begin() as conn:
        for day in (20, 39):
            recompute_community(conn, cid, (T0 + timedelta(days=day)).date(), store.settings.tz)
    history = _history(store)
    assert len(history) == 2 and history[1][1] == "newcomer" and history[1][0] != "newcomer"
    with store.engine.connect() as conn:
        bob = conn.execute(select(Member.id).where(Member.display_name == "bob")).scalar_one()
        shown = views.explain_member(conn, cid, bob, "en")["role_history"]
    assert [h["role"] for h in shown] == [r for r, _ in history]
    assert shown[1]["previous_role"] == "newcomer" and shown[1]["reason"]
    assert shown[0]["day"] == "2026-03-02"
