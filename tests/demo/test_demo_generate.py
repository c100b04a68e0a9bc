"""The sample community in code: deterministic, about 600 members in 3 groups over 90 days,
plausible chat with joins, leaves, questions, answers and ads, and one group dying."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from qunzhu import events as ev
from qunzhu.demo import GROUPS, generate
from qunzhu.demo.lexicon import SPAM_EN, SPAM_ZH

NOW = datetime(2026, 3, 1, tzinfo=UTC)


# one worker builds the module fixture: with --dist loadgroup an ungrouped module is spread
# over the workers and each would build it
pytestmark = pytest.mark.xdist_group("demo-generate")


@pytest.fixture(scope="module")
def sample() -> list[ev.Event]:
    return list(generate(7, now=NOW))


def _messages(sample: list[ev.Event], group: str | None = None) -> list[ev.MessagePosted]:
    return [
        e for e in sample if isinstance(e, ev.MessagePosted) and (group is None or e.group == group)
    ]


def test_same_seed_same_events_keys_included(sample: list[ev.Event]) -> None:
    again = list(generate(7, now=NOW))
    assert [e.key for e in again] == [e.key for e in sample]
    assert again == sample


def test_another_seed_tells_another_story(sample: list[ev.Event]) -> None:
    other = {e.key for e in generate(8, now=NOW)}
    assert len(other & {e.key for e in sample}) < len(sample) // 10


def test_keys_are_unique_and_events_in_time_order(sample: list[ev.Event]) -> None:
    assert len({e.key for e in sample}) == len(sample)
    times = [e.occurred_at for e in sample]
    assert times == sorted(times)


def test_about_600_members_over_the_three_groups(sample: list[ev.Event]) -> None:
    joined = [e for e in sample if isinstance(e, ev.MemberJoined)]
    assert {e.group for e in joined} == set(GROUPS) == {"wx-main", "wx-advanced", "tg-english"}
    people = {(e.platform, e.member) for e in joined}
    assert 500 <= len(people) <= 700
    per_group = Counter(e.group for e in joined)
    for group, info in GROUPS.items():
        assert 20 <= per_group[group] <= info.cap * 1.5, (group, per_group[group])


def test_ninety_days_ending_at_now(sample: list[ev.Event]) -> None:
    first, last = sample[0].occurred_at, sample[-1].occurred_at
    assert last <= NOW
    assert timedelta(days=85) <= last - first <= timedelta(days=90)


def test_joins_leaves_and_removals_are_there(sample: list[ev.Event]) -> None:
    left = [e for e in sample if isinstance(e, ev.MemberLeft)]
    assert Counter(e.reason for e in left)["removed"] >= 5
    assert sum(1 for e in left if e.reason != "removed") >= 20


def test_questions_get_answers(sample: list[ev.Event]) -> None:
    messages = _messages(sample)
    by_id = {(m.group, m.message_id): m for m in messages}
    questions = [m for m in messages if m.text.rstrip().endswith(("?", "？"))]
    answered = {
        m.reply_to
        for m in messages
        if m.reply_to is not None
        and (m.group, m.reply_to) in by_id
        and by_id[m.group, m.reply_to].text.rstrip().endswith(("?", "？"))
    }
    assert len(questions) >= 500
    assert len(answered) >= 100
    assert len({m.group for m in questions}) == 3


def test_ads_are_posted_in_the_open_groups(sample: list[ev.Event]) -> None:
    ads = [m for m in _messages(sample) if m.text in SPAM_ZH or m.text in SPAM_EN]
    assert {m.group for m in ads} >= {"wx-main", "tg-english"}
    assert len(ads) >= 8


def test_paid_group_has_applications_payments_and_check_ins(sample: list[ev.Event]) -> None:
    applications = [e for e in sample if isinstance(e, ev.ApplicationSubmitted)]
    payments = [e for e in sample if isinstance(e, ev.PaymentReceived)]
    assert applications and payments
    assert {p.plan for p in payments} == {"annual", "quarterly"}
    assert any(isinstance(e, ev.CheckIn) for e in sample)
    statuses = {e.status for e in sample if isinstance(e, ev.ActivityAttended)}
    assert {"registered", "attended", "absent"} <= statuses


def _weekly(sample: list[ev.Event], group: str) -> list[int]:
    start = NOW - timedelta(days=84)  # twelve whole weeks ending now
    weeks = [0] * 12
    for m in _messages(sample, group):
        if m.occurred_at >= start:
            weeks[(m.occurred_at - start).days // 7] += 1
    return weeks


def test_the_english_group_is_dying(sample: list[ev.Event]) -> None:
    weeks = _weekly(sample, "tg-english")
    early, late = sum(weeks[:6]) / 6, sum(weeks[-3:]) / 3
    assert early >= 50
    assert late < 0.2 * early, weeks


def test_the_main_group_is_not(sample: list[ev.Event]) -> None:
    weeks = _weekly(sample, "wx-main")
    assert sum(weeks[-3:]) / 3 >= 0.8 * sum(weeks[:6]) / 6, weeks
