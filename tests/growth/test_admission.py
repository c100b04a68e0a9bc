"""Thresholds: application forms with automatic rules and a review queue, one-time join
codes, and routing of approved members into segments."""

from __future__ import annotations

import pytest
from qunzhu_tests_growth import T0, rows
from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.growth import admission, routing
from qunzhu.growth.common import GrowthError
from qunzhu.spec.positioning import Question, Threshold
from qunzhu.store.growth import SegmentAssignment
from qunzhu.store.models import Application, Quarantine

FORM = """
threshold:
  kind: application
  review: auto
  questions:
    - {id: level, text_zh: 你的水平, choices: [beginner, advanced]}
    - {id: why, text_zh: 为什么加入}
    - {id: city, text_zh: 城市, required: false}
  deny_words: [加微信, 代理]
segments:
  - {id: starter, name: 入门班, groups: [g-start]}
  - {id: pro, name: 进阶班, groups: [g-pro]}
routing:
  holding_group: g-lobby
  rules:
    - {match: {answers: {level: beginner}}, segment: starter}
    - {match: {tags: [vip]}, segment: pro}
"""


def _apply(t, who: str, answers: dict[str, str], n: int = 1):
    return t.feed(
        ev.ApplicationSubmitted(
            platform="test",
            community="acme",
            group="g-lobby",
            member=who,
            occurred_at=T0,
            application_id=f"a{n}",
            answers=answers,
        )
    )


def test_auto_rules_approve_route_and_refuse_with_reasons(store, town):
    t = town(FORM)
    ok = _apply(t, "ann", {"level": "beginner", "why": "想读书"}, 1)
    assert [a.kind for a in ok.actions] == ["approve_join"]
    missing = _apply(t, "bob", {"level": "beginner"}, 2)
    assert [a.kind for a in missing.actions] == ["decline_join"]
    assert "missing required answers: why" in (missing.actions[0].text or "")
    spam = _apply(t, "cat", {"level": "advanced", "why": "加微信领资料"}, 3)
    assert "denied words: 加微信" in (spam.actions[0].text or "")
    bad_choice = _apply(t, "dan", {"level": "expert", "why": "x"}, 4)
    assert "must be one of beginner, advanced" in (bad_choice.actions[0].text or "")
    statuses = rows(
        store, select(Application.external_id, Application.status).order_by(Application.external_id)
    )
    assert statuses == [
        ("a1", "approved"),
        ("a2", "rejected"),
        ("a3", "rejected"),
        ("a4", "rejected"),
    ]
    assert rows(store, select(SegmentAssignment.segment)) == [("starter",)]
    again = _apply(t, "bob", {"level": "beginner"}, 2)  # told twice: decided once
    assert again.actions == []


def test_manual_review_queue_approve_reject_ask(store, town):
    t = town(FORM.replace("review: auto", "review: manual"))
    for n, who in enumerate(("ann", "bob", "cat"), start=1):
        assert _apply(t, who, {"level": "advanced", "why": "学习"}, n).actions == []
    cid = t.community_id
    with store.engine.begin() as conn:
        queue = admission.queue(conn, cid)
        assert [q["status"] for q in queue] == ["pending"] * 3
        ids = [q["id"] for q in queue]
        admission.review(conn, cid, ids[0], "approve", None, None)
        admission.review(conn, cid, ids[1], "ask", "请补充你的读书经历", None)
        with pytest.raises(GrowthError, match="needs a reason"):
            admission.review(conn, cid, ids[2], "reject", "", None)
        admission.review(conn, cid, ids[1], "reject", "不符合定位", None)
        with pytest.raises(GrowthError, match="is approved"):
            admission.review(conn, cid, ids[0], "reject", "late", None)
    assert [s for (s,) in rows(store, select(Application.status).order_by(Application.id))] == [
        "approved",
        "rejected",
        "pending",
    ]


def test_auto_review_is_a_pure_rule():
    th = Threshold(
        kind="application",
        review="auto",
        allow_words=["读书"],
        questions=[Question(id="why", text_zh="为什么")],
    )
    assert admission.auto_review(th, {"why": "喜欢读书"}).status == "approved"
    assert admission.auto_review(th, {"why": "随便看看"}).status == "pending"
    assert admission.auto_review(th, {"why": "   "}).status == "rejected"


