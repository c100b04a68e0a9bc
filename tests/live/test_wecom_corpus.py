"""Every form of the WeCom customer-group callback in tests/adapters/corpus/wecom/, sent
signed and encrypted to the callback route as WeCom sends it: each answers 200 and stores
exactly the joins and leaves written beside it, or is quarantined with the reason written
there.

Where the shapes were learned (each sample's ``source`` says which it follows): WeCom's
developer docs, 客户联系 > 变更回调 > 事件格式 (developer.work.weixin.qq.com/document/path/
92130; 92277 for third-party apps' InfoType/TimeStamp form) — 客户群变更事件 with
UpdateDetail, JoinScene, QuitScene, MemChangeCnt, MemChangeList of <Item>, LastMemVer and
CurMemVer; the older comma-separated ``<MemChangeList><![CDATA[id1,id2]]>`` from WxJava's
XStreamCDataListConverter (binarywang/WxJava, PR 3572); <Item> without CDATA from Go WeCom
SDKs' parser fixtures. The ids and names are made up here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from connector_fakes import wecom as wc
from connector_fakes.liveserver import LiveServer
from qunzhu_tests_connectors import connect, rows, serving
from sqlalchemy import select
from sqlalchemy.orm import aliased

from qunzhu.store import Store
from qunzhu.store.connectors import ConnectorGroup
from qunzhu.store.models import (
    Community,
    Group,
    Identity,
    MembershipEvent,
    Quarantine,
)

CORPUS = Path(__file__).parents[1] / "adapters" / "corpus" / "wecom"
SAMPLES = sorted(p.stem for p in CORPUS.glob("*.xml"))
GROUP = json.loads((CORPUS / "_group.json").read_text(encoding="utf-8"))
BEFORE_AT = 1717036400  # an hour before the samples' CreateTime


@pytest.fixture
def community(store: Store) -> str:
    # no size cap: a join over a cap would add an alert the samples do not expect
    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="读书会", spec_yaml="name: 读书会\n"))
    return "acme"


@pytest.fixture
def fake() -> Iterator[wc.FakeWeCom]:
    platform = wc.FakeWeCom()
    members = [
        wc.member(
            m["userid"],
            join_time=m["join_time"],
            scene=m["join_scene"],
            invitor=m.get("invitor"),
            kind=m["type"],
            state=m.get("state"),
        )
        for m in GROUP["members"]
    ]
    platform.chats[GROUP["chat_id"]] = {
        **wc.chat_detail(GROUP["chat_id"], GROUP["owner"], members),
        "name": GROUP["name"],
    }
    with LiveServer(platform.app) as server:
        platform.url = server.url  # type: ignore[attr-defined]
        yield platform


def _history(store: Store, after: int) -> list[tuple[str, str, str | None, str | None, str]]:
    who, other = aliased(Identity), aliased(Identity)
    found = rows(
        store,
        select(
            who.platform_user_id,
            MembershipEvent.kind,
            MembershipEvent.via,
            other.platform_user_id,
            MembershipEvent.occurred_at,
        )
        .join(who, who.member_id == MembershipEvent.member_id)
        .outerjoin(other, other.member_id == MembershipEvent.other_member_id)
        .where(MembershipEvent.id > after)
        .order_by(MembershipEvent.id),
    )
    return [
        (user, kind, via, by, (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat())
        for user, kind, via, by, at in found
    ]


def _last_event(store: Store) -> int:
    return max([i for (i,) in rows(store, select(MembershipEvent.id))], default=0)


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_wecom_callback_form_answers_200_and_stores_what_it_says(store, hub, fake, sample):
    expected: dict[str, Any] = json.loads((CORPUS / f"{sample}.json").read_text("utf-8"))
    xml = (CORPUS / f"{sample}.xml").read_text(encoding="utf-8")
    connector = connect(
        store,
        hub,
        "wecom",
        "wecom1",
        {"api_base": fake.url, "sync_interval": 0},  # type: ignore[attr-defined]
        {"corp_id": wc.CORP_ID, "secret": wc.SECRET, "token": wc.TOKEN, "aes_key": wc.AES_KEY},
    )
    with serving(store, hub) as server:
        hook = f"{server.url}/hooks/wecom/wecom1"
        if expected["before"]:
            before = wc.change_xml(
                GROUP["chat_id"],
                "update",
                detail="add_member",
                members=tuple(expected["before"]),
                at=BEFORE_AT,
            )
            assert wc.post_callback(hook, before).status_code == 200
        after = _last_event(store)
        answer = wc.post_callback(hook, xml)
        assert answer.status_code == expected["status"], answer.text
        assert wc.post_callback(hook, xml).status_code == 200  # WeCom's retry: nothing new
    history = _history(store, after)  # one callback's rows in no set order (PostgreSQL)
    assert sorted((u, via, by, at) for u, kind, via, by, at in history if kind == "join") == (
        sorted(tuple(j) for j in expected["joins"])
    )
    assert sorted((u, kind, at) for u, kind, _, _, at in history if kind != "join") == sorted(
        tuple(leave) for leave in expected["leaves"]
    )
    # the connector's own (the pipeline may quarantine the made-up referral code "state")
    kept = select(Quarantine.reason).where(Quarantine.source == "wecom:wecom1")
    reasons = [r for (r,) in rows(store, kept)]
    assert len(reasons) == len(expected["quarantined"])  # the retry is not kept twice
    for reason, wanted in zip(reasons, expected["quarantined"], strict=True):
        assert wanted in reason
    if "group_name" in expected:
        names = rows(store, select(Group.name).where(Group.platform_group_id == GROUP["chat_id"]))
        assert [n for (n,) in names] == [expected["group_name"]]
    if "group_status" in expected:
        [(status,)] = rows(store, select(ConnectorGroup.status))
        assert status == expected["group_status"]
    if "owner" in expected:
        assert connector.owners[GROUP["chat_id"]] == expected["owner"]


def test_every_sample_says_where_its_shape_was_learned():
    for sample in SAMPLES:
        expected = json.loads((CORPUS / f"{sample}.json").read_text("utf-8"))
        assert expected["source"].strip(), sample


def test_a_list_shorter_than_its_count_without_an_api_secret_keeps_the_named_and_says_why(
    store, hub
):
    connect(
        store,
        hub,
        "wecom",
        "wecom1",
        {"sync_interval": 0},
        {"corp_id": wc.CORP_ID, "token": wc.TOKEN, "aes_key": wc.AES_KEY},  # no secret
    )
    xml = (CORPUS / "add_member_count_above_list.xml").read_text(encoding="utf-8")
    bare = (CORPUS / "add_member_no_list.xml").read_text(encoding="utf-8")
    with serving(store, hub) as server:
        hook = f"{server.url}/hooks/wecom/wecom1"
        assert wc.post_callback(hook, xml).status_code == 200
        assert wc.post_callback(hook, bare).status_code == 200
    joined = [(u, via) for u, kind, via, _, _ in _history(store, 0) if kind == "join"]
    assert joined == [("wmQ3a1", "invite")]  # the one named, by its JoinScene
    kept = select(Quarantine.reason).where(Quarantine.source == "wecom:wecom1")
    assert sorted(r for (r,) in rows(store, kept)) == [
        "add_member: MemChangeCnt 1, 0 named in MemChangeList; the others cannot be looked up "
        "(no API secret)",
        "add_member: MemChangeCnt 2, 1 named in MemChangeList; the others cannot be looked up "
        "(no API secret)",
    ]
