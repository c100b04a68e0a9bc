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

Config: ``host``, ``port`` (10086 by default). No credentials: WeChatFerry has none, so
its ports must only be reachable from qunzhu (see docs/connectors.md).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, assert_never

from wcferry import wcf_pb2

from qunzhu.adapters.base import (
    ConnectorError,
    ConnectorInfo,
    Deliver,
    Refused,
    Unsupported,
    member_of,
)
from qunzhu.adapters.state import StateBook
from qunzhu.adapters.webhook import WebhookRoute
from qunzhu.adapters.wechat.parse import PLATFORM, parse
from qunzhu.adapters.wechat.rpc import WcfClient
from qunzhu.events import Action
from qunzhu.moderation.sent_once import SentOnce
from qunzhu.store import connector_records as records
from qunzhu.store.session import Store

log = logging.getLogger(__name__)
DEFAULT_PORT = 10086
BATCH = 256  # messages stored together when they come faster than one at a time
SMALL_GROUP = 40  # WeChat adds members directly below this size; larger groups get an invite


@dataclass
class _Room:
    names: dict[str, str] = field(default_factory=dict)  # wxid → display name
    admins: list[str] = field(default_factory=list)
    owner: str = ""

    def wxid_of(self, name: str) -> str | None:
        return next((w for w, n in self.names.items() if n == name), None)


class WeChatFerryConnector:
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
        self._lock = threading.Lock()
        self._sent_once: SentOnce | None = None

    def routes(self) -> list[WebhookRoute]:
        return []

    def has_loop(self) -> bool:
        return bool(self.host)

    # -- in ---------------------------------------------------------------------------
    def run_once(self, stop: threading.Event) -> None:
        """Hold the connection until ``stop`` or a drop (then the runner reconnects)."""
        client = WcfClient(self.host, self.port)
        client.open()
        try:
            if not client.is_login():
                raise ConnectorError("WeChat on the PC is not logged in (scan the QR code there)")
            self.me = client.self_wxid()
            if not client.enable_messages():
                raise ConnectorError("WeChatFerry did not start sending messages")
            client.listen()
            self.client = client
            self.state.set(self.info.id, "connected")
            while not stop.is_set():
                if client.dropped.is_set():
                    raise ConnectorError("the connection to WeChatFerry dropped")
                msg = client.receive(500)
                if msg is not None:
                    # what else has come meanwhile is stored with it, in order, in one batch:
                    # one transaction per message could not keep up with a busy account
                    self.handle([msg, *client.waiting(BATCH - 1)])
        finally:
            if self.client is client:
                self.client = None
            client.close()

    def handle(self, msgs: list[Any]) -> None:
        events: list[Any] = []
        for msg in msgs:
            events.extend(self._read(msg))
        if events:
            self.deliver(events)
        self.state.event(self.info.id, len(msgs))

    def _read(self, msg: Any) -> list[Any]:
        """The events of one message; alerts and group states it causes are stored here."""
        cid = self.info.id
        parsed = parse(msg, self.info.community, self.me, self._resolve, self._name_of)
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
                key=f"wechat-removed-{parsed.removed_from}-{msg.id}",
            )
        records.add_notices(
            self.store,
            parsed.notices,
            community=self.info.community,
            connector_id=cid,
            platform=PLATFORM,
        )
        return parsed.events

    def room(self, roomid: str, *, fresh: bool = False) -> _Room:
        """The group's members, admins and owner, asked once and again when ``fresh``
        (a name in a system line that the list lacks: someone just joined)."""
        known = self.rooms.get(roomid)
        if known is not None and not fresh:
            return known
        names, admins, owner = self._client().room(roomid)
        made = _Room(names, admins, owner)
        self.rooms[roomid] = made
        return made

    def _resolve(self, roomid: str, name: str) -> str:
        found = self.room(roomid).wxid_of(name) or self.room(roomid, fresh=True).wxid_of(name)
        return found or f"name:{name}"  # as the importer names someone it cannot place

    def _name_of(self, roomid: str, wxid: str) -> str:
        room = self.room(roomid)
        if wxid not in room.names and (roomid, wxid) not in self._asked:
            self._asked.add((roomid, wxid))  # a new member: the list once more, not each time
            room = self.room(roomid, fresh=True)
        return room.names.get(wxid, "")

    # -- out --------------------------------------------------------------------------
    def _client(self) -> WcfClient:
        client = self.client
        if client is None:
            raise ConnectorError("not connected to WeChatFerry (qunzhu serve reconnects)")
        return client

    def _send(self, receiver: str, *, text: str = "", aters: str = "", path: str = "") -> None:
        """Every message the account sends passes here (text, or a file at ``path`` on
        the PC or a URL): the one place to pace a personal account."""
        client = self._client()
        if path:
            rsp = client.request(wcf_pb2.FUNC_SEND_FILE, file={"path": path, "receiver": receiver})
        else:
            txt = {"msg": text, "receiver": receiver, "aters": aters}
            rsp = client.request(wcf_pb2.FUNC_SEND_TXT, txt=txt)
        if rsp.status != 0:
            raise Refused(f"WeChat did not send to {receiver} (status {rsp.status})")

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
        if (room.owner or room.admins) and self.me not in (room.owner, *room.admins):
            raise Unsupported(f"WeChat: the account is not the owner or an admin of {group}")
        rsp = self._client().request(func, m={"roomid": group, "wxids": member})
        if rsp.status != 1:  # WeChatFerry answers 1 for a member managed
            raise Unsupported(f"WeChat refused to {what} {member} in {group} ({rsp.status})")
        self.room(group, fresh=True)

    def perform(self, action: Action) -> dict[str, Any]:
        group, kind = action.group, action.kind
        if action.member and action.member == self.me and kind in _AGAINST_MEMBER:
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
