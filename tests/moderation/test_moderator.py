"""Moderation inside the pipeline: actions with evidence, the ladder over time, expiry,
appeals, audit mode, platforms that cannot act, and re-runs that change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.moderation.moderator import RuleModerator
from qunzhu.moderation.review import feedback, queue, review
from qunzhu.moderation.stored import community_spec
from qunzhu.pipeline import Pipeline
from qunzhu.store import Store
from qunzhu.store.models import Community, Message, ModerationAction

SPEC = """\
name: 测试群
purpose: moderation tests
rules:
  contact_solicitation:
    action: delete_warn
    severity: 2
  classifier:  # off: these tests count the contact rule's points alone
    action: allow
    threshold_flag: 1.0
    threshold_act: 1.0
escalation:
  points_expire_days: 30
"""
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SPAM = "加 薇 信 abc_123 了解赚钱项目"


def _community(store: Store, spec: str = SPEC) -> None:
    with store.unit_of_work() as session:
        session.add(Community(slug="c1", name="测试群", spec_yaml=spec))


def _message(
    n: int,
    text: str,
    *,
    at: datetime,
    platform: str = "test",
    member: str = "spammer",
    group: str = "g1",
    kind: str = "text",
) -> ev.MessagePosted:
    return ev.MessagePosted(
        platform=platform,
        community="c1",
        group=group,
        member=member,
        occurred_at=at,
        message_id=f"m{n}",
        text=text,
        kind=kind,
        member_name="Spammer",
    )


def _run(store: Store, moderator: RuleModerator, *events: ev.MessagePosted) -> list[ev.Action]:
    return Pipeline(store, moderator=moderator).run(list(events), source="test").actions


def test_spam_through_the_pipeline_is_deleted_and_warned_with_evidence(store: Store) -> None:
    _community(store)
    actions = _run(
        store,
        RuleModerator(),
        _message(1, SPAM, at=START),
        _message(2, "大家早上好", at=START, member="friend"),
    )
    assert [a.kind for a in actions] == ["delete_message", "warn"]
    delete, warn = actions
    assert delete.message_id == "m1" and delete.detail["rule"] == "contact_solicitation"
    assert delete.detail["evidence"] == "薇 信 abc_123"
    assert "禁止留联系方式拉人" in (warn.text or "") and "Spammer" in (warn.text or "")
    with store.reading() as s:
        row = s.scalars(select(ModerationAction)).one()
        flagged = s.scalars(select(Message.flagged).order_by(Message.platform_message_id)).all()
    assert (row.rule, row.detector, row.status, row.points) == (
        "contact_solicitation",
        "wechat_id",
        "applied",
        2.0,
    )
    assert row.message_id is not None and row.evidence["findings"][0]["evidence"] == "薇 信 abc_123"
    assert flagged == [True, False]


def test_the_third_offence_mutes_and_points_expire_on_time(store: Store) -> None:
    _community(store)
    moderator = RuleModerator()
    first = _run(store, moderator, _message(1, SPAM, at=START))
    second = _run(store, moderator, _message(2, SPAM + " 2", at=START + timedelta(days=1)))
    third = _run(store, moderator, _message(3, SPAM + " 3", at=START + timedelta(days=2)))
    assert [a.kind for a in first] == [a.kind for a in second] == ["delete_message", "warn"]
    assert [a.kind for a in third] == ["delete_message", "mute"]
    assert third[1].duration_seconds == 3600 and third[1].detail["total_points"] == 6.0
    # 30 days on, the first two offences' points have expired: back to a warning
    later = _run(store, moderator, _message(4, SPAM + " 4", at=START + timedelta(days=31.5)))
    assert [a.kind for a in later] == ["delete_message", "warn"]
    assert later[1].detail["total_points"] == 4.0  # the third offence's 2 points are still live


def test_an_appeal_undoes_the_action_and_its_points(store: Store) -> None:
    _community(store)
    moderator = RuleModerator()
    for n in range(3):
        _run(store, moderator, _message(n, f"{SPAM} {n}", at=START + timedelta(hours=n)))
    with store.unit_of_work() as s:
        spec = community_spec(s, "c1")
        muted = s.scalars(select(ModerationAction).order_by(ModerationAction.id)).all()[-1]
        assert muted.action == "mute"
        done = review(s, muted.community_id, muted.id, "undo", spec, note="appeal: my own shop")
    assert done.status == "undone" and done.points == 0.0
    assert [a.kind for a in done.actions] == ["unmute"]
    with store.reading() as s:
        message = s.get(Message, muted.message_id)
        assert message is not None and message.flagged is False
        assert feedback(s, muted.community_id) == [(0, f"{SPAM} 2")]
    # with the appealed points gone, the next breach is back to the second rung's start
    again = _run(store, moderator, _message(9, SPAM + " 9", at=START + timedelta(hours=5)))
    assert again[1].kind == "mute" and again[1].detail["total_points"] == 6.0


def test_flagged_messages_wait_for_review_and_approval_adds_points(store: Store) -> None:
    # a community that reviews every classifier hit by hand
    _community(
        store,
        SPEC.replace(
            "action: allow\n    threshold_flag: 1.0", "action: delete_warn\n    threshold_flag: 0.3"
        ),
    )
    text = "稳赚项目 日入过万 名额有限 私聊我"
    actions = _run(store, RuleModerator(), _message(1, text, at=START))
    assert actions == []
    with store.unit_of_work() as s:
        community_id = s.scalar(select(Community.id))
        assert community_id is not None
        items = queue(s, community_id)
        assert [(i["rule"], i["status"], i["points"]) for i in items] == [
            ("classifier", "pending_review", 0.0)
        ]
        done = review(s, community_id, items[0]["id"], "approve", community_spec(s, "c1"))
        assert done.status == "approved" and done.points == 3.0
        assert [a.kind for a in done.actions] == ["delete_message", "warn"]
        assert feedback(s, community_id) == [(1, text)]


def test_audit_mode_decides_but_does_not_act(store: Store) -> None:
    _community(store)
    moderator = RuleModerator(mode="audit")
    actions = _run(store, moderator, _message(1, SPAM, at=START), _message(2, SPAM + "!", at=START))
    assert actions == []
    assert moderator.report() == [
        {"rule": "contact_solicitation", "action": "delete_warn", "count": 2}
    ]
    with store.reading() as s:
        modes = set(s.scalars(select(ModerationAction.mode)))
        statuses = set(s.scalars(select(ModerationAction.status)))
    assert modes == {"audit"} and statuses == {"audited"}


def test_a_platform_that_cannot_act_gets_an_alert(store: Store) -> None:
    _community(store)
    actions = _run(store, RuleModerator(), _message(1, SPAM, at=START, platform="wecom"))
    assert [a.kind for a in actions] == ["alert"]
    assert actions[0].detail["would"] == ["delete_message", "warn"]
    with store.reading() as s:
        assert s.scalars(select(ModerationAction.status)).one() == "alerted"


def test_wechat_warns_and_alerts_for_the_delete_it_cannot_do(store: Store) -> None:
    # a personal account can post in the group but not recall someone else's message
    _community(store)
    actions = _run(store, RuleModerator(), _message(1, SPAM, at=START, platform="wechat"))
    assert [a.kind for a in actions] == ["warn", "alert"]
    assert actions[1].detail["would"] == ["delete_message"]


def test_a_re_run_decides_nothing_twice(store: Store) -> None:
    _community(store)
    moderator = RuleModerator()
    message = _message(1, SPAM, at=START)
    assert _run(store, moderator, message)
    assert _run(store, moderator, message) == []
    with store.reading() as s:
        assert len(s.scalars(select(ModerationAction)).all()) == 1


def test_protected_members_and_flooding(store: Store) -> None:
    _community(store, SPEC + "  protected: [boss]\n")
    moderator = RuleModerator()
    assert _run(store, moderator, _message(1, SPAM, at=START, member="boss")) == []
    burst = [
        _message(10 + n, f"刷屏 {n}", at=START + timedelta(seconds=n), member="loud")
        for n in range(10)
    ]
    actions = _run(store, moderator, *burst)
    assert {a.kind for a in actions} >= {"mute"}
    assert {a.detail["rule"] for a in actions} == {"flooding"}


def test_contact_cards_and_bad_input_never_crash_the_pipeline(store: Store) -> None:
    _community(store)
    weird = [
        _message(1, "", at=START, kind="contact_card"),
        _message(2, "x" * 100_000, at=START),
        _message(3, "\ud800 broken surrogate 微信 abc_123", at=START),
        _message(4, "(((((((((((" * 500, at=START),
        _message(5, "", at=START, kind="image"),
    ]
    report = Pipeline(store, moderator=RuleModerator()).run(weird, source="test")
    assert report.added + len(report.quarantined) == 5
    assert any(a.detail.get("rule") == "contact_cards" for a in report.actions)


def test_a_newcomer_may_not_post_links_on_the_first_day(store: Store) -> None:
    _community(store)
    joined = ev.MemberJoined(
        platform="test", community="c1", group="g1", member="new", occurred_at=START
    )
    Pipeline(store).run([joined], source="test")
    moderator = RuleModerator()
    early = _run(
        store,
        moderator,
        _message(
            1, "看这个 http://shop.example.top/x", at=START + timedelta(hours=2), member="new"
        ),
    )
    assert [a.detail["rule"] for a in early] == ["links", "links"]
    late = _run(
        store,
        moderator,
        _message(2, "看这个 http://shop.example.top/y", at=START + timedelta(days=2), member="new"),
    )
    assert late == []


def test_a_classifier_score_alone_flags_a_member_in_good_standing_and_acts_on_a_newcomer(
    store: Store,
) -> None:
    _community(
        store,
        SPEC.replace(
            "action: allow\n    threshold_flag: 1.0\n    threshold_act: 1.0",
            "action: delete_warn\n    threshold_flag: 0.3\n    threshold_act: 0.5\n"
            "    threshold_act_good_standing: 1.0\n    good_standing_days: 14",
        ),
    )
    text = "稳赚项目 日入过万 名额有限 私聊我"
    moderator = RuleModerator()
    _run(store, moderator, _message(1, "大家好，我是做前端的", at=START, member="veteran"))
    later = START + timedelta(days=20)
    assert _run(store, moderator, _message(2, text, at=later, member="veteran")) == []
    acted = _run(store, moderator, _message(3, text + "!", at=later, member="newcomer"))
    assert [a.kind for a in acted] == ["delete_message", "warn"]
    with store.reading() as s:
        rows = s.scalars(select(ModerationAction).order_by(ModerationAction.id)).all()
        assert [(r.rule, r.status, r.points) for r in rows] == [
            ("classifier", "pending_review", 0.0),
            ("classifier", "applied", 3.0),
        ]
