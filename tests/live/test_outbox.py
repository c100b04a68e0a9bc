"""The outbox: actions decided outside the live pipeline are queued in the decision's
transaction, claimed once, carried out by the hub's executor, and their outcome written back
(on the outbox row, on the moderation decision, on the member's invite code)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from qunzhu_tests_connectors import count, rows
from sqlalchemy import select

from qunzhu.events import Action
from qunzhu.live.hub import ConnectorHub
from qunzhu.store import Store, outbox
from qunzhu.store.connectors import ConnectorAction, ConnectorAlert, OutboxAction
from qunzhu.store.models import Community, Member, ModerationAction


def _action(n: int = 1, *, platform: str = "telegram", kind: str = "warn") -> Action:
    return Action(
        kind=kind,
        platform=platform,
        community="acme",
        group="-100",
        member=str(1000 + n),
        text=f"notice {n}",
    )


def _cid(store: Store) -> int:
    with store.reading() as session:
        return int(session.scalar(select(Community.id).where(Community.slug == "acme")) or 0)


def _statuses(store: Store) -> list[str]:
    return [s for (s,) in rows(store, select(OutboxAction.status).order_by(OutboxAction.id))]


def test_a_rolled_back_decision_queues_nothing(store, community):
    cid = _cid(store)
    try:
        with store.unit_of_work() as session:
            assert outbox.enqueue(session, cid, [_action()], "review:1")
            raise RuntimeError("the decision failed after its actions were queued")
    except RuntimeError:
        pass
    assert count(store, OutboxAction) == 0


def test_the_same_decision_twice_is_queued_once(store, community):
    cid = _cid(store)
    for _ in range(2):
        with store.unit_of_work() as session:
            outbox.enqueue(session, cid, [_action(1), _action(2)], "review:7")
    assert count(store, OutboxAction) == 2
    with store.unit_of_work() as session:  # another origin is another decision
        assert len(outbox.enqueue(session, cid, [_action(1)], "review:8")) == 1
    assert count(store, OutboxAction) == 3


def test_a_row_is_claimed_once_and_again_only_when_its_claim_is_stale(store, community):
    cid = _cid(store)
    with store.unit_of_work() as session:
        outbox.enqueue(session, cid, [_action(n) for n in range(3)], "review:1")
    first = outbox.claim(store, "a")
    assert [a.member for a in first] == ["1000", "1001", "1002"]
    assert all(isinstance(a.detail["outbox"], int) for a in first)
    assert outbox.claim(store, "b") == []
    later = datetime.now(UTC) + outbox.STALE_CLAIM + timedelta(seconds=1)
    assert len(outbox.claim(store, "b", now=later)) == 3  # the first claimer died


def test_two_drainers_racing_take_each_row_once(store, community):
    cid = _cid(store)
    with store.unit_of_work() as session:
        outbox.enqueue(session, cid, [_action(n) for n in range(60)], "bulk:1")
    taken: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def drain(n: int) -> None:
        start.wait()
        while batch := outbox.claim(store, f"w{n}", limit=7):
            taken[n].extend(int(a.detail["outbox"]) for a in batch)

    threads = [threading.Thread(target=drain, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(taken[0] + taken[1]) == sorted(set(taken[0] + taken[1]))
    assert len(taken[0]) + len(taken[1]) == 60


def test_with_no_connector_the_action_becomes_an_alert(store, community, hub):
    cid = _cid(store)
    with store.unit_of_work() as session:
        outbox.enqueue(session, cid, [_action(1, kind="mute")], "review:3")
    assert hub.outbox.run_once() == 1
    assert hub.executor.drain()
    [row] = rows(store, select(OutboxAction.status, OutboxAction.error, OutboxAction.done_at))
    assert row.status == "alerted" and row.error == "no connector" and row.done_at is not None
    [alert] = rows(store, select(ConnectorAlert.kind, ConnectorAlert.text))
    assert alert.kind == "mute" and "was not carried out" in alert.text
    # an operator connects the bot and asks again: queued once more
    with store.unit_of_work() as session:
        [row_id] = session.scalars(select(OutboxAction.id))
        assert outbox.requeue(session, cid, [row_id]) == 1
        assert outbox.requeue(session, cid, [row_id]) == 0  # queued already
    assert _statuses(store) == ["queued"]


def test_the_outcome_reaches_the_moderation_decision(store, community, hub):
    cid = _cid(store)
    with store.unit_of_work() as session:
        member = Member(community_id=cid, display_name="x")
        session.add(member)
        session.flush()
        decision = ModerationAction(
            community_id=cid,
            member_id=member.id,
            key="k1",
            action="warn",
            rule="flood",
            status="approved",
        )
        session.add(decision)
        session.flush()
        ref = {"moderation_action": decision.id}
        actions = [
            Action(kind="warn", platform="whatsapp", community="acme", group="g", detail=ref),
        ]
        outbox.enqueue(session, cid, actions, f"review:{decision.id}")
    assert hub.outbox.run_once() == 0  # no connector for whatsapp: left to a bridge a while
    hub.outbox.bridge_wait = timedelta(0)
    assert hub.outbox.run_once() == 1
    assert hub.executor.drain()
    [(outcome, at)] = rows(store, select(ModerationAction.outcome, ModerationAction.carried_out_at))
    assert outcome == "alerted" and at is None  # no whatsapp connector: not carried out
    assert {s for (s,) in rows(store, select(ConnectorAction.status))} == {"alerted"}


def test_the_hub_drains_without_being_asked(store, community):
    hub = ConnectorHub(store, backoff=0.05, outbox_interval=0.05)
    hub.start()
    try:
        cid = _cid(store)
        with store.unit_of_work() as session:
            outbox.enqueue(session, cid, [_action(1, platform="qq")], "review:9")
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while _statuses(store) != ["alerted"]:
            assert datetime.now(UTC) < deadline, f"still {_statuses(store)}"
            threading.Event().wait(0.05)
    finally:
        hub.stop()


def test_a_row_that_is_no_action_fails_with_the_reason(store, community):
    cid = _cid(store)
    with store.unit_of_work() as session:
        outbox.enqueue(session, cid, [_action(1)], "review:1")
        session.execute(
            OutboxAction.__table__.update().values(
                action={"kind": "teleport", "platform": "x", "community": "acme", "group": "g"}
            )
        )
    assert outbox.claim(store, "a") == []
    [row] = rows(store, select(OutboxAction.status, OutboxAction.error))
    assert row.status == "failed" and "teleport" in row.error


def test_an_action_the_stopping_server_never_tried_is_queued_again(store, community):
    cid = _cid(store)
    with store.unit_of_work() as session:
        outbox.enqueue(session, cid, [_action(1), _action(2)], "review:4")
    first, second = outbox.claim(store, "a")
    outcomes = [
        outbox.outcome_of(first, "sent", 1, None, {}),
        outbox.outcome_of(second, "failed", 0, "stopped before it was tried", None),
    ]
    outbox.record_outcomes(store, [o for o in outcomes if o is not None])
    assert _statuses(store) == ["sent", "queued"]
    [again] = outbox.claim(store, "b")
    assert again.member == second.member
