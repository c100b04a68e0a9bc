"""The welcome job on both databases: a burst of joins is welcomed in batches naming them, a
second run (or one repeated after a crash) welcomes nobody again, stale and departed joins
are not welcomed, WeCom groups are left to their own template, WeChat groups get a task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from qunzhu.events import event_from_json
from qunzhu.growth.common import spec_of
from qunzhu.messaging.welcome import Join, batches, welcome
from qunzhu.spec import SpecError, load_spec
from qunzhu.store import Store
from qunzhu.store.community import Community
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.messaging import MessageCursor
from qunzhu.store.tasks import OperatorTask
from qunzhu.wiring import build_pipeline

SPEC = """\
name: 读书会
purpose: read together
messaging: {welcome_batch: 10}
messages:
  welcome: {zh-CN: "欢迎 {member} 加入{group}！", en: "Welcome {member} to {group}!"}
"""


def _event(kind: str, platform: str, group: str, member: str, ago: timedelta) -> dict:
    return {
        "type": kind,
        "platform": platform,
        "community": "acme",
        "group": group,
        "member": member,
        "member_name": f"新人{member}" if kind == "member_joined" else "",
        "occurred_at": (datetime.now(UTC) - ago).isoformat(),
    }


def _feed(store: Store, items: list[dict]) -> None:
    build_pipeline(store, "live").run([event_from_json(i) for i in items], source="test")


def _run(store: Store) -> dict:
    with store.engine.begin() as conn:
        cid = conn.scalar(select(Community.id).where(Community.slug == "acme"))
        return welcome(conn, cid, spec_of(conn, cid), datetime.now(UTC), "zh-CN")


def _welcomes(store: Store) -> list[tuple[str, str, str]]:
    with store.reading() as session:
        rows = session.execute(
            select(OutboxAction.kind, OutboxAction.action)
            .where(OutboxAction.origin == "welcome")
            .order_by(OutboxAction.id)
        ).all()
    return [(r.kind, r.action["group"], r.action["text"]) for r in rows]


def _community(store: Store) -> None:
    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="读书会", spec_yaml=SPEC))


def test_a_burst_of_joins_is_welcomed_in_batches_once(store):
    _community(store)
    burst = [
        _event("member_joined", "telegram", "-1001", f"u{n}", timedelta(seconds=30 - n))
        for n in range(23)
    ]
    _feed(store, burst)
    report = _run(store)
    assert report["messages"] == 3 and report["welcomed"] == 23
    sent = _welcomes(store)
    assert [k for k, _, _ in sent] == ["send_message"] * 3
    assert sent[0][2].startswith("欢迎 新人u0、新人u1、") and "新人u9 加入" in sent[0][2]
    assert "新人u22" in sent[2][2] and sent[2][2].count("、") == 2
    assert _run(store) == {"welcomed": 0, "messages": 0}
    assert len(_welcomes(store)) == 3

    # a run repeated after a crash (the cursor not moved) queues nothing twice
    with store.unit_of_work() as session:
        session.execute(update(MessageCursor).values(position=0))
    _run(store)
    assert len(_welcomes(store)) == 3


def test_stale_departed_and_platform_rules(store):
    _community(store)
    _feed(
        store,
        [
            _event("member_joined", "telegram", "-1001", "old", timedelta(hours=3)),
            _event("member_joined", "telegram", "-1001", "gone", timedelta(minutes=5)),
            _event("member_left", "telegram", "-1001", "gone", timedelta(minutes=4)),
            _event("member_joined", "wecom", "wrAAA", "w1", timedelta(minutes=2)),
            _event("member_joined", "wechat", "wx-group", "x1", timedelta(minutes=2)),
            _event("member_joined", "qq", "123456", "q1", timedelta(minutes=1)),
        ],
    )
    assert _run(store)["tasks"] == 1
    sent = _welcomes(store)
    assert [(k, g) for k, g, _ in sent] == [("send_message", "123456")]
    # the WeChat group's welcome is the operator's to post, once however often the job runs
    with store.engine.begin() as conn:
        conn.execute(update(MessageCursor).values(position=0))
    _run(store)
    with store.reading() as session:
        [task] = session.scalars(select(OperatorTask)).all()
    assert task.kind == "welcome" and "新人x1" in task.text and task.state == "open"
    assert task.detail["what"] == "send" and task.group_id is not None


def test_batches_keep_each_groups_order():
    joins = [Join(n, n % 2, f"m{n}") for n in range(7)]
    assert [[j.event_id for j in b] for b in batches(joins, 2)] == [[0, 2], [4, 6], [1, 3], [5]]


GROUP_WELCOME = """\
groups:
  "-1002":
    welcome:
      zh-CN: "{member}，欢迎来到打卡群，先读置顶的打卡规则"
      en: "{member}, welcome to the check-in group: read the pinned rules first"
"""


def test_a_group_with_its_own_welcome_gets_it_the_others_the_communitys(store):
    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="读书会", spec_yaml=SPEC + GROUP_WELCOME))
    _feed(
        store,
        [
            _event("member_joined", "telegram", "-1001", "a", timedelta(seconds=20)),
            _event("member_joined", "telegram", "-1002", "b", timedelta(seconds=10)),
        ],
    )
    _run(store)
    texts = {group: text for _, group, text in _welcomes(store)}
    assert texts["-1001"] == "欢迎 新人a 加入-1001！"
    assert texts["-1002"] == "新人b，欢迎来到打卡群，先读置顶的打卡规则"


def test_a_group_welcome_with_an_unknown_placeholder_is_named_with_its_line():
    bad = SPEC + GROUP_WELCOME.replace("{member}，欢迎", "{membr}，欢迎")
    try:
        load_spec(bad)
    except SpecError as exc:
        [problem] = exc.problems
    else:
        raise AssertionError("the spec loaded")
    assert problem.path == "groups.-1002.welcome.zh-CN"
    assert (
        problem.line
        == bad.splitlines().index('      zh-CN: "{membr}，欢迎来到打卡群，先读置顶的打卡规则"') + 1
    )
    assert "{membr}" in problem.message
