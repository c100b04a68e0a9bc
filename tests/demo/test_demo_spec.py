"""The sample community's community.yaml loads, lints clean, and describes the sample."""

from __future__ import annotations

from datetime import UTC, datetime

from qunzhu import events as ev
from qunzhu.demo import GROUPS, generate
from qunzhu.demo.records import ANSWERS
from qunzhu.demo.spec import DEMO_SPEC
from qunzhu.spec import lint, load_spec


def test_demo_spec_loads_and_lints_without_findings() -> None:
    spec = load_spec(DEMO_SPEC)
    assert lint(spec) == []


def test_segments_name_the_sample_groups() -> None:
    spec = load_spec(DEMO_SPEC)
    by_segment = {s.id: s.groups for s in spec.segments}
    assert by_segment == {info.segment: [gid] for gid, info in GROUPS.items()}
    assert spec.routing.segment_for({"paid"}, {}) == "members"
    assert spec.routing.segment_for({"english"}, {}) == "english"
    assert spec.routing.segment_for(set(), {}) == "main"
    assert spec.size.cap >= max(info.cap for info in GROUPS.values())
    assert set(spec.platforms) == {"wechat", "telegram"}


def test_the_sample_pays_the_plans_and_answers_the_questions_of_the_spec() -> None:
    spec = load_spec(DEMO_SPEC)
    sample = list(generate(7, now=datetime(2026, 3, 1, tzinfo=UTC)))
    payments = [e for e in sample if isinstance(e, ev.PaymentReceived)]
    for payment in payments:
        plan = spec.plan(payment.plan or "")
        assert plan is not None and plan.price_cents == payment.amount_cents
    questions = {q.id: q for q in spec.threshold.questions}
    for application in (e for e in sample if isinstance(e, ev.ApplicationSubmitted)):
        assert set(application.answers) == set(questions)
    assert questions["AI编程经验"].choices == list(ANSWERS["经验"])
    assert questions["从哪里知道我们"].choices == list(ANSWERS["来源"])
