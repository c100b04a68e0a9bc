"""WeChat personal groups through WeChatFerry, the RPC server beside the WeChat client on the
operator's Windows PC.

In: qunzhu dials ``tcp://host:port`` (calls) and ``tcp://host:port+1`` (messages), asks for
the messages and reads them until ``stop`` or a drop; the runner reconnects with backoff.
Out: text (with @ by the ``aters`` wxids), files, removal and invitation of members where
the account is the group's owner or an admin. What a personal account cannot do (delete
another member's message, mute, invite links) raises Unsupported: the executor makes it an
alert for the operator.

Every message out goes through :meth:`WeChatFerryConnector._send`: the one place where a
personal account's pacing (gap, daily cap, jitter) is applied.

Messages are read on an event loop of the connection's own (pynng's asynchronous receive:
no polling interval). Each batch is judged there as it arrives (the hub's early warnings,
sent on that loop over the same connection), then handed on to be stored: a warning never
waits behind the store. A split ``qunzhu serve`` runs this loop in the web process
(``loop_in_web``: WeChatFerry takes one connection); the worker stores, and the calls it
needs (a removal, a batch's warning, a member list) the web process makes for it on that
connection (:mod:`qunzhu.live.relay`).

At connect, before the first message is read, every group's member list is read in one
query and the hub's ``connected`` warms what the first ad of each group would otherwise wait
for (the groups' states, the loop's Redis connection). A sender a list lacks is asked for
with the list again only when that list is older than ``ROOM_FRESH_S`` (a join line always
reads it again): a raid of new accounts costs no call per account.

Config: ``host``, ``port`` (10086 by default). No credentials: WeChatFerry has none, so
its ports must only be reachable from qunzhu (see docs/connectors.md).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeAlias, assert_never

from wcferry import wcf_pb2

from qunzhu.adapters.base import (
    ConnectorError,
    ConnectorInfo,
    Deliver,
    Refused,
    Unsupported,
    member_of,
)
from qunzhu.adapters.state import LoopCounter, StateBook
from qunzhu.adapters.webhook import WebhookRoute
from qunzhu.adapters.wechat.parse import PLATFORM, Parsed, parse
from qunzhu.adapters.wechat.rpc import Room, WcfClient, build_request, room_of
from qunzhu.events import Action
from qunzhu.moderation.sent_once import SentOnce
from qunzhu.store import connector_records as records
from qunzhu.store.session import Store

log = logging.getLogger(__name__)
DEFAULT_PORT = 10086
BATCH = 256  # messages read together when they come faster than one at a time
STORE_BATCH = 1024  # messages handed on together while the store before them was under way
STOP_WAIT = 10.0  # on stop, what was read is handed on within this
RETRY_STORE = 1.0  # the queue or the database away: the same batch again after this
SYSTEM_TYPES = (10000, 10002)  # system lines: they name people by display name
Taken: TypeAlias = "list[Parsed] | asyncio.Task[list[Parsed]]"
"""A batch read: its messages, or the task still reading them (a member list asked)."""
SMALL_GROUP = 40  # WeChat adds members directly below this size; larger groups get an invite
ROOM_FRESH_S = 60.0
"""A group's member list read this recently is not read again for a sender it lacks (a
join line always reads it again): new senders in a flood of ads (a raid of new accounts)
cost no call each, and their warnings wait for none."""


@dataclass
class _Room:
    names: dict[str, str] = field(default_factory=dict)  # wxid → display name
    admins: list[str] = field(default_factory=list)
    owner: str = ""

    def wxid_of(self, name: str) -> str | None:
        return next((w for w, n in self.names.items() if n == name), None)


class WeChatFerryConnector:
    # a split serve holds the connection in the web process (WeChatFerry takes one), where
    # ads are judged at receipt; the worker stores and has its calls made there (relay)
    loop_in_web = True

    def __init__(
        self, info: ConnectorInfo, store: Store, state: StateBook, deliver: Deliver
    ) -> None:
        self.info = info
        self.store = store
        self.state = state
        self.deliver = deliver
        self.host = str(info.config.get("host") or "")
        self.port = int(info.config.get("port") or DEFAULT_PORT)
        self.client: WcfClient | None = None
        self.me = ""
        self.rooms: dict[str, _Room] = {}
        self._asked: set[tuple[str, str]] = set()
        self._listed: dict[str, float] = {}  # group → when its member list was read
        self._lock = threading.Lock()
        self._sent_once: SentOnce | None = None
        self._stop = threading.Event()
        self._tasks: set[asyncio.Task[list[Parsed]]] = set()
        self._asking: dict[str, asyncio.Task[_Room]] = {}  # member lists being asked for
        # in the live worker of a split serve: the web process makes this one's calls
        self.relay: Any = None

    def routes(self) -> list[WebhookRoute]:
        return []

    def has_loop(self) -> bool:
        return bool(self.host)

    # -- in ---------------------------------------------------------------------------
    def run_once(self, stop: threading.Event) -> None:
        """Hold the connection until ``stop`` or a drop (then the runner reconnects)."""
        self._stop = stop
        client = WcfClient(self.host, self.port)
        client.open()
        try:
            if not client.is_login():
                raise ConnectorError("WeChat on the PC is not logged in (scan the QR code there)")
            self.me = client.self_wxid()
            if not client.enable_messages():
                raise ConnectorError("WeChatFerry did not start sending messages")
            client.listen()
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(self._hold(client, stop))
            finally:
                _close(loop)
        finally:
            if self.client is client:
                self.client = None
            client.close()

    async def _hold(self, client: WcfClient, stop: threading.Event) -> None:
        """Read, judge at receipt, hand on; a consumer on this loop stores in order."""
        client.attach(asyncio.get_running_loop())
        self.client = client
        self.state.set(self.info.id, "connected")
        early = getattr(self.deliver, "early", None)
        judge = early and partial(early, perform=self._aperform)
        await self._learn_rooms(client)
        inbox: asyncio.Queue[Taken | None] = asyncio.Queue()
        consumer = asyncio.create_task(self._consume(inbox, judged=judge is not None))
        try:
            while not stop.is_set():
                if client.dropped.is_set():
                    # what came before the drop is in nng's buffer still: read, not lost
                    while rest := client.waiting(BATCH):
                        inbox.put_nowait(self._take(rest, judge))
                    raise ConnectorError("the connection to WeChatFerry dropped")
                if consumer.done():  # it never ends by itself: a bug, seen here
                    consumer.result()
                    raise ConnectorError("the store of WeChatFerry's messages ended")
                # what came meanwhile is taken as it is, in one batch; only with nothing
                # there does the loop wait (an asynchronous receive costs a thread hand-off)
                msgs = client.waiting(BATCH)
                if msgs:
                    inbox.put_nowait(self._take(msgs, judge))
                    await asyncio.sleep(0)  # the warnings and the store get their turn
                    continue
                msg = await client.areceive()
                if msg is not None:
                    inbox.put_nowait(self._take([msg, *client.waiting(BATCH - 1)], judge))
        finally:
            inbox.put_nowait(None)  # what was read is handed on before the loop closes
            await asyncio.wait({consumer}, timeout=STOP_WAIT)
            consumer.cancel()
            client.detach()

    async def _learn_rooms(self, client: WcfClient) -> None:
        """At connect, before the first message is read: every group's member list (one
        query), then the hub's ``connected`` (the groups' states read, this loop's own
        connections opened): the first ad of each group is judged and warned like the
        thousandth, with no list asked and no database read first. Failing, each group's
        list is asked at its first message instead."""
        try:
            rooms = await client.arooms()
        except ConnectorError as exc:
            log.warning("wechat %s: the groups' member lists: %s", self.info.name, exc)
            rooms = {}
        for roomid, room in rooms.items():
            self._keep(roomid, room)
        connected = getattr(self.deliver, "connected", None)
        if connected is not None:
            try:
                await connected(sorted(rooms))
            except Exception:  # only a head start: each group's first ad does it instead
                log.exception("wechat %s: warming up at connect failed", self.info.name)

    def _take(self, msgs: list[Any], judge: Any) -> Taken:
        """Read ``msgs``, their ads judged now and warned on this loop. When a member list
        must be asked first (a sender not in it, a system line naming people), that is done
        by a task, and this loop reads on meanwhile: the messages after it are not held up
        by the call (the consumer awaits the task, so they are stored in order)."""
        rooms = {
            str(m.roomid)
            for m in msgs
            if m.type not in SYSTEM_TYPES
            and m.is_group
            and str(m.roomid).endswith("@chatroom")
            and self._unknown(str(m.roomid), str(m.sender))
        }
        if not rooms and all(m.type not in SYSTEM_TYPES for m in msgs):
            return self._judged([self._parse(m) for m in msgs], judge)
        task = asyncio.get_running_loop().create_task(self._read_later(msgs, rooms, judge))
        self._tasks.add(task)  # kept until done: a task only the loop refers to may vanish
        task.add_done_callback(self._tasks.discard)
        return task

    async def _read_later(self, msgs: list[Any], rooms: set[str], judge: Any) -> list[Parsed]:
        loop = asyncio.get_running_loop()
        for room in rooms:
            try:
                # one call per group at a time: the batches behind it wait for the same one
                asked = self._asking.get(room)
                if asked is None:
                    asked = self._asking[room] = loop.create_task(self._aroom(room))
                    asked.add_done_callback(partial(self._asked_for, room))
                await asyncio.shield(asked)
            except ConnectorError as exc:  # read without the names (none asked on the loop)
                log.warning("wechat %s: the members of %s: %s", self.info.name, room, exc)
                self.rooms.setdefault(room, _Room())
        read: list[Parsed] = []
        for m in msgs:
            if m.type in SYSTEM_TYPES:  # a thread: it may ask for a list, by name
                read.append(await loop.run_in_executor(None, self._parse, m))
            else:
                read.append(self._parse(m))
        return self._judged(read, judge)

    def _asked_for(self, room: str, _task: asyncio.Task[_Room]) -> None:
        self._asking.pop(room, None)

    def _judged(self, read: list[Parsed], judge: Any) -> list[Parsed]:
        events = [e for r in read for e in r.events]
        if judge is not None and events:
            try:  # the ads' warnings go out on this loop now, not after the store
                judge(events)
            except Exception:  # the batch decides them anyway, a little later
                log.exception("wechat %s: early warnings at receipt failed", self.info.name)
        return read

    async def _consume(self, inbox: asyncio.Queue[Taken | None], *, judged: bool) -> None:
        """Hand on what was read, in order: all that came while the last store was under
        way goes in one batch (fewer, bigger transactions when busy; one message when not)."""
        loop = asyncio.get_running_loop()
        adeliver = getattr(self.deliver, "adeliver", None)
        counter = LoopCounter(self.state, self.info.id, loop)
        while True:
            item = await inbox.get()
            if item is None:
                return
            batch, ended = await _ready(item), False
            while len(batch) < STORE_BATCH and not inbox.empty():
                more = inbox.get_nowait()
                if more is None:
                    ended = True
                    break
                batch += await _ready(more)
            await self._store(batch, adeliver, judged)
            counter.add(len(batch), last=ended)
            if ended:
                return

    async def _store(self, batch: list[Parsed], adeliver: Any, judged: bool) -> None:
        """Until stored or queued (the database or Redis away: again, in order)."""
        loop = asyncio.get_running_loop()
        events = [e for r in batch for e in r.events]
        notable = [r for r in batch if r.removed_from or r.notices]
        while True:
            try:
                if notable:
                    await loop.run_in_executor(None, self._record, notable)
                    notable = []
                if not events:
                    return
                if adeliver is not None:  # queued from this loop (Redis)
                    await adeliver(events, decided=judged)
                else:  # stored before it returns: in a thread, this loop keeps reading
                    await loop.run_in_executor(None, self.deliver, events)
                return
            except Exception as exc:
                message = f"storing: {type(exc).__name__}: {exc}"
                await loop.run_in_executor(None, self.state.error, self.info.id, message)
                if self._stop.is_set():
                    log.error("wechat %s: stopped with %d events unstored", self.info.name,
                              len(events))  # fmt: skip
                    return
                await asyncio.sleep(RETRY_STORE)

    def _unknown(self, room: str, wxid: str) -> bool:
        """Whether the group's member list must be asked for ``wxid``'s name: the list
        never asked, or a new member (then once: not again at each of their messages)."""
        known = self.rooms.get(room)
        if known is not None and (wxid in known.names or (room, wxid) in self._asked):
            return False
        self._asked.add((room, wxid))
        # a list read moments ago counts as asked for a sender it lacks
        return known is None or not self._fresh(room)

    def _fresh(self, room: str) -> bool:
        return time.monotonic() - self._listed.get(room, -ROOM_FRESH_S) < ROOM_FRESH_S

    async def _aroom(self, roomid: str) -> _Room:
        client = self._client()
        return self._keep(roomid, await client.aroom(roomid))

    def _keep(self, roomid: str, room: Room) -> _Room:
        """A group's member list just read: kept, and when (see ``_fresh``)."""
        names, admins, owner = room
        made = self.rooms[roomid] = _Room(names, admins, owner)
        self._listed[roomid] = time.monotonic()
        return made

    def _parse(self, msg: Any) -> Parsed:
        return parse(msg, self.info.community, self.me, self._resolve, self._name_of)

    def _record(self, read: list[Parsed]) -> None:
        """The alerts and group states the messages cause."""
        cid = self.info.id
        for parsed in read:
            if parsed.removed_from:
                why = f"the account was removed from group {parsed.removed_from}"
                records.set_group_state(self.store, cid, parsed.removed_from, "disabled", why)
                records.add_alert(
                    self.store,
                    community=self.info.community,
                    connector_id=cid,
                    platform=PLATFORM,
                    group=parsed.removed_from,
                    kind="connector_disabled",
                    text=why,
                    key=f"wechat-removed-{parsed.removed_from}-{parsed.message_id}",
                )
            records.add_notices(
                self.store,
                parsed.notices,
                community=self.info.community,
                connector_id=cid,
                platform=PLATFORM,
            )

    def room(self, roomid: str, *, fresh: bool = False) -> _Room:
        """The group's members, admins and owner, asked once and again when ``fresh``
        (a name in a system line that the list lacks: someone just joined)."""
        known = self.rooms.get(roomid)
        if known is not None and not fresh:
            return known
        return self._keep(roomid, room_of(self._request, roomid))

    def _resolve(self, roomid: str, name: str) -> str:
        found = self.room(roomid).wxid_of(name) or self.room(roomid, fresh=True).wxid_of(name)
        return found or f"name:{name}"  # as the importer names someone it cannot place

    def _name_of(self, roomid: str, wxid: str) -> str:
        room = self.room(roomid)
        if wxid not in room.names and (roomid, wxid) not in self._asked:
            self._asked.add((roomid, wxid))  # a new member: the list once more, not each time
            if not self._fresh(roomid):  # (a list read moments ago counts as asked)
                room = self.room(roomid, fresh=True)
        return room.names.get(wxid, "")

    # -- out --------------------------------------------------------------------------
    def _client(self) -> WcfClient:
        client = self.client
        if client is None:
            raise ConnectorError("not connected to WeChatFerry (qunzhu serve reconnects)")
        return client

    def _request(self, func: int, **fields: Any) -> Any:
        """A call on the connection held here, or (the live worker of a split serve) on the
        web process's, through the relay."""
        client = self.client
        if client is not None or self.relay is None:
            return self._client().request(func, **fields)
        answer = self.relay.call(wcf_pb2.Functions.Name(func), fields)
        rsp = wcf_pb2.Response()
        try:
            rsp.ParseFromString(base64.b64decode(str(answer)))
        except Exception as exc:
            raise ConnectorError(f"WeChatFerry (relayed): an unreadable answer: {exc}") from exc
        return rsp

    def session_call(self, api: str, params: dict[str, Any]) -> str | None:
        """A call on the connection held here for the live worker (the web process's relay
        server calls this): the ``Response`` as base64, None with no connection here."""
        client = self.client
        if client is None:
            return None
        rsp = client.call(build_request(wcf_pb2.Functions.Value(api), params))
        return base64.b64encode(rsp.SerializeToString()).decode()

    def _me(self) -> str:
        """The account's wxid; the live worker asks the web process's connection once."""
        if not self.me and self.client is None and self.relay is not None:
            self.me = str(self._request(wcf_pb2.FUNC_GET_SELF_WXID).str)
        return self.me

    def _send(self, receiver: str, *, text: str = "", aters: str = "", path: str = "") -> None:
        """Every message the account sends passes here (text, or a file at ``path`` on
        the PC or a URL): the one place to pace a personal account."""
        if path:
            rsp = self._request(wcf_pb2.FUNC_SEND_FILE, file={"path": path, "receiver": receiver})
        else:
            txt = {"msg": text, "receiver": receiver, "aters": aters}
            rsp = self._request(wcf_pb2.FUNC_SEND_TXT, txt=txt)
        _sent(rsp, receiver)

    def _warn(self, group: str, action: Action, text: str) -> dict[str, Any]:
        member = action.member or ""
        name = self._mention(group, member)
        self._send(group, text=f"@{name} {text}", aters=member)
        return {"mentioned": member}

    def _once(self) -> SentOnce:
        if self._sent_once is None:
            self._sent_once = SentOnce.of(self.store.settings)
        return self._sent_once

    def _mention(self, group: str, member: str) -> str:
        return self.room(group).names.get(member) or member

    def _manage(self, group: str, func: int, member: str, what: str) -> None:
        room = self.room(group)
        me = self._me()
        if (room.owner or room.admins) and me not in (room.owner, *room.admins):
            raise Unsupported(f"WeChat: the account is not the owner or an admin of {group}")
        rsp = self._request(func, m={"roomid": group, "wxids": member})
        if rsp.status != 1:  # WeChatFerry answers 1 for a member managed
            raise Unsupported(f"WeChat refused to {what} {member} in {group} ({rsp.status})")
        self.room(group, fresh=True)

    # -- out, on the connection's own loop -------------------------------------------
    def loop_perform(
        self, action: Action
    ) -> tuple[asyncio.AbstractEventLoop, Callable[[Action], Awaitable[dict[str, Any]]]] | None:
        """A text message (an early warning) sent on the loop that reads the messages, over
        the same connection, with no thread in between; None without a connection here,
        or for anything else (a worker's ``perform`` does that)."""
        client = self.client
        loop = client.loop if client is not None else None
        if loop is None or not _on_loop(action):
            return None
        return loop, self._aperform

    async def _aperform(self, action: Action) -> dict[str, Any]:
        """``perform`` of a text message on the connection's loop; anything else raises
        (the executor then hands it to a worker: Unsupported becomes an alert there)."""
        group, member = action.group, action.member or ""
        if not _on_loop(action):
            raise Unsupported(f"WeChat: {action.kind} goes through a worker")
        if member and member == self.me and action.kind in _AGAINST_MEMBER:
            return {"skipped": "the connected account itself"}
        client = self._client()
        text = action.text or action.reason
        if action.kind == "warn" and member:
            known = self.rooms.get(group) or await self._aroom(group)
            shown = known.names.get(member) or member

            async def warn() -> dict[str, Any]:
                txt = {"msg": f"@{shown} {text}", "receiver": group, "aters": member}
                _sent(await client.arequest(wcf_pb2.FUNC_SEND_TXT, txt=txt), group)
                return {"mentioned": member}

            # a live warning may come twice (early at receipt, then the batch's): sent
            # once; its twin under way, TwinPending hands this one to a worker's ``run``
            return await self._once().arun(action, warn)
        txt = {"msg": text, "receiver": group, "aters": ""}
        _sent(await client.arequest(wcf_pb2.FUNC_SEND_TXT, txt=txt), group)
        return {}

    def perform(self, action: Action) -> dict[str, Any]:
        group, kind = action.group, action.kind
        if action.member and action.member == self._me() and kind in _AGAINST_MEMBER:
            # WeChatFerry hands back what the account sends: its own warnings would be read
            # as flooding and the account would warn and remove itself, round and round
            return {"skipped": "the connected account itself"}
        match kind:
            case "send_message" | "warn":
                text = action.text or action.reason
                if action.detail.get("private"):  # a broadcast to members one by one
                    self._send(group, text=text)
                    return {}
                if action.detail.get("file"):
                    self._send(group, path=str(action.detail["file"]))
                    return {}
                if kind == "warn" and action.member:
                    # a live warning may come twice (early at receipt, then the batch's)
                    return self._once().run(action, lambda: self._warn(group, action, text))
                self._send(group, text=text)
                return {}
            case "remove" | "ban":
                member = member_of(action)
                self._manage(group, wcf_pb2.FUNC_DEL_ROOM_MEMBERS, member, "remove")
                if action.text:  # the group learns why
                    self._send(group, text=action.text)
                # WeChat keeps no ban list: a banned member is removed, and could be invited
                return {"removed": member}
            case "approve_join":
                member = member_of(action)
                small = len(self.room(group).names) < SMALL_GROUP
                func = wcf_pb2.FUNC_ADD_ROOM_MEMBERS if small else wcf_pb2.FUNC_INV_ROOM_MEMBERS
                self._manage(group, func, member, "add" if small else "invite")
                return {"added" if small else "invited": member}
            case "delete_message":
                raise Unsupported("WeChat: a personal account cannot delete a member's message")
            case "mute" | "unmute":
                raise Unsupported("WeChat groups have no per-member mute")
            case "decline_join" | "unban" | "create_invite_link" | "alert":
                raise Unsupported(f"WeChatFerry has no call for {kind}")
            case _:
                assert_never(kind)

    def close(self) -> None:
        client = self.client
        if client is not None:
            client.close()


_AGAINST_MEMBER = frozenset({"warn", "delete_message", "mute", "unmute", "remove", "ban"})


async def _ready(taken: Taken) -> list[Parsed]:
    return taken if isinstance(taken, list) else await taken


def _on_loop(action: Action) -> bool:
    """A text message to a group: what ``_aperform`` sends (files, broadcasts to members
    and member management go through a worker)."""
    detail = action.detail
    return action.kind in ("warn", "send_message") and not (
        detail.get("private") or detail.get("file")
    )


def _sent(rsp: Any, receiver: str) -> None:
    if rsp.status != 0:
        raise Refused(f"WeChat did not send to {receiver} (status {rsp.status})")


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Close the connection's loop: what is still under way on it (an early warning's
    record, a hand-off) is cancelled first, then the loop closed."""
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
