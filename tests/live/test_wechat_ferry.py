"""WeChat personal groups through WeChatFerry end to end: qunzhu dials the RPC server (a fake
speaking the ``wcferry`` package's protobuf over nng Pair1), messages come in on the message
socket, actions go out as ``Request``s; what a personal account cannot do becomes an alert."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from connector_fakes import wcferry as wf
from qunzhu_tests_connectors import SPAM, SPEC, connect, count, rows, wait_until
from sqlalchemy import select, update

from qunzhu.adapters.base import ConnectorError
from qunzhu.live.hub import ConnectorHub
from qunzhu.store import Store
from qunzhu.store.connectors import Connector, ConnectorAlert
from qunzhu.store.models import Community, Identity, Membership, MembershipEvent, Message

NOW = int(time.time()) - 600
ROOM = "20881234567@chatroom"
# WeChat groups here: the third breach removes (the account is the owner); no size cap
WECHAT_SPEC = SPEC.replace(
    "escalation:\n  points_expire_days: 30\n",
    "escalation:\n  points_expire_days: 30\n  ladder:\n"
    "    - {points: 1, action: warn}\n    - {points: 6, action: remove}\n",
).replace("cap: 2", "cap: 500")


@pytest.fixture
def fake(store: Store, community: str) -> Iterator[wf.FakeWcf]:
    with store.unit_of_work() as session:
        session.execute(update(Community).values(spec_yaml=WECHAT_SPEC))
    made = wf.FakeWcf()
    made.rooms[ROOM] = {"wxid_ming": "阿明", "wxid_hong": "", "wxid_spam": "推广小王", wf.ME: ""}
    made.nicknames.update({"wxid_hong": "小红", wf.ME: "群主"})
    with made:
        yield made


def _wechat(store: Store, hub: ConnectorHub, fake: wf.FakeWcf) -> Any:
    return connect(store, hub, "wechat", "wx", {"host": "127.0.0.1", "port": fake.port}, {})


def _text(msg_id: int, sender: str, text: str, at: int = NOW) -> Any:
    return wf.wxmsg(msg_id, ROOM, sender, text, at=at)


def _sent(fake: wf.FakeWcf) -> list[dict[str, Any]]:
    return fake.called("FUNC_SEND_TXT")


def test_an_ad_becomes_an_alert_and_a_warning_with_an_at(store, hub, fake):
    _wechat(store, hub, fake)
    hub.start()
    fake.report(_text(5001, "wxid_spam", SPAM))
    fake.report(_text(5002, "wxid_ming", "早上好"))
    wait_until(lambda: len(_sent(fake)) == 1, what="the warning")
    assert hub.executor.drain()
    [warn] = _sent(fake)
    assert warn["receiver"] == ROOM and warn["aters"] == "wxid_spam"
    assert warn["msg"].startswith("@推广小王 ") and "禁止留联系方式拉人" in warn["msg"]
    # the warning goes at receipt; the alert is the batch's, written once it has stored
    wait_until(lambda: count(store, ConnectorAlert) == 1, what="the alert")
    [(text,)] = rows(store, select(ConnectorAlert.text))
    assert "cannot act: delete_message" in text  # the part the account cannot do
    # the two messages, and the warning WeChatFerry echoed as the account's own
    wait_until(lambda: count(store, Message) == 3, what="the echoed warning")


def test_the_third_offence_removes_the_member(store, hub, fake):
    _wechat(store, hub, fake)
    hub.start()
    for n in range(3):
        fake.report(_text(5100 + n, "wxid_spam", f"{SPAM} {n}", at=NOW + n))
        wait_until(lambda n=n: len(_sent(fake)) >= n + 1 or fake.called("FUNC_DEL_ROOM_MEMBERS"))
        assert hub.executor.drain()
    assert fake.called("FUNC_DEL_ROOM_MEMBERS") == [{"roomid": ROOM, "wxids": "wxid_spam"}]
    assert "wxid_spam" not in fake.rooms[ROOM]
    # WeChat's own line about it comes back and is stored as a removal by the account
    wait_until(
        lambda: rows(store, select(MembershipEvent.kind).where(MembershipEvent.kind == "remove")),
        what="the removal",
    )


def test_the_account_not_admin_turns_a_removal_into_an_alert(store, hub, fake):
    bot = _wechat(store, hub, fake)
    fake.owner = "wxid_ming"
    hub.start()
    wait_until(lambda: bot.client is not None, what="connected")
    from qunzhu.adapters.base import Unsupported
    from qunzhu.events import Action

    remove = Action(kind="remove", platform="wechat", community="acme", group=ROOM,
                    member="wxid_spam")  # fmt: skip
    with pytest.raises(Unsupported, match="not the owner or an admin"):
        bot.perform(remove)
    assert fake.called("FUNC_DEL_ROOM_MEMBERS") == []


def test_a_join_is_credited_to_the_inviter_named_in_the_system_line(store, hub, fake):
    _wechat(store, hub, fake)
    hub.start()
    fake.report(_text(5200, "wxid_ming", "我拉个朋友进来", at=NOW))
    fake.report(wf.system(5201, ROOM, '"阿明"邀请"小红"加入了群聊', at=NOW + 1))
    fake.report(_text(5202, "wxid_hong", "大家好", at=NOW + 2))
    wait_until(lambda: count(store, Message) == 2, what="two messages")
    wait_until(lambda: count(store, MembershipEvent, MembershipEvent.kind == "join") >= 1)
    [(inviter,)] = rows(
        store,
        select(Membership.inviter_member_id)
        .join(Identity, Identity.member_id == Membership.member_id)
        .where(Identity.platform_user_id == "wxid_hong"),
    )
    [(ming,)] = rows(
        store, select(Identity.member_id).where(Identity.platform_user_id == "wxid_ming")
    )
    assert inviter == ming


def test_a_dropped_connection_reconnects_with_nothing_lost_or_doubled(store, hub, fake):
    _wechat(store, hub, fake)
    hub.start()
    fake.wait_connected()
    for n in range(20):
        text = SPAM if n == 12 else f"读书笔记 {n}"
        fake.report(_text(8000 + n, f"wxid_m{n % 4}", text, at=NOW + n))
        if n == 9:
            wait_until(lambda: count(store, Message) >= 10, what="the first ten")
            fake.drop()  # what went out on the old connection is sent again
            fake.wait_connected(2)
    wait_until(lambda: count(store, Message) >= 21, what="twenty messages and the warning")
    time.sleep(0.3)  # anything doubled would arrive now
    assert hub.executor.drain()
    ids = sorted(int(i) for (i,) in rows(store, select(Message.platform_message_id)))
    assert ids[:20] == list(range(8000, 8020)) and len(ids) == 21  # + the echoed warning
    assert len(_sent(fake)) == 1
    assert hub.runners[next(iter(hub.runners))].reconnects >= 1


def test_nothing_listening_fails_as_transient_and_the_state_says_why(store, hub):
    wf_port = wf._free_pair()
    bot = connect(store, hub, "wechat", "wx", {"host": "127.0.0.1", "port": wf_port}, {})
    with pytest.raises(ConnectorError, match="not connected"):
        bot._send(ROOM, text="hi")
    hub.start()
    wait_until(lambda: rows(store, select(Connector.last_error))[0][0], what="the error recorded")


def test_an_approved_member_is_added_and_a_file_is_sent(store, hub, fake):
    from qunzhu.events import Action

    bot = _wechat(store, hub, fake)
    hub.start()
    wait_until(lambda: bot.client is not None, what="connected")
    where = {"platform": "wechat", "community": "acme", "group": ROOM}
    assert bot.perform(Action(kind="approve_join", member="wxid_new", **where)) == {
        "added": "wxid_new"
    }
    assert fake.called("FUNC_ADD_ROOM_MEMBERS") == [{"roomid": ROOM, "wxids": "wxid_new"}]
    assert "wxid_new" in fake.rooms[ROOM]
    sent = Action(kind="send_message", detail={"file": "C:/群文件/第三章.pdf"}, **where)
    bot.perform(sent)
    assert fake.called("FUNC_SEND_FILE") == [{"path": "C:/群文件/第三章.pdf", "receiver": ROOM}]


def test_the_account_never_acts_against_itself(store, hub, fake):
    from qunzhu.events import Action

    bot = _wechat(store, hub, fake)
    hub.start()
    wait_until(lambda: bot.client is not None, what="connected")
    where = {"platform": "wechat", "community": "acme", "group": ROOM, "member": wf.ME}
    for kind in ("warn", "remove", "delete_message"):
        assert bot.perform(Action(kind=kind, text="刷屏", **where)) == {
            "skipped": "the connected account itself"
        }
    assert fake.called("FUNC_SEND_TXT") == fake.called("FUNC_DEL_ROOM_MEMBERS") == []