def test_join_code_is_used_once(store, town):
    t = town("threshold: {kind: join_code}\n")
    t.join("host", at=T0, code=None)  # no code: declined and recorded
    cid = t.community_id
    with store.engine.begin() as conn:
        (code,) = admission.issue_join_codes(conn, cid, 1, note="offline event")
    assert t.join("ann", at=T0, code=code).actions == []
    assert t.join("ann", group="g2", at=T0, code=code).actions == []  # same person again: ok
    reused = t.join("bob", at=T0, code=code)
    assert [(a.kind, a.reason) for a in reused.actions] == [("decline_join", "join_code_used")]
    wrong = t.join("cat", at=T0, code="NOPE")
    assert wrong.actions[0].reason == "unknown_join_code"
    reasons = " ".join(r for (r,) in rows(store, select(Quarantine.reason)))
    for why in ("join_code_missing", "join_code_used", "unknown_join_code"):
        assert why in reasons


def test_resegmentation_previews_then_applies_and_keeps_manual_choices(store, town):
    t = town(FORM)
    for who in ("ann", "bob", "cat"):
        t.join(who, group="g-lobby", at=T0)
    cid = t.community_id
    ann, bob, cat = (t.member_id(x) for x in ("ann", "bob", "cat"))
    with store.engine.begin() as conn:
        routing.set_tags(conn, cid, bob, ["vip"], [])
        routing.assign(conn, cid, cat, "starter", manual=True)
        preview = routing.plan(conn, cid)
    assert {(p["member_id"], p["to"], p["to_group"]) for p in preview} == {
        (ann, None, "g-lobby"),
        (bob, "pro", "g-pro"),
    }
    assert rows(store, select(SegmentAssignment.member_id)) == [(cat,)]  # preview wrote nothing
    with store.engine.begin() as conn:
        assert routing.apply(conn, cid, preview) == 2
        assert routing.plan(conn, cid) == []
    with pytest.raises(GrowthError, match="not in the spec"), store.engine.begin() as conn:
        routing.assign(conn, cid, ann, "nope")


def test_a_manual_decision_queues_the_platforms_answer_once(store, town):
    from qunzhu.store.connectors import OutboxAction

    t = town(FORM.replace("review: auto", "review: manual"))
    for n, who in enumerate(("ann", "bob", "cat"), start=1):
        _apply(t, who, {"level": "beginner", "why": "学习"}, n)
    cid = t.community_id
    with store.engine.begin() as conn:
        ids = [q["id"] for q in admission.queue(conn, cid)]
        approved = admission.review(conn, cid, ids[0], "approve", None, None)
        asked = admission.review(conn, cid, ids[1], "ask", "请补充", None)
        rejected = admission.review(conn, cid, ids[2], "reject", "不符合定位", None)
    assert len(approved["queued"]) == 1 and len(rejected["queued"]) == 1
    assert asked["queued"] == []  # the request stays open while the applicant answers
    queued = rows(
        store,
        select(OutboxAction.kind, OutboxAction.origin, OutboxAction.action).order_by(
            OutboxAction.id
        ),
    )
    assert [(k, o) for k, o, _ in queued] == [
        ("approve_join", f"application:{ids[0]}"),
        ("decline_join", f"application:{ids[2]}"),
    ]
    assert queued[0][2]["group"] == "g-lobby" and queued[1][2]["text"] == "不符合定位"
    # approving routes the applicant as the automatic review does
    assert rows(store, select(SegmentAssignment.segment)) == [("starter",)]


def test_a_join_code_spent_by_a_racing_join_is_decided_again_and_refused(store, town, monkeypatch):
    """Bob's join read the code while it was still free; Ann's join spent it before Bob's
    write. Bob's conditional UPDATE finds it spent, his join is decided again on what the
    store says now, and refused: the code stays Ann's."""
    from dataclasses import replace

    from qunzhu.growth import joins
    from qunzhu.store.growth import JoinCode

    t = town("threshold: {kind: join_code}\n")
    cid = t.community_id
    with store.engine.begin() as conn:
        (code,) = admission.issue_join_codes(conn, cid, 1)
    assert t.join("ann", at=T0, code=code).actions == []
    real = joins.load_join
    calls: list[bool] = []

    def stale_first(conn, r, spec):  # type: ignore[no-untyped-def]
        snap = real(conn, r, spec)
        calls.append(True)
        if len(calls) == 1 and snap.join_code is not None:  # as read before Ann's spend
            return replace(snap, join_code=replace(snap.join_code, used_at=None, used_by=None))
        return snap

    monkeypatch.setattr(joins, "load_join", stale_first)
    raced = t.join("bob", at=T0, code=code)
    assert len(calls) == 2
    assert [(a.kind, a.reason) for a in raced.actions] == [("decline_join", "join_code_used")]
    ((used_by,),) = rows(store, select(JoinCode.used_by_member_id))
    assert used_by == t.member_id("ann")
