from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from qunzhu import events as ev
from qunzhu.event_schema import render

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _message(**over):
    data = dict(
        platform="telegram",
        community="c",
        group="g",
        member="u1",
        occurred_at=T,
        message_id="42",
        text="你好",
    )
    data.update(over)
    return ev.MessagePosted(**data)


def test_events_are_frozen():
    message = _message()
    with pytest.raises(AttributeError):
        message.text = "changed"  # type: ignore[misc]


def test_key_is_stable_and_depends_on_the_platform_message_id():
    assert _message().key == _message(text="edited text, same message").key
    assert _message().key != _message(message_id="43").key
    assert _message().key != _message(group="other").key


def test_times_are_normalized_to_utc_and_naive_times_refused():
    shanghai = timezone(timedelta(hours=8))
    message = _message(occurred_at=datetime(2026, 3, 1, 20, 0, tzinfo=shanghai))
    assert message.occurred_at == T and message.occurred_at.tzinfo == UTC
    with pytest.raises(ev.EventError, match="occurred_at"):
        _message(occurred_at=datetime(2026, 3, 1))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("platform", "myspace"),
        ("member", ""),
        ("kind", "hologram"),
        ("message_id", ""),
    ],
)
def test_bad_fields_are_named(field, value):
    with pytest.raises(ev.EventError) as info:
        _message(**{field: value})
    assert info.value.field == field


def test_json_round_trip_keeps_every_field():
    original = _message(reply_to="41", mentions=("u2",), reactions=3)
    again = ev.event_from_json(json.loads(json.dumps(original.to_json())))
    assert again == original


def test_json_form_errors_name_the_field():
    good = _message().to_json()
    cases = [
        ({**good, "type": "nope"}, "type"),
        ({k: v for k, v in good.items() if k != "message_id"}, "message_id"),
        ({**good, "occurred_at": "yesterday"}, "occurred_at"),
        ({**good, "occurred_at": "2026-03-01T12:00:00"}, "occurred_at"),
        ({**good, "reactions": "many"}, "reactions"),
        ({**good, "surprise": 1}, "surprise"),
        ({**good, "mentions": "u2"}, "mentions"),
    ]
    for data, field in cases:
        with pytest.raises(ev.EventError) as info:
            ev.event_from_json(data)
        assert info.value.field == field, data


def test_numeric_platform_ids_are_accepted_as_strings():
    data = {**_message().to_json(), "member": 123456, "message_id": 99}
    event = ev.event_from_json(data)
    assert event.member == "123456"


def test_check_in_is_once_per_member_and_day():
    a = ev.CheckIn(platform="wechat", community="c", group="g", member="u", occurred_at=T)
    b = ev.CheckIn(
        platform="wechat", community="c", group="g", member="u", occurred_at=T + timedelta(hours=3)
    )
    c = ev.CheckIn(
        platform="wechat", community="c", group="g", member="u", occurred_at=T + timedelta(days=1)
    )
    assert a.key == b.key != c.key


def test_every_event_type_named_in_the_design_exists():
    for name in (
        "MessagePosted",
        "MemberJoined",
        "MemberLeft",
        "InviteUsed",
        "ApplicationSubmitted",
        "PaymentReceived",
        "CheckIn",
    ):
        assert hasattr(ev, name)


def test_documented_json_schema_is_current():
    doc = Path(__file__).parents[1] / "docs" / "events.schema.json"
    assert doc.read_text(encoding="utf-8") == render(), (
        "regenerate: python -m qunzhu.event_schema > docs/events.schema.json"
    )


def test_negative_payment_refused():
    with pytest.raises(ev.EventError, match="amount_cents"):
        ev.PaymentReceived(
            platform="api",
            community="c",
            group="g",
            member="u",
            occurred_at=T,
            payment_id="p1",
            amount_cents=-5,
        )
