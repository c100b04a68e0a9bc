"""SOP playbooks on both databases: joiners are walked through day 0, 1 and 3; the day-3
nudge goes only to the one who stayed silent; a second run sends nothing again; reminders
before a membership ends; a bad playbook names its line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from qunzhu.events import event_from_json
from qunzhu.growth.common import spec_of
from qunzhu.messaging.playbooks import progress_of, run
from qunzhu.spec import SpecError, load_spec
from qunzhu.store import Store
from qunzhu.store.community import Community, Identity
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.growth import Subscription
from qunzhu.store.tasks import OperatorTask
from qunzhu.wiring import build_pipeline

SPEC = """\
name: 读书会
purpose: read together
playbooks:
  - name: newcomer
    trigger: member_joined
    steps:
      - {day: 0, to: group, text: {zh-CN: "欢迎 {name} 来到{group}"}}
      - {day: 1, text: {zh-CN: "{name}，来做个自我介绍吧"}}
      - {day: 3, unless: spoke, text: {zh-CN: "{name}，还没听你说话，有问题随时问"}}
      - {day: 7, kind: task, text: {zh-CN: "问问 {name} 第一周感受如何"}}
  - name: renewal
    trigger: before_expiry
    steps:
      - {day: 7, text: {zh-CN: "{name}，会员还剩 {days_left} 天"}}
      - {day: 1, text: {zh-CN: "{name}，会员明天到期"}}
"""


def _event(kind: str, member: str, at: datetime, **extra) -> dict:
    return {
        "type": kind,
        "platform": "telegram",
        "community": "acme",
        "group": "-1001",
        "member": member,
        "member_name": member,
        "occurred_at": at.isoformat(),
        **extra,
    }


def _run(store: Store, now: datetime) -> dict:
    with store.engine.begin() as conn:
        cid = conn.scalar(select(Community.id).where(Community.slug == "acme"))
        return run(conn, cid, spec_of(conn, cid), now, "zh-CN")


def _sent(store: Store) -> list[tuple[str, str, str]]:
    with store.reading() as session:
        rows = session.execute(
            select(OutboxAction.kind, OutboxAction.action)
            .where(OutboxAction.origin == "playbook")
            .order_by(OutboxAction.id)
        ).all()
    return [(k, a["group"], a["text"]) for k, a in rows]


def test_the_day_three_nudge_goes_only_to_the_silent_one(store):
    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="读书会", spec_yaml=SPEC))
    joined = datetime.now(UTC) - timedelta(minutes=10)
    build_pipeline(store, "live").run(
        [
            event_from_json(_event("member_joined", "ann", joined)),
            event_from_json(_event("member_joined", "bob", joined)),
        ],
        source="test",
    )
    now = datetime.now(UTC)
    assert _run(store, now)["enrolled"] == 2
    day0 = _sent(store)
    assert sorted((g, t) for _, g, t in day0) == [
        ("-1001", "欢迎 ann 来到-1001"),
        ("-1001", "欢迎 bob 来到-1001"),
    ]
    assert _run(store, now)["acted"] == 0  # nothing twice

    # ann speaks on day 2; on day 3 only bob is nudged, privately
    build_pipeline(store, "history").run(
        [
            event_from_json(
                _event(
                    "message_posted",
                    "ann",
                    joined + timedelta(days=2),
                    message_id="a1",
                    text="大家好",
                )
            )
        ],
        source="test",
    )
    report = _run(store, joined + timedelta(days=3, minutes=1))
    assert report == {"enrolled": 0, "acted": 3, "skipped": 1}
    texts = sorted(t for _, _, t in _sent(store)[2:])
    assert texts == [
        "ann，来做个自我介绍吧",
        "bob，来做个自我介绍吧",
        "bob，还没听你说话，有问题随时问",
    ]
    nudges = [(g, t) for _, g, t in _sent(store) if "还没听你说话" in t]
    assert nudges == [("bob", "bob，还没听你说话，有问题随时问")]  # privately, to bob himself
    assert _run(store, joined + timedelta(days=3, minutes=2))["acted"] == 0
    _run(store, joined + timedelta(days=8))
    assert not [k for k, _, _ in _sent(store) if k == "alert"]  # tasks are not alerts
    with store.reading() as session:
        tasks = session.scalars(select(OperatorTask).order_by(OperatorTask.id)).all()
    assert sorted(t.text for t in tasks) == ["问问 ann 第一周感受如何", "问问 bob 第一周感受如何"]
    assert {t.due_at for t in tasks} == {joined + timedelta(days=7)}  # due when the step is
    assert all(t.kind == "playbook" and t.member_id and t.group_id for t in tasks)
    with store.reading() as session:
        cid = session.scalar(select(Community.id))
        ann = session.scalar(select(Identity.member_id).where(Identity.platform_user_id == "ann"))
    with store.engine.connect() as conn:
        [progress] = progress_of(conn, cid, ann)
    assert progress["playbook"] == "newcomer" and progress["done"]
    assert [h["outcome"] for h in progress["history"]] == ["message", "message", "skipped", "task"]


def test_reminders_before_a_membership_ends(store):
    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="读书会", spec_yaml=SPEC))
    build_pipeline(store, "history").run(
        [event_from_json(_event("member_joined", "cat", datetime.now(UTC) - timedelta(days=300)))],
        source="test",
    )
    ends = datetime.now(UTC) + timedelta(days=10)
    with store.unit_of_work() as session:
        cid = session.scalar(select(Community.id))
        cat = session.scalar(select(Identity.member_id).where(Identity.platform_user_id == "cat"))
        session.add(
            Subscription(
                community_id=cid,
                member_id=cat,
                plan="year",
                started_at=ends - timedelta(days=365),
                expires_at=ends,
            )
        )
    now = datetime.now(UTC)
    assert _run(store, now)["acted"] == 0  # 10 days before: not yet
    assert _run(store, ends - timedelta(days=7) + timedelta(minutes=1))["acted"] == 1
    assert _run(store, ends - timedelta(days=1) + timedelta(minutes=1))["acted"] == 1
    texts = [t for _, _, t in _sent(store)]
    assert texts == ["cat，会员还剩 7 天", "cat，会员明天到期"]


def test_a_bad_playbook_is_refused_naming_it():
    bad = SPEC.replace("{day: 1, text", "{day: 5, text")
    with pytest.raises(SpecError) as caught:
        load_spec(bad)
    assert "playbooks" in str(caught.value)


def test_the_playbook_commands(store, cli, cli_env):
    import json

    from qunzhu.cli.main import app

    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="读书会", spec_yaml=SPEC))
    build_pipeline(store, "live").run(
        [event_from_json(_event("member_joined", "dan", datetime.now(UTC) - timedelta(minutes=5)))],
        source="test",
    )
    ran = json.loads(cli.invoke(app, ["playbook", "run", "-c", "acme", "--json"]).output)
    assert ran == {"enrolled": 1, "acted": 1, "skipped": 0}
    listed = json.loads(cli.invoke(app, ["playbook", "list", "-c", "acme", "--json"]).output)
    newcomer = next(b for b in listed if b["name"] == "newcomer")
    assert [s["waiting"] for s in newcomer["steps"]] == [0, 1, 0, 0]
    assert cli.invoke(app, ["playbook", "list", "-c", "nope"]).exit_code == 2
