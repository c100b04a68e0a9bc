"""`qunzhu send` and `qunzhu sent` on both databases: a preview queues nothing, a send queues
one outbox row per target with the text rendered for it, bad input names its field."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from qunzhu_tests import add_member
from sqlalchemy import func, select

from qunzhu.cli.main import app
from qunzhu.store import Store
from qunzhu.store.community import Community, Group
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.growth import Subscription
from qunzhu.store.intelligence import TierState
from qunzhu.store.outbox import claim

SPEC = """\
name: 读书会
purpose: read together
messaging: {daily_cap: 3}
tiers:
  - {id: member, name_zh: 正式会员, name_en: Member}
  - {id: core, name_zh: 核心成员, name_en: Core}
"""


def _seed(store: Store) -> dict[str, int]:
    with store.unit_of_work() as session:
        community = Community(slug="acme", name="读书会", spec_yaml=SPEC)
        session.add(community)
        session.flush()
        for n, segment in ((1, "beijing"), (2, "beijing"), (3, "shanghai")):
            session.add(
                Group(
                    community_id=community.id,
                    platform="telegram",
                    platform_group_id=f"-100{n}",
                    name=f"读书{n}群",
                    segment=segment,
                )
            )
    mia = add_member(store, "acme", "5001")
    with store.unit_of_work() as session:
        cid = session.scalar(select(Community.id).where(Community.slug == "acme"))
        session.add(TierState(member_id=mia, community_id=cid, tier="core", since=date(2026, 1, 1)))
        session.add(
            Subscription(
                community_id=cid,
                member_id=mia,
                plan="year",
                started_at=datetime.now(UTC) - timedelta(days=300),
                expires_at=datetime.now(UTC) + timedelta(days=5, hours=1),
            )
        )
    return {"mia": mia}


def _run(cli, *args: str):
    return cli.invoke(app, [*args, "--json"])


def _outbox(store: Store) -> list[tuple[str, str, str]]:
    with store.reading() as session:
        rows = session.execute(
            select(OutboxAction.action, OutboxAction.status, OutboxAction.origin).order_by(
                OutboxAction.id
            )
        ).all()
    return [(r.action["group"], r.action["text"], r.status) for r in rows]


def test_a_preview_shows_each_text_and_queues_nothing(store, cli, cli_env):
    _seed(store)
    shown = _run(cli, "send", "-c", "acme", "--segment", "beijing", "-t", "{group}：周五读书会")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["preview"] is False  # without --preview it is sent
    shown = _run(cli, "send", "-c", "acme", "-g", "读书3群", "-t", "{group}：周五", "--preview")
    data = json.loads(shown.output)
    assert data["preview"] is True
    assert [d["text"] for d in data["deliveries"]] == ["读书3群：周五"]
    assert [g for g, _, _ in _outbox(store)] == ["-1001", "-1002"]


def test_a_send_queues_one_delivery_per_group_and_sent_reports_them(store, cli, cli_env):
    _seed(store)
    sent = json.loads(
        _run(cli, "send", "-c", "acme", "--all-groups", "-t", "{community} 开课了").output
    )
    assert len(sent["deliveries"]) == 3
    assert _outbox(store) == [(f"-100{n}", "读书会 开课了", "queued") for n in (1, 2, 3)]
    status = json.loads(_run(cli, "sent", str(sent["id"]), "-c", "acme").output)
    assert status["counts"] == {"queued": 3} and status["targets"] == 3
    listed = json.loads(_run(cli, "sent", "-c", "acme").output)
    assert [b["id"] for b in listed] == [sent["id"]]
    assert claim(store, "test", limit=10) and _outbox(store)[0][2] == "sending"


def test_a_private_message_names_the_member_their_tier_and_days_left(store, cli, cli_env):
    ids = _seed(store)
    text = "{name}，你是{tier}，会员还剩 {days_left} 天"
    sent = json.loads(_run(cli, "send", "-c", "acme", "-m", str(ids["mia"]), "-t", text).output)
    [delivery] = sent["deliveries"]
    assert delivery["private"] and delivery["text"] == "5001，你是核心成员，会员还剩 5 天"
    [(chat, _, _)] = _outbox(store)
    assert chat == "5001"


def test_beyond_the_daily_cap_deliveries_are_planned_for_the_next_day(store, cli, cli_env):
    _seed(store)
    _run(cli, "send", "-c", "acme", "--all-groups", "-t", "一")
    second = json.loads(_run(cli, "send", "-c", "acme", "--all-groups", "-t", "二").output)
    assert all(d["planned_for"] is not None for d in second["deliveries"])
    # the planned ones are not claimed before their time
    taken = claim(store, "test", limit=10)
    assert sorted(a.text or "" for a in taken) == ["一", "一", "一"]


def test_bad_input_names_the_field_and_queues_nothing(store, cli, cli_env):
    _seed(store)
    cases = [
        (["--all-groups", "-t", "{name} 你好"], "text.zh-CN"),
        (["--all-groups", "-t", "ok", "--text-en", "hi {nmae}"], "text.en"),
        (["-g", "没有这个群", "-t", "ok"], "groups"),
        (["--segment", "guangzhou", "-t", "ok"], "segment"),
        (["-m", "424242", "-t", "ok"], "members"),
        (["-t", "nobody"], "groups"),
        (["-g", "读书1群", "-m", "5001", "-t", "both"], "members"),
    ]
    for args, field in cases:
        answer = _run(cli, "send", "-c", "acme", *args)
        assert answer.exit_code == 2, (args, answer.output)
        assert json.loads(answer.output)["field"] == field, args
    wrong = _run(cli, "send", "-c", "nope", "--all-groups", "-t", "ok")
    assert wrong.exit_code == 2 and "unknown community" in wrong.output
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(OutboxAction)) == 0
