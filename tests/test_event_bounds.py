"""Events held to qunzhu.bounds: hostile values give an EventError naming the field, text
is cleaned of what no database stores, and (hypothesis) no JSON at all makes
event_from_json raise anything else or build an event outside the bounds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qunzhu import bounds
from qunzhu import events as ev

BASE: dict[str, Any] = {
    "type": "message_posted",
    "platform": "api",
    "community": "c",
    "group": "g",
    "member": "u1",
    "occurred_at": "2026-03-01T12:00:00+08:00",
    "message_id": "m1",
    "text": "你好",
}


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("occurred_at", 1e20, "outside 1970"),
        ("occurred_at", -1e12, "outside 1970"),
        ("occurred_at", float("nan"), "outside 1970"),
        ("occurred_at", "9999-12-31T23:59:59+00:00", "outside 1970"),
        ("occurred_at", "0001-01-01T00:00:00+08:00", "outside 1970"),
        ("text", None, "must not be null"),
        ("reactions", 10**30, "outside 0"),
        ("reactions", -1, "outside 0"),
        ("community", "c\x00", "NUL"),
        ("member", "x" * 201, "at most 200"),
        ("group", "\ud800", "surrogate"),
        ("text", "x" * (bounds.MAX_TEXT + 1), "at most 100,000"),
        ("raw", json.loads("[" * 40 + "]" * 40), "deeper than 32"),
        ("mentions", ["u"] * 1001, "at most 1,000"),
        ("member", 2**200, "far too long"),
    ],
)
def test_a_value_beyond_the_bounds_is_refused_naming_its_field(field, value, says):
    with pytest.raises(ev.EventError) as info:
        ev.event_from_json(BASE | {field: value})
    assert info.value.field == field and says in str(info.value)


def test_payment_amounts_stay_within_what_the_store_holds():
    payment = BASE | {"type": "payment_received", "payment_id": "p1", "amount_cents": 100}
    del payment["message_id"], payment["text"]
    assert ev.event_from_json(payment).amount_cents == 100  # type: ignore[attr-defined]
    beyond_32_bits = payment | {"amount_cents": bounds.MAX_INT + 1}
    assert ev.event_from_json(beyond_32_bits).amount_cents == 2**31  # type: ignore[attr-defined]
    largest = ev.event_from_json(payment | {"amount_cents": bounds.MAX_AMOUNT})
    assert largest.amount_cents == 2**53 - 1  # type: ignore[attr-defined]
    with pytest.raises(ev.EventError, match="amount_cents") as info:
        ev.event_from_json(payment | {"amount_cents": bounds.MAX_AMOUNT + 1})
    assert "9,007,199,254,740,991" in str(info.value)


def test_text_loses_nul_and_lone_surrogates_names_are_cut_raw_is_cleaned():
    event = ev.event_from_json(
        BASE | {"text": "a\x00b\ud800c", "member_name": "名" * 300, "raw": {"k\x00": ["v\x00"]}}
    )
    assert event.text == "ab\ufffdc"  # type: ignore[attr-defined]
    assert len(event.member_name) == bounds.MAX_NAME  # type: ignore[attr-defined]
    assert event.raw == {"k": ["v"]}


def test_events_built_in_code_are_held_to_the_same_bounds():
    with pytest.raises(ev.EventError, match="occurred_at"):
        ev.MemberJoined(platform="irc", community="c", group="g", member="m",
                        occurred_at=datetime(1960, 1, 1, tzinfo=UTC))  # fmt: skip
    with pytest.raises(ev.EventError, match="member"):
        ev.MemberLeft(platform="irc", community="c", group="g", member="a\x00",
                      occurred_at=datetime(2024, 1, 1, tzinfo=UTC))  # fmt: skip


def test_a_line_nested_100000_deep_or_of_2_mb_is_refused_before_parsing():
    with pytest.raises(bounds.OutOfBounds, match="nested"):
        bounds.loads_event_json("[" * 100_000 + "]" * 100_000)
    with pytest.raises(bounds.OutOfBounds, match="bytes, at most"):
        bounds.loads_event_json(" " * (bounds.MAX_EVENT_BYTES + 1))


# JSON values of every kind, hostile strings and numbers among them
HOSTILE_TEXT = st.sampled_from(["\x00", "a\x00b", "\ud800", "x" * 300, "", " ", "1e20"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    HOSTILE_TEXT,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    ["occurred_at", "text", "member", "community", "group", "message_id", "reactions",
     "mentions", "kind", "raw", "key", "reply_to", "member_name", "type", "extra"]
)  # fmt: skip


def _within_bounds(event: ev.Event) -> None:
    assert bounds.EARLIEST <= event.occurred_at < bounds.LATEST
    for name, value in vars_of(event).items():
        if isinstance(value, str):
            assert "\x00" not in value, name
            value.encode("utf-8")  # no lone surrogate
        if isinstance(value, int) and not isinstance(value, bool):
            assert 0 <= value <= bounds.count_limit(name), name
    json.dumps(event.to_json(), allow_nan=False)  # what the store writes is JSON


def vars_of(event: ev.Event) -> dict[str, Any]:
    return {name: getattr(event, name) for name in event.__dataclass_fields__}


@settings(max_examples=300, deadline=None, derandomize=True)
@given(changes=st.dictionaries(FIELDS, JSON_VALUES, max_size=4))
def test_any_json_gives_an_event_within_bounds_or_an_event_error(changes):
    try:
        event = ev.event_from_json(BASE | changes)
    except ev.EventError as exc:
        assert str(exc)
        return
    _within_bounds(event)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(data=JSON_VALUES)
def test_any_json_value_at_all_gives_an_event_error_not_a_crash(data):
    with pytest.raises(ev.EventError):
        ev.event_from_json(data)
