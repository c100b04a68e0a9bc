"""Early deletes: what content alone condemns, before the batch — never more than the batch
would delete, with the key of the batch's own delete."""

from __future__ import annotations

from datetime import UTC, datetime

from qunzhu_tests import add_member
from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.moderation.early import EARLY, EarlyDeletes
from qunzhu.moderation.moderator import RuleModerator
from qunzhu.pipeline import Pipeline
from qunzhu.store import Store
from qunzhu.store.models import Community

SPEC = """\
name: 测试群
purpose: early deletes
rules:
  contact_solicitation: {action: delete_warn, severity: 2}
  classifier: {action: allow, threshold_flag: 1.0, threshold_act: 1.0}
escalation:
  protected: [老王]
"""
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SPAM = "加 薇 信 abc_123 了解赚钱项目"


def _community(store: Store, spec: str = SPEC) -> None:
    with store.unit_of_work() as session:
        session.add(Community(slug="c1", name="测试群", spec_yaml=spec))


def _message(n: int, text: str, member: str = "u1", **kw: object) -> ev.MessagePosted:
    fields: dict[str, object] = {
        "platform": "telegram",
        "community": "c1",
        "group": "g1",
        "member": member,
        "occurred_at": AT,
        "message_id": str(n),
        "text": text,
        "member_name": member,
    }
    fields.update(kw)
    return ev.MessagePosted(**fields)  # type: ignore[arg-type]


def _early(store: Store) -> tuple[EarlyDeletes, RuleModerator]:
    moderator = RuleModerator()
    return EarlyDeletes(moderator, store.read_engine.connect), moderator


def _batch_actions(
    store: Store, moderator: RuleModerator, events: list[ev.Event]
) -> list[ev.Action]:
    report = Pipeline(store, moderator=moderator).run(events, source="live")
    return list(report.actions)


def test_an_ad_gets_the_key_of_the_delete_its_batch_decides(store):
    _community(store)
    early, moderator = _early(store)
    events = [_message(1, SPAM), _message(2, "大家早上好")]
    [action] = early(events)
    assert action.kind == "delete_message" and action.message_id == "1"
    assert action.detail[EARLY] is True and action.detail["event"] == events[0].key
    later = [a for a in _batch_actions(store, moderator, events) if a.kind == "delete_message"]
    assert [a.key for a in later] == [action.key]  # one delete, whichever comes first


def test_a_stored_message_is_not_deleted_again(store):
    _community(store)
    early, moderator = _early(store)
    events = [_message(1, SPAM)]
    _batch_actions(store, moderator, events)
    assert early(events) == []  # a redelivery after the batch stored it


def test_protected_members_are_left_alone(store):
    _community(store)
    add_member(store, "c1", "t1", protected=True)
    early, moderator = _early(store)
    events = [_message(1, SPAM, member="t1"), _message(2, SPAM, member="老王"), _message(3, SPAM)]
    assert [a.message_id for a in early(events)] == ["3"]  # by flag, by the spec's list
    batch = [
        a.message_id for a in _batch_actions(store, moderator, events) if a.kind == "delete_message"
    ]
    assert batch == ["3"]


def test_what_the_spec_does_not_delete_is_not_deleted_early(store):
    flag_only = SPEC.replace("{action: delete_warn, severity: 2}", "{action: flag, severity: 2}")
    _community(store, flag_only)
    early, _moderator = _early(store)
    assert early([_message(1, SPAM)]) == []


def test_platforms_that_cannot_act_get_no_early_delete(store):
    _community(store)
    early, _moderator = _early(store)
    assert early([_message(1, SPAM, platform="wecom")]) == []


def test_unknown_communities_and_other_events_are_skipped(store):
    _community(store)
    early, _moderator = _early(store)
    stranger = _message(1, SPAM, community="nobody")
    joined = ev.MemberJoined(
        platform="telegram", community="c1", group="g1", member="u9", occurred_at=AT
    )
    assert early([stranger, joined]) == []


def test_a_spec_edit_reaches_early_deletes_after_the_cache_time(store):
    _community(store)
    early, _moderator = _early(store)
    early.spec_ttl = 0.0  # read the spec every time
    assert len(early([_message(1, SPAM)])) == 1
    with store.unit_of_work() as session:
        row = session.execute(select(Community)).scalar_one()
        row.spec_yaml = SPEC.replace("delete_warn", "warn")
    assert early([_message(2, SPAM)]) == []  # warn alone deletes nothing


def test_warming_reads_the_specs_without_deciding_anything(store):
    _community(store)
    early, _moderator = _early(store)
    early.warm({"c1", "nobody"})
    assert set(early._places) == {"c1"}


def test_a_member_protected_later_is_left_alone_once_the_cache_is_read_again(store):
    _community(store)
    # the test's clock, not the machine's: a loaded machine must not expire the cache early
    clock = [1000.0]
    early = EarlyDeletes(
        RuleModerator(), store.read_engine.connect, spec_ttl=0.3, clock=lambda: clock[0]
    )
    assert len(early([_message(1, SPAM, member="t7")])) == 1
    add_member(store, "c1", "t7", protected=True)
    clock[0] += 0.25
    assert len(early([_message(2, SPAM, member="t7")])) == 1  # within the cache time
    clock[0] += 0.1
    assert early([_message(3, SPAM, member="t7")]) == []


def test_a_member_id_in_the_spec_protects_every_identity_of_that_member(store):
    _community(store)
    member_id = add_member(store, "c1", "t8")
    with store.unit_of_work() as session:
        row = session.execute(select(Community)).scalar_one()
        row.spec_yaml = SPEC.replace("[老王]", f"[老王, '{member_id}']")
    early, _moderator = _early(store)
    events = [_message(1, SPAM, member="t8"), _message(2, SPAM, member="t9")]
    assert [a.message_id for a in early(events)] == ["2"]


def test_without_the_stored_check_the_callers_claim_tells_a_redelivery(store):
    _community(store)
    moderator = RuleModerator()
    early = EarlyDeletes(moderator, store.read_engine.connect, check_stored=False)
    events = [_message(1, SPAM)]
    _batch_actions(store, moderator, events)
    # the message is stored, and no database read asks: the Redis claim of the first
    # delivery keeps the delete from going out twice (tests/live/test_live_split.py)
    [again] = early(events)
    assert again.key == early(events)[0].key
