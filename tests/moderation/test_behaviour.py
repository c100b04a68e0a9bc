"""Behaviour detectors: flooding, the same text across groups, mass mentions, marked kinds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from qunzhu.events import MessagePosted
from qunzhu.moderation.behaviour import Behaviour, is_newcomer, marked_kinds, mass_mentions
from qunzhu.spec.rules import FloodingRule, Rules

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


def _m(
    n: int, text: str = "hello there", *, group: str = "g1", seconds: float = 0, **extra: object
) -> MessagePosted:
    return MessagePosted(
        platform="test",
        community="c",
        group=group,
        member="u1",
        occurred_at=T0 + timedelta(seconds=seconds),
        message_id=f"m{n}",
        text=text,
        **extra,
    )  # type: ignore[arg-type]


def test_flooding_counts_messages_inside_the_window_only() -> None:
    rules = Rules(flooding=FloodingRule(max_messages=3, per_seconds=10))
    seen = Behaviour()
    hits = [bool(seen.observe(_m(n, f"msg {n}", seconds=n), f"msg {n}", rules)) for n in range(5)]
    assert hits == [False, False, False, True, True]
    later = seen.observe(_m(9, "calm", seconds=60), "calm", rules)
    assert later == []


def test_the_same_text_in_too_many_groups_is_found_and_short_texts_are_not() -> None:
    rules, seen = Rules(), Behaviour()
    text = "全网最低价 限时抢购"
    found = [
        seen.observe(_m(n, text, group=f"g{n}", seconds=n * 20), text, rules) for n in range(5)
    ]
    assert [bool(f) for f in found] == [False, False, False, True, True]
    assert found[3][0].rule == "duplicate_across_groups" and found[3][0].detail["groups"] == 4
    assert all(not seen.observe(_m(10 + n, "+1", group=f"g{n}"), "+1", rules) for n in range(6))


def test_mass_mentions_and_marked_kinds() -> None:
    rules = Rules()
    crowd = _m(1, "@a1 @b2 @c3 @d4 @e5 来看看")
    assert mass_mentions(crowd, rules)[0].detail["count"] == 5
    assert mass_mentions(_m(2, "@a1 你好"), rules) == []
    assert marked_kinds(_m(3, "", kind="contact_card"), rules)[0].rule == "contact_cards"
    assert marked_kinds(_m(4, "", kind="mini_program"), rules)[0].rule == "ads"


def test_newcomers_are_members_younger_than_the_block_days() -> None:
    rules = Rules()
    assert is_newcomer(T0, T0 + timedelta(hours=5), rules)
    assert not is_newcomer(T0, T0 + timedelta(days=2), rules)
    assert not is_newcomer(None, T0, rules)
