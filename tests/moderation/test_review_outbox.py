"""A review's platform actions go to the outbox in the review's own transaction: approve,
undo (an appeal), escalate; a refused review queues nothing; the live path's decisions and
the reviewed ones learn what the platform did (``outcome``, ``carried_out_at``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.moderation.moderator import RuleModerator
from qunzhu.moderation.review import ReviewError, review
from qunzhu.moderation.stored import community_spec
from qunzhu.pipeline import Pipeline
from qunzhu.store import Store, outbox
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.models import Community, ModerationAction

SPEC = """\
name: 测试群
purpose: review tests
rules:
  contact_solicitation:
    action: {action}
    severity: 2
  classifier:
    action: allow
    threshold_flag: 1.0
    threshold_act: 1.0
escalation:
  points_expire_days: 30
"""
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SPAM = "加 薇 信 abc_123 了解赚钱项目"


def _setup(store: Store, action: str = "flag") -> list[ev.Action]:
    with store.unit_of_work() as session:
        session.add(Community(slug="c1", name="测试群", spec_yaml=SPEC.format(action=action)))
    message = ev.MessagePosted(
        platform="telegram",
        community="c1",
        group="-100",
        member="42",
        occurred_at=START,
        message_id="501",
        text=SPAM,
        member_name="Spammer",
    )
    return Pipeline(store, moderator=RuleModerator()).run([message], source="test").actions


def _item(store: Store) -> tuple[int, int]:
    with store.reading() as s:
        row = s.scalars(select(ModerationAction).order_by(ModerationAction.id)).first()
        assert row is not None
        return row.community_id, row.id


def _queued(store: Store) -> list[tuple[str, str, str, dict[str, object]]]:
    with store.reading() as s:
        return [
            (r.origin, r.kind, r.status, r.action)
            for r in s.scalars(select(OutboxAction).order_by(OutboxAction.id))
        ]


def test_approve_queues_delete_and_warn_addressed_to_the_message(store: Store) -> None:
    assert _setup(store) == []  # flagged: nothing done before a moderator decides
    cid, item = _item(store)
    with store.unit_of_work() as s:
        done = review(s, cid, item, "approve", community_spec(s, "c1"), operator_id=None)
    assert len(done.queued) == 2 and done.as_dict()["queued"] == done.queued
    queued = _queued(store)
    assert [(o, k, st) for o, k, st, _ in queued] == [
        (f"review:{item}", "delete_message", "queued"),
        (f"review:{item}", "warn", "queued"),
    ]
    delete = queued[0][3]
    assert (delete["community"], delete["group"], delete["message_id"]) == ("c1", "-100", "501")
    assert delete["detail"] == {"moderation_action": item}
    # a second click on approve is refused and queues nothing more
    with store.unit_of_work() as s, pytest.raises(ReviewError):
        review(s, cid, item, "approve", community_spec(s, "c1"))
    assert len(_queued(store)) == 2


def test_a_review_rolled_back_queues_nothing(store: Store) -> None:
    _setup(store)
    cid, item = _item(store)
    with pytest.raises(RuntimeError), store.unit_of_work() as s:
        review(s, cid, item, "approve", community_spec(s, "c1"))
        raise RuntimeError("the audit entry could not be written")
    assert _queued(store) == []
    with store.reading() as s:
        assert s.get_one(ModerationAction, item).status == "pending_review"


def test_an_upheld_appeal_lifts_the_mute_through_the_outbox(store: Store) -> None:
    moderator = RuleModerator()
    with store.unit_of_work() as session:
        session.add(
            Community(slug="c1", name="测试群", spec_yaml=SPEC.format(action="delete_warn"))
        )
    for n in range(3):  # 2 points each: the third offence reaches the mute rung
        message = ev.MessagePosted(
            platform="telegram",
            community="c1",
            group="-100",
            member="42",
            occurred_at=START + timedelta(hours=n),
            message_id=str(600 + n),
            text=f"{SPAM} {n}",
        )
        Pipeline(store, moderator=moderator).run([message], source="test")
    with store.unit_of_work() as s:
        muted = s.scalars(select(ModerationAction).order_by(ModerationAction.id.desc())).first()
        assert muted is not None and muted.action == "mute"
        done = review(
            s, muted.community_id, muted.id, "undo", community_spec(s, "c1"), origin="appeal"
        )
    assert [(o, k) for o, k, _, _ in _queued(store)] == [(f"appeal:{muted.id}", "unmute")]
    assert done.status == "undone"


def test_escalation_reports_on_its_own_row(store: Store) -> None:
    _setup(store)
    cid, item = _item(store)
    with store.unit_of_work() as s:
        spec = community_spec(s, "c1")
        review(s, cid, item, "approve", spec, dispatch=False)  # 2 points, nothing queued
        done = review(s, cid, item, "escalate", spec)
    [(origin, kind, _, action)] = _queued(store)
    with store.reading() as s:
        escalation = s.scalars(select(ModerationAction).where(ModerationAction.id != item)).one()
    assert kind == "mute" and action["duration_seconds"] == 3600
    assert origin == f"review:{escalation.id}"
    assert action["detail"] == {"moderation_action": escalation.id}
    assert done.queued and escalation.status == "applied" and escalation.outcome is None


def test_one_item_escalated_twice_in_the_same_second_climbs_two_rungs(store: Store) -> None:
    # the escalation rows were keyed by the second: the second one collided (a 500 the API
    # fuzzer found with a bulk escalate)
    _setup(store)
    cid, item = _item(store)
    now = datetime.now(UTC)
    with store.unit_of_work() as s:
        spec = community_spec(s, "c1")
        first = review(s, cid, item, "escalate", spec, now=now)
        second = review(s, cid, item, "escalate", spec, now=now)
    # the second starts from the points the first gave: the next rung, another sanction
    assert [a.kind for a in first.actions] != [a.kind for a in second.actions]
    with store.reading() as s:
        keys = s.scalars(select(ModerationAction.key).where(ModerationAction.id != item)).all()
    assert len(set(keys)) == 2


def test_live_decisions_learn_their_outcome(store: Store) -> None:
    actions = _setup(store, action="delete_warn")
    assert [a.kind for a in actions] == ["delete_message", "warn"]
    _, item = _item(store)
    delete, warn = actions
    outcomes = [
        outbox.outcome_of(delete, "sent", 1, None, {"deleted": True}),
        outbox.outcome_of(warn, "failed", 5, "gave up after retries", None),
    ]
    outbox.record_outcomes(store, [o for o in outcomes if o is not None])
    with store.reading() as s:
        row = s.get_one(ModerationAction, item)
    # applied is the decision; the outcome says the warning never reached the member
    assert row.status == "applied" and row.outcome == "failed"
    assert row.carried_out_at is not None


def test_the_cli_queues_what_it_decides(store: Store, cli, cli_env) -> None:
    import json

    from qunzhu.cli.main import app

    _setup(store)
    _, item = _item(store)
    done = cli.invoke(app, ["moderation", "review", "approve", str(item), "-c", "c1", "--json"])
    assert done.exit_code == 0, done.output
    [answer] = json.loads(done.stdout)
    assert answer["status"] == "approved" and len(answer["queued"]) == 2
    assert {(o, k) for o, k, _, _ in _queued(store)} == {
        (f"review:{item}", "delete_message"),
        (f"review:{item}", "warn"),
    }
    shown = cli.invoke(app, ["moderation", "review", "undo", str(item), "-c", "c1"])
    assert (
        shown.exit_code == 0 and "queued for `qunzhu serve`" not in shown.output
    )  # nothing to lift
