"""decide_application on snapshots built in code: no database."""

from __future__ import annotations

from qunzhu.growth.applications import ApplicationSnapshot, decide_application
from qunzhu.growth.common import Place
from qunzhu.spec.positioning import Threshold

HERE = Place("test", "acme", "g1", "u1")


def _threshold(**kw: object) -> Threshold:
    return Threshold.model_validate(
        {
            "kind": "application",
            "review": "auto",
            "questions": [{"id": "why", "text_zh": "为什么加入？", "required": True}],
            **kw,
        }
    )


def test_an_answer_that_passes_the_rules_is_approved_routed_and_let_in():
    snap = ApplicationSnapshot(1, "pending", {"why": "to read"}, _threshold(), HERE)
    decision = decide_application(snap)
    assert decision.verdict.status == "approved" and decision.store == "status"
    assert decision.route and [a.kind for a in decision.actions] == ["approve_join"]


def test_a_missing_required_answer_is_rejected_with_the_reason_on_the_platform():
    snap = ApplicationSnapshot(1, "pending", {}, _threshold(), HERE)
    decision = decide_application(snap)
    assert decision.verdict.status == "rejected" and not decision.route
    (decline,) = decision.actions
    assert decline.kind == "decline_join" and "why" in (decline.text or "")


def test_manual_review_keeps_it_pending_and_only_notes_why():
    snap = ApplicationSnapshot(1, "pending", {"why": "x"}, _threshold(review="manual"), HERE)
    decision = decide_application(snap)
    assert decision.verdict.status == "pending" and decision.store == "reason"
    assert decision.actions == () and not decision.route


def test_an_application_an_operator_decided_is_not_overwritten():
    snap = ApplicationSnapshot(1, "rejected", {"why": "to read"}, _threshold(), HERE)
    assert decide_application(snap).store == "nothing"
