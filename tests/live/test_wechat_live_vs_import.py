"""A WeChat group moderated live shows the same member value, roles and health as the same
group imported from its export afterwards (issue 20, done-when).

One conversation, fed twice into two fresh databases: live, through the WeChatFerry
connector from a fake WeChatFerry server; and as the CSV WeChatMsg / 留痕 write of the same
chat (the columns and system lines as tests/adapters/test_importer_wechat_csv.py has them).
Then the daily recompute on both, and the tables compared member by member (by wxid).

What the CSV cannot carry is left out of the conversation: @ lists (the export has no
message source XML), so no message here mentions anyone.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from connector_fakes import wcferry as wf
from qunzhu_tests_connectors import SPEC, count, wait_until
from sqlalchemy import select

from qunzhu.adapters.manage import save_connector
from qunzhu.engines.recompute import recompute_community
from qunzhu.importing import import_file
from qunzhu.live.hub import ConnectorHub, load_infos
from qunzhu.settings import load_settings
from qunzhu.store import Store
from qunzhu.store.intelligence import GroupHealth, MemberValue, RoleAssignment
from qunzhu.store.models import Community, Identity, Message

ROOM = "1893456@chatroom"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
# no size cap: a live group over it waitlists and removes, which an export only records
GROUP_SPEC = SPEC.replace("cap: 2", "cap: 500")
PEOPLE = {"wxid_ming": "阿明", "wxid_hong": "小红", "wxid_zhou": "老周", "wxid_lan": "小兰"}
TOPICS = ["今天读到第{n}章，作者讲复利讲得很透", "第{n}节的例子我没看懂，谁能讲讲？",
          "我的笔记整理好了，第{n}部分放在群文件", "同意，第{n}章的结论和上周的一样",
          "周末线下读书会第{n}次，报名的举手", "这本书第{n}页有个错别字"]  # fmt: skip


def _conversation() -> list[dict[str, Any]]:
    """(id, time, kind, sender, content) of each line, in order: joins with inviters, two
    weeks of talk, a quote, a picture, a member leaving."""
    lines: list[dict[str, Any]] = []

    def add(at: datetime, type_: int, sender: str, content: str, sub: int = 0) -> None:
        lines.append({"id": 7_000_000 + len(lines), "ts": int(at.timestamp()), "type": type_,
                      "sub": sub, "sender": sender, "content": content})  # fmt: skip

    add(T0, 1, wf.ME, "欢迎大家，这个群一起读《穷查理宝典》")
    add(T0 + timedelta(minutes=1), 10000, "", '"你"邀请"阿明"、"老周"加入了群聊')
    add(T0 + timedelta(minutes=5), 10000, "", '"阿明"邀请"小红"加入了群聊')
    add(T0 + timedelta(minutes=7), 10000, "", '"小兰"通过扫描"老周"分享的二维码加入群聊')
    talkers = ["wxid_ming", "wxid_hong", "wxid_ming", "wxid_zhou", "wxid_lan", wf.ME]
    for day in range(14):
        for i in range(2 + day % 3):
            who = talkers[(day + i) % len(talkers)]
            if who == "wxid_lan" and day > 9:
                who = "wxid_hong"  # 小兰 has left by then
            at = T0 + timedelta(days=day, hours=2 + i, minutes=7 * i)
            add(at, 1, who, TOPICS[(day * 3 + i) % len(TOPICS)].format(n=day + i + 1))
        if day == 3:
            quoted = lines[-1]
            quote = (
                "<msg><appmsg><title>说得好</title><type>57</type><refermsg><type>1</type>"
                f"<svrid>{quoted['id']}</svrid><chatusr>{quoted['sender']}</chatusr>"
                f"<content>{quoted['content']}</content>"
                f"<createtime>{quoted['ts']}</createtime></refermsg></appmsg></msg>"
            )
            add(T0 + timedelta(days=3, hours=9), 49, "wxid_zhou", quote, sub=57)
        if day == 6:
            add(T0 + timedelta(days=6, hours=10), 3, "wxid_hong", '<msg><img length="2048"/></msg>')
        if day == 9:
            add(T0 + timedelta(days=9, hours=23), 10000, "", "小兰退出了群聊")
    return lines


def _csv(path: Path, lines: list[dict[str, Any]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime",
                     "StrTime", "StrContent", "NickName", "Sender"])  # fmt: skip
    names = PEOPLE | {wf.ME: "群主"}
    for n, line in enumerate(lines, 1):
        at = datetime.fromtimestamp(line["ts"], UTC).strftime("%Y-%m-%d %H:%M:%S")
        sender = line["sender"]
        writer.writerow([n, 1, line["type"], line["sub"], int(sender == wf.ME), line["ts"], at,
                         line["content"], names.get(sender, ""), sender])  # fmt: skip
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return path


@pytest.fixture
def fresh(tmp_path: Path, sqlite_template: Path) -> Iterator[Any]:
    made: list[Store] = []

    def new(name: str) -> Store:
        path = tmp_path / f"{name}.db"
        shutil.copyfile(sqlite_template, path)
        store = Store(load_settings(database_url=f"sqlite:///{path}", secret_key="t" * 40,
                                    sample_data=False))  # fmt: skip
        with store.unit_of_work() as session:
            session.add(Community(slug="acme", name="读书会", spec_yaml=GROUP_SPEC))
        made.append(store)
        return store

    yield new
    for store in made:
        store.dispose()


def _live(store: Store, lines: list[dict[str, Any]]) -> None:
    fake = wf.FakeWcf()
    fake.rooms[ROOM] = {wxid: name for wxid, name in PEOPLE.items()} | {wf.ME: "群主"}
    hub = ConnectorHub(store, backoff=0.05, reconnect_base=0.05)
    with fake:
        config = {"host": "127.0.0.1", "port": fake.port}
        cid = save_connector(
            store, community="acme", platform="wechat", name="wx", config=config, credentials={}
        )
        hub.add(next(i for i in load_infos(store) if i.id == cid))
        hub.start()
        try:
            for line in lines:
                fake.report(wf.wxmsg(line["id"], ROOM, line["sender"] or ROOM, line["content"],
                                     at=line["ts"], type_=line["type"],
                                     is_self=line["sender"] == wf.ME))  # fmt: skip
            posted = sum(1 for line in lines if line["type"] != 10000)
            wait_until(lambda: count(store, Message) >= posted, what="every message stored")
            assert hub.executor.drain()
        finally:
            hub.stop()
    assert fake.called("FUNC_SEND_TXT") == []  # nothing said: the groups stay the same


def _tables(store: Store) -> dict[str, Any]:
    day = (T0 + timedelta(days=13)).date()
    with store.engine.begin() as conn:
        cid = conn.execute(select(Community.id)).scalar_one()
        recompute_community(conn, cid, day, UTC)
        who = dict(conn.execute(select(Identity.member_id, Identity.platform_user_id)).all())
        values = {
            who[r.member_id]: (round(r.value, 9), round(r.raw_value, 9), r.messages, r.days_active)
            for r in conn.execute(select(MemberValue))
        }
        roles = {
            who[r.member_id]: (r.role, str(r.since), round(r.value, 9))
            for r in conn.execute(select(RoleAssignment))
        }
        health = [
            (
                str(h.day),
                round(h.death_risk, 9),
                round(h.value_per_day, 9),
                round(h.active_share, 9),
                h.members,
                h.reasons,
            )
            for h in conn.execute(select(GroupHealth).order_by(GroupHealth.day))
        ]
    return {"values": values, "roles": roles, "health": health}


def test_live_and_imported_give_the_same_value_roles_and_health(fresh, tmp_path):
    lines = _conversation()
    live, imported = fresh("live"), fresh("imported")
    _live(live, lines)
    done = import_file(imported, _csv(tmp_path / "群聊_读书会.csv", lines), community="acme",
                       group=ROOM, fmt="wechat-csv", tz="UTC")  # fmt: skip
    assert done["quarantined"] == 0 and done["joins"] == 4 and done["replies"] == 1
    seen_live, seen_imported = _tables(live), _tables(imported)
    assert set(seen_live["values"]) == {*PEOPLE, wf.ME}  # everyone, by wxid, on both
    assert seen_live["values"] == seen_imported["values"]
    assert seen_live["roles"] == seen_imported["roles"]
    assert seen_live["health"] and seen_live["health"] == seen_imported["health"]
