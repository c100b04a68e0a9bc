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


def test_a_warning_never_waits_behind_the_store(store, hub, fake, monkeypatch):
    """The connection's loop reads and judges while a store is under way: the second ad is
    warned while the first one's batch still waits for the database."""
    import threading

    _wechat(store, hub, fake)
    release = threading.Event()
    run = hub.sink.pipeline.run

    def held(*args: Any, **kwargs: Any) -> Any:
        release.wait(30)
        return run(*args, **kwargs)

    monkeypatch.setattr(hub.sink.pipeline, "run", held)
    hub.start()
    try:
        fake.report(_text(5501, "wxid_spam", SPAM))
        wait_until(lambda: len(_sent(fake)) == 1, what="the first warning")
        fake.report(_text(5502, "wxid_ming", SPAM.replace("加", "＋")))
        wait_until(lambda: len(_sent(fake)) == 2, what="the second, the store still held")
        assert count(store, Message) == 0
    finally:
        release.set()
    wait_until(lambda: count(store, Message) == 4, what="both ads and both echoed warnings")
    assert hub.executor.drain()
    assert sorted(w["aters"] for w in _sent(fake)) == ["wxid_ming", "wxid_spam"]


@pytest.fixture
def stream(redis_url: str) -> Iterator[str]:
    import uuid

    import redis

    name = f"qunzhu:test-wechat:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(redis_url)
    client.delete(name, *client.keys(f"{name}:*"), *client.keys(f"qunzhu:early:{name}:*"))


def test_split_the_web_holds_the_connection_and_warns_at_receipt_the_worker_stores(
    settings, store, fake, redis_url, stream
):
    """As ``qunzhu serve`` splits with Redis: the web process holds WeChatFerry's one
    connection and warns at receipt; the worker stores, its batch's warning is not sent a
    second time, and its own calls (a removal) go over the web process's connection."""
    from qunzhu.events import Action
    from qunzhu.live.hub import load_infos
    from qunzhu.live.queue import RedisQueue

    # two processes' settings: each has its own record of warnings sent (SentOnce.of)
    split = {"redis_url": redis_url, "live_stream": stream}
    web_store = Store(settings.model_copy(update=split))
    worker_store = Store(settings.model_copy(update=split))
    web = ConnectorHub(
        web_store, role="web", durable=RedisQueue(redis_url, stream=stream, consumer="t-web")
    )
    worker = ConnectorHub(
        worker_store,
        role="worker",
        durable=RedisQueue(redis_url, stream=stream, consumer="t-worker"),
        backoff=0.05,
    )
    try:
        _wechat(web_store, web, fake)
        worker.add(next(i for i in load_infos(worker_store) if i.name == "wx"))
        web.start()
        fake.wait_connected()
        fake.report(_text(5601, "wxid_spam", SPAM))
        # warned by the web process on the connection's loop, before anything is stored
        wait_until(lambda: len(_sent(fake)) == 1, what="the warning at receipt")
        assert count(store, Message) == 0
        worker.start()
        assert worker.runners == {}  # WeChatFerry takes one connection: the web process's
        wait_until(lambda: count(store, Message) == 2, 30, what="the ad and the echoed warning")
        wait_until(lambda: count(store, ConnectorAlert) == 1, 30, what="the batch's alert")
        assert worker.sink.drain(30) and worker.executor.drain()
        remove = Action(kind="remove", platform="wechat", community="acme", group=ROOM,
                        member="wxid_spam")  # fmt: skip
        worker.executor.submit([remove])
        assert worker.executor.drain() and web.executor.drain()
        wait_until(
            lambda: count(store, MembershipEvent, MembershipEvent.kind == "remove") == 1,
            30,
            what="WeChat's line about the removal, stored",
        )
    finally:
        worker.stop()
        web.stop()
        web_store.dispose()
        worker_store.dispose()
    assert fake.connections == 1
    assert [w["aters"] for w in _sent(fake)] == ["wxid_spam"]  # once, at receipt
    assert fake.called("FUNC_DEL_ROOM_MEMBERS") == [{"roomid": ROOM, "wxids": "wxid_spam"}]
    ids = [i for (i,) in rows(store, select(Message.platform_message_id))]
    assert "5601" in ids and len(ids) == len(set(ids)) == 2


def test_messages_that_came_while_the_reader_was_busy_are_read_in_one_batch(fake):
    """nng keeps what came meanwhile (by default it keeps nothing: each message would wait
    in the sender until read, and a reader a moment behind read one at a time)."""
    from qunzhu.adapters.wechat.rpc import WcfClient

    client = WcfClient("127.0.0.1", fake.port)
    client.open()
    try:
        assert client.enable_messages()
        client.listen()
        fake.wait_connected()
        for n in range(50):
            fake.report(_text(5700 + n, "wxid_ming", f"第{n}条"))
        wait_until(lambda: fake.unsent == 0, what="all 50 pushed, none read yet")
        assert [m.id for m in client.waiting(100)] == list(range(5700, 5750))
    finally:
        client.close()


def _room_queries(fake: wf.FakeWcf) -> list[str]:
    return [q["sql"] for q in fake.called("FUNC_EXEC_DB_QUERY") if "ChatRoomName =" in q["sql"]]


def test_the_groups_are_learned_at_connect_and_no_ad_waits_for_a_member_list(store, hub, fake):
    """At connect every group's members come in one query (and the groups' states are
    read): the first ad of a group is warned by name with no list asked first, and a sender
    the list just read lacks (a raid of new accounts) costs no call each either."""
    cid = _wechat(store, hub, fake).info.id
    hub.start()
    wait_until(
        lambda: any("FROM ChatRoom;" in q["sql"] for q in fake.called("FUNC_EXEC_DB_QUERY")),
        what="the groups asked for at connect",
    )
    wait_until(lambda: (cid, ROOM) in hub.executor._groups, what="the group's state read")
    fake.report(_text(5701, "wxid_spam", SPAM))
    wait_until(lambda: len(_sent(fake)) == 1, what="the first warning")
    fake.report(_text(5702, "wxid_raid1", SPAM.replace("加", "＋")))
    wait_until(lambda: len(_sent(fake)) == 2, what="the new sender's warning")
    [first, second] = _sent(fake)
    assert first["aters"] == "wxid_spam" and first["msg"].startswith("@推广小王 ")
    assert second["aters"] == "wxid_raid1"  # unknown to the list: named by the wxid
    assert _room_queries(fake) == []
    wait_until(lambda: count(store, Message) == 4, what="both ads and both echoed warnings")


def test_a_sender_the_list_lacks_is_asked_for_once_the_list_is_not_fresh(
    store, hub, fake, monkeypatch
):
    from qunzhu.adapters.wechat import adapter

    monkeypatch.setattr(adapter, "ROOM_FRESH_S", 0.0)  # every list read is old at once
    cid = _wechat(store, hub, fake).info.id
    hub.start()
    wait_until(lambda: (cid, ROOM) in hub.executor._groups, what="connected")
    fake.rooms[ROOM]["wxid_new"] = "新人"  # joined after the list was read at connect
    fake.report(_text(5801, "wxid_new", SPAM))
    wait_until(lambda: len(_sent(fake)) == 1, what="the warning")
    assert len(_room_queries(fake)) == 1  # the list once more, and the name from it
    assert _sent(fake)[0]["msg"].startswith("@新人 ")
    fake.report(_text(5802, "wxid_new", "早上好"))
    wait_until(lambda: count(store, Message) == 3, what="both messages and the echo")
    assert len(_room_queries(fake)) == 1  # asked once for them, not at each message
