"""Early warnings where the platform cannot delete (WeChat): the batch's own warning, sent at
receipt, once — and nothing where the batch would do something else."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from qunzhu_tests import run_coroutine
from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.moderation.behaviour import SharedBehaviour
from qunzhu.moderation.early import EARLY, EarlyDeletes
from qunzhu.moderation.early_warn import EARLY_WARNING
from qunzhu.moderation.moderator import RuleModerator
from qunzhu.moderation.sent_once import SentOnce, TwinPending
from qunzhu.pipeline import Pipeline
from qunzhu.store import Store
from qunzhu.store.models import Community, Identity, Member, ModerationAction

# severity 2 a breach; the third (6 points) removes, as the ladder says
SPEC = """\
name: 测试群
purpose: early warnings
rules:
  contact_solicitation: {action: delete_warn, severity: 2}
  classifier: {action: allow, threshold_flag: 1.0, threshold_act: 1.0}
escalation:
  protected: [老王]
  ladder:
    - {points: 1, action: warn}
    - {points: 6, action: remove}
"""
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SPAM = "加 薇 信 abc_123 了解赚钱项目"


def _community(store: Store, spec: str = SPEC) -> None:
    with store.unit_of_work() as session:
        session.add(Community(slug="c1", name="测试群", spec_yaml=spec))


def _wechat_member(store: Store, user: str, *, protected: bool = False) -> None:
    with store.unit_of_work() as session:
        cid = session.execute(select(Community.id)).scalar_one()
        member = Member(community_id=cid, display_name=user, protected=protected)
        session.add(member)
        session.flush()
        session.add(
            Identity(
                community_id=cid, member_id=member.id, platform="wechat", platform_user_id=user
            )
        )


def _message(n: int, text: str = SPAM, member: str = "wxid_a", **kw: object) -> ev.MessagePosted:
    fields: dict[str, object] = {
        "platform": "wechat",
        "community": "c1",
        "group": "g1@chatroom",
        "member": member,
        "occurred_at": AT + timedelta(minutes=n),
        "message_id": str(n),
        "text": text,
        "member_name": member,
    }
    fields.update(kw)
    return ev.MessagePosted(**fields)  # type: ignore[arg-type]


def _early(store: Store, **kw: object) -> tuple[EarlyDeletes, RuleModerator]:
    moderator = RuleModerator(**kw)  # type: ignore[arg-type]
    return EarlyDeletes(moderator, store.read_engine.connect), moderator


def _batch(store: Store, moderator: RuleModerator, events: list[ev.Event]) -> list[ev.Action]:
    return list(Pipeline(store, moderator=moderator).run(events, source="live").actions)


def test_a_first_ad_is_warned_at_receipt_with_the_key_of_the_batchs_warning(store):
    _community(store)
    early, moderator = _early(store)
    first = _message(1)
    [warning] = early([first, _message(2, "大家早上好", member="wxid_b")])
    assert warning.kind == "warn" and warning.member == "wxid_a"
    assert warning.detail[EARLY_WARNING] is True and warning.detail["event"] == first.key
    assert EARLY not in warning.detail  # the group's lane: paced, never nested in a pace
    batch = _batch(store, moderator, [first])
    assert [a.kind for a in batch] == ["warn", "alert"]  # WeChat: no delete, an alert
    [twin] = [a for a in batch if a.kind == "warn"]
    assert (twin.key, twin.text) == (warning.key, warning.text)


def test_the_second_offence_is_warned_early_from_the_stored_points(store):
    _community(store)
    early, moderator = _early(store)
    _batch(store, moderator, [_message(1)])  # stored: 2 points
    [warning] = early([_message(2)])
    assert warning.kind == "warn" and warning.detail["total_points"] == 4
    [twin] = [a for a in _batch(store, moderator, [_message(2)]) if a.kind == "warn"]
    assert twin.key == warning.key


def test_the_third_offence_is_the_batchs_removal_never_an_early_warning(store):
    _community(store)
    early, moderator = _early(store)
    _batch(store, moderator, [_message(1), _message(2)])  # 4 points stored
    assert early([_message(3)]) == []
    kinds = [a.kind for a in _batch(store, moderator, [_message(3)])]
    assert "remove" in kinds and "warn" not in kinds  # the batch removes without a warning


def test_offences_seen_at_receipt_but_not_stored_yet_count(store):
    _community(store)
    early, moderator = _early(store)
    assert len(early([_message(1)])) == 1  # 2 points, not stored
    assert len(early([_message(2)])) == 1  # 4
    assert early([_message(3)]) == []  # 6 would remove: left to the batch
    # once the batch stored them, the store counts them and the tally forgets them
    _batch(store, moderator, [_message(1), _message(2)])
    third = _message(3)
    assert early([third]) == []
    assert early.warnings.tally.pending(("wechat", "c1", "wxid_a"), third.key) == {}


def test_protected_members_get_no_early_warning(store):
    _community(store)
    _wechat_member(store, "wxid_p", protected=True)
    early, moderator = _early(store)
    events = [_message(1, member="wxid_p"), _message(2, member="老王"), _message(3)]
    assert [a.member for a in early(events)] == ["wxid_a"]  # by flag, by the spec's list
    batch = [a.member for a in _batch(store, moderator, events) if a.kind == "warn"]
    assert batch == ["wxid_a"]


def test_a_redelivered_ad_is_not_warned_again(store):
    _community(store)
    early, moderator = _early(store)
    first = _message(1)
    [warning] = early([first])
    [again] = early([first])  # before the batch: the same key, which the ledger claims once
    assert again.key == warning.key
    _batch(store, moderator, [first])
    assert early([first]) == []  # stored: the batch decided it


def test_a_flood_near_its_threshold_leaves_the_ad_to_the_batch(store):
    _community(store)
    early, _moderator = _early(store)
    chat = [_message(100 + n, f"第 {n} 条消息，说点别的内容", occurred_at=AT) for n in range(9)]
    assert early(chat) == []
    assert early([_message(0, occurred_at=AT + timedelta(seconds=1))]) == []  # 10th in 30 s


def test_a_platform_that_can_delete_gets_the_delete_not_the_warning(store):
    _community(store)
    early, _moderator = _early(store)
    [action] = early([_message(1, platform="telegram")])
    assert action.kind == "delete_message"


def test_with_redis_away_the_ad_is_left_to_the_batch(store):
    import redis

    _community(store)
    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    early, _moderator = _early(store, behaviour=SharedBehaviour(dead))
    assert early([_message(1)]) == []  # the flooding windows cannot be read: in doubt
    once = SentOnce("redis://127.0.0.1:1/0")
    warning = _warning()
    assert once.taken([warning]) == set()  # no claim can be read: the batch's twin goes
    sent: list[int] = []
    once.run(warning, lambda: sent.append(1) or {})
    once.run(warning, lambda: sent.append(2) or {})
    assert sent == [1]  # within a process the record is in memory: once all the same


def _warning() -> ev.Action:
    return ev.Action(
        kind="warn",
        platform="wechat",
        community="c1",
        group="g1@chatroom",
        member="wxid_a",
        text="请注意群规",
        key="k1",
        detail={"event": "e1", "decision": "delete_warn"},
    )


def test_a_warning_is_sent_once_whichever_twin_comes_first():
    once = SentOnce()
    sent: list[str] = []
    warning = _warning()
    assert once.run(warning, lambda: sent.append("early") or {"message_id": "m1"}) == {
        "message_id": "m1"
    }
    second = once.run(warning, lambda: sent.append("batch") or {})
    assert sent == ["early"] and second["once"] == "sent by its twin"


def test_after_a_failed_first_try_the_twin_sends():
    once = SentOnce()
    warning = _warning()

    def fail() -> dict[str, str]:
        raise RuntimeError("bridge away")

    with contextlib.suppress(RuntimeError):
        once.run(warning, fail)
    assert once.taken([warning]) == set()  # failed: the batch's twin goes on
    assert once.run(warning, lambda: {"message_id": "m2"}) == {"message_id": "m2"}


def test_the_batch_leaves_out_a_planned_twin_and_records_what_came_of_it(store):
    _community(store)
    once = SentOnce()
    early, moderator = _early(store, sent_once=once)
    first = _message(1)
    [warning] = early([first])
    once.run(warning, lambda: {"message_id": "m1"})  # the connector sent it
    batch = _batch(store, moderator, [first])
    assert [a.kind for a in batch] == ["alert"]  # the warning is not handed on again
    with store.reading() as session:
        row = session.execute(select(ModerationAction)).scalar_one()
    assert (row.action, row.outcome) == ("delete_warn", "sent")


def test_in_a_split_serve_the_worker_learns_of_the_plan_from_the_early_claim(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(*client.keys("qunzhu:early:test-ns:*") or ["none"])
    web, worker = SentOnce(redis_url, "test-ns"), SentOnce(redis_url, "test-ns")
    warning = _warning()
    assert worker.taken([warning]) == set()
    # the web process claims the early warning in Redis with its update (the sink), and
    # plans it in its own memory: the worker's batch leaves its twin out
    client.set(f"qunzhu:early:test-ns:{warning.key}", "pending", ex=60)
    web.plan([warning.key])
    assert worker.taken([warning]) == {warning.key}
    sent: list[str] = []
    web.run(warning, lambda: sent.append("web") or {})
    assert sent == ["web"] and web.outcomes([warning.key]) == {warning.key: "sent"}


# -- on an event loop (SentOnce.arun): never waits, leaves doubt to a thread's run ---------
def _arun(once: SentOnce, warning: ev.Action, sent: list[str], who: str) -> dict[str, object]:
    async def send() -> dict[str, object]:
        sent.append(who)
        return {"message_id": who}

    return run_coroutine(once.arun(warning, send))


def test_a_warning_sent_on_the_loop_is_not_sent_again_by_its_twin():
    once = SentOnce()
    sent: list[str] = []
    warning = _warning()
    once.plan([warning.key])  # the early path handed it over
    assert _arun(once, warning, sent, "loop") == {"message_id": "loop"}
    twin = once.run(warning, lambda: sent.append("batch") or {})
    assert sent == ["loop"] and twin["once"] == "sent by its twin"
    again = _arun(once, warning, sent, "redelivered")
    assert sent == ["loop"] and again["once"] == "sent by its twin"


def test_on_the_loop_a_twin_under_way_or_failed_is_left_to_a_thread():
    once = SentOnce()
    warning = _warning()
    assert once._claim(warning.key)  # the batch's twin is being sent by a worker
    sent: list[str] = []
    with pytest.raises(TwinPending):
        _arun(once, warning, sent, "loop")
    once._record(warning.key, {"sent": False})  # ... and failed
    with pytest.raises(TwinPending):
        _arun(once, warning, sent, "loop")
    assert sent == []
    assert once.run(warning, lambda: {"message_id": "worker"}) == {"message_id": "worker"}


def test_the_batch_records_the_outcome_of_a_warning_sent_on_the_loop(store):
    _community(store)
    once = SentOnce()
    early, moderator = _early(store, sent_once=once)
    first = _message(1)
    [warning] = early([first])
    _arun(once, warning, [], "loop")
    batch = _batch(store, moderator, [first])
    assert [a.kind for a in batch] == ["alert"]  # the warning is not handed on again
    with store.reading() as session:
        row = session.execute(select(ModerationAction)).scalar_one()
    assert (row.action, row.outcome) == ("delete_warn", "sent")
