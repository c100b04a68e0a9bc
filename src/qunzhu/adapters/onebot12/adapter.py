"""The OneBot 12 connector: WeChat personal groups through a bridge on the operator's PC
(ComWeChatBotClient and other OneBot 12 WeChat bridges), and any other OneBot 12 bridge, each
event stored on the platform the bridge names (``self.platform``), never on a fixed one.

In, as the spec's connect/communication pages define them: the HTTP webhook
``/hooks/onebot/<name>`` (``Authorization: Bearer <access_token>`` or ``?access_token=``;
OneBot 12 defines no signature, so the token is required), the reverse WebSocket
``/hooks/onebot/<name>/ws`` (the bridge offers ``Sec-WebSocket-Protocol: 12.<impl>``), and the
forward WebSocket to the bridge's own server at ``ws_url``, reconnecting with backoff.
Out: actions over a live WebSocket, else ``POST`` to the bridge's HTTP ``api_url``.

What WeChat allows a personal account: send (with @ mentions) and, where the account is the
group's owner or admin, remove (``wx.delete_groupmember``). It cannot recall another's
message or mute anyone: those actions raise :class:`Unsupported` and become alerts.

Config: ``api_url``, ``ws_url`` (both optional), and the send pacing of
:mod:`qunzhu.adapters.send_limits`. Credentials: ``access_token``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, assert_never

from qunzhu.adapters.base import (
    ConnectorError,
    ConnectorInfo,
    Deliver,
    Refused,
    Unsupported,
    member_of,
)
from qunzhu.adapters.onebot.adapter import OneBotConnector, only_messages
from qunzhu.adapters.onebot12.api import HttpApi, answer
from qunzhu.adapters.onebot12.parse import member_message, parse_event
from qunzhu.adapters.state import StateBook
from qunzhu.adapters.webhook import WebhookRejected, WebhookRequest, WebhookResponse
from qunzhu.events import Action, Event, MemberJoined, make_key
from qunzhu.moderation.sent_once import SentOnce
from qunzhu.store import connector_records as records
from qunzhu.store.session import Store

REMOVE = "wx.delete_groupmember"  # ComWeChatBotClient's extended action (wx. prefix)
_CANNOT = {
    "delete_message": "WeChat lets an account recall only its own messages",
    "mute": "WeChat groups have no mute",
    "unmute": "WeChat groups have no mute",
    "unban": "WeChat keeps no ban list: invite the member again",
    "approve_join": "WeChat shows join requests only in the owner's phone",
    "decline_join": "WeChat shows join requests only in the owner's phone",
    "create_invite_link": "WeChat group QR codes are made in the phone",
    "alert": "an alert is for an operator",
}


class OneBot12Connector(OneBotConnector):
    def __init__(
        self, info: ConnectorInfo, store: Store, state: StateBook, deliver: Deliver
    ) -> None:
        super().__init__(info, store, state, deliver)
        self.secret = ""  # OneBot 12 signs nothing: the access token is the proof
        # display names → ids per group, for system lines, which name people by name only
        self._names: dict[tuple[str, str], str] = {}
        self._names_lock = threading.Lock()
        self._sent_once: SentOnce | None = None

    def _once(self) -> SentOnce:
        if self._sent_once is None:
            self._sent_once = SentOnce.of(self.store.settings)
        return self._sent_once

    def _http_api(self, url: str) -> HttpApi:
        return HttpApi(url, self.token)

    def _decode(self, action: str, status_code: int, body: Any) -> Any:
        return answer(action, status_code, body)

    def _is_answer(self, message: Mapping[str, Any]) -> bool:
        return "type" not in message and "retcode" in message

    def subprotocol(self, offered: list[str]) -> str | None:
        """The ``12.<impl>`` subprotocol a reverse WebSocket offers, taken as offered."""
        return next((p for p in offered if p.startswith("12.")), None)

    # -- in ------------------------------------------------------------------------------
    def webhook(self, request: WebhookRequest) -> WebhookResponse:
        if not self.token:
            raise WebhookRejected(401, "set an access token: OneBot 12 webhooks carry no signature")
        if not self.token_ok(request.headers, request.query):
            raise WebhookRejected(401, "Authorization: Bearer <access_token> missing or wrong")
        version = request.headers.get("x-onebot-version", "12")
        if version != "12":
            raise WebhookRejected(400, f"X-OneBot-Version {version!r}: this connector speaks 12")
        try:
            event = request.json()
        except ValueError:
            raise WebhookRejected(400, "the body is not JSON") from None
        if not isinstance(event, dict) or "type" not in event or "detail_type" not in event:
            raise WebhookRejected(400, "not a OneBot 12 event (no type or detail_type)")
        self.handle(event)
        return WebhookResponse(204, b"")  # no actions in the answer: they go out on their own

    def _take(self, event: Mapping[str, Any], flush: Callable[[], None]) -> list[Event] | None:
        cid = self.info.id
        if event.get("type") == "meta":
            flush()  # a status it reports comes after what was received before it
            self._meta(event)
            return None
        parsed = parse_event(event, self.info.community, self.info.platform, self._name_of)
        if not parsed.platform:
            flush()
            records.add_alert(
                self.store,
                community=self.info.community,
                connector_id=cid,
                platform=self.info.platform,
                group=str(event.get("group_id") or ""),
                kind="unknown_platform",
                text=f"OneBot 12 bridge {event.get('impl')!r}: {parsed.ignored}; its events "
                "are not stored",
                key=make_key("ob12-platform", cid, str(event.get("self"))),
            )
            return None
        if parsed.group_status or parsed.renamed:
            flush()
        for e in parsed.events:
            if isinstance(e, MemberJoined) and e.member_name:
                self._remember(e.group, e.member_name, e.member)
        for group, status, why in parsed.group_status:
            records.set_group_state(self.store, cid, group, status, why)
            if status == "disabled":
                records.add_alert(
                    self.store,
                    community=self.info.community,
                    connector_id=cid,
                    platform=parsed.platform,
                    group=group,
                    kind="connector_disabled",
                    text=why,
                    key=make_key("ob12-removed", cid, group, event.get("id")),
                )
        for group, name, by in parsed.renamed:
            records.rename_group(self.store, self.info.community, parsed.platform, group, name)
            records.add_alert(
                self.store,
                community=self.info.community,
                connector_id=cid,
                platform=parsed.platform,
                group=group,
                member=by,
                kind="group_renamed",
                text=f"{parsed.platform}: group {group} renamed to “{name}” by {by}",
                level="info",
                key=make_key("ob12-renamed", cid, group, event.get("id")),
            )
        return list(parsed.events)

    def _read_plain(self, event: Mapping[str, Any]) -> list[Event] | None:
        """A member's group message on a platform qunzhu knows: its messages (judged at
        receipt); anything else (system lines, notices, meta) is ``_take``'s."""
        if not member_message(event):
            return None
        parsed = parse_event(event, self.info.community, self.info.platform, self._name_of)
        if not parsed.platform or parsed.group_status or parsed.renamed:
            return None
        return only_messages(parsed.events)

    def _meta(self, event: Mapping[str, Any]) -> None:
        """connect, heartbeat and status_update: the bridge is alive; status_update also
        says whether the account behind it is online (WeChat logged out on the PC)."""
        cid = self.info.id
        if event.get("detail_type") == "status_update":
            status = event.get("status") or {}
            bots = status.get("bots") or []
            offline = [
                str((b.get("self") or {}).get("user_id") or "")
                for b in bots
                if isinstance(b, Mapping) and not b.get("online")
            ]
            if offline or status.get("good") is False:
                self.state.set(cid, "error", f"the bridge reports {', '.join(offline)} offline")
                return
            self.state.set(cid, "connected")
        self.state.event(cid, 0)

    def _remember(self, group: str, name: str, member: str) -> None:
        if name and not member.startswith("name:"):
            with self._names_lock:
                self._names[(group, name)] = member

    def _name_of(self, group: str, name: str) -> str | None:
        with self._names_lock:
            return self._names.get((group, name))

    # -- out -----------------------------------------------------------------------------
    def perform(self, action: Action) -> dict[str, Any]:
        kind = action.kind
        wechat = action.platform == "wechat"
        match kind:
            case "send_message" | "warn":
                # a live warning may come twice (early at receipt, then the batch's): once
                return self._once().run(action, lambda: self._send(action, mention=kind == "warn"))
            case "delete_message":
                if wechat:
                    raise Unsupported(_CANNOT[kind])
                self.call("delete_message", {"message_id": str(action.message_id or "")})
                return {}
            case "remove" | "ban":
                if not wechat:
                    raise Unsupported(f"OneBot 12 has no standard action for {kind}")
                member = member_of(action)
                try:
                    self.call(REMOVE, {"group_id": action.group, "user_list": [member]})
                except Refused as exc:
                    raise Unsupported(
                        f"the bridge refused ({exc}): the account must be the group's owner "
                        "or admin to remove members"
                    ) from exc
                if action.text:  # the group learns why
                    self.call("send_message", _group_message(action.group, action.text))
                return {"removed": member, "ban_list": False} if kind == "ban" else {}
            case "mute" | "unmute" | "unban" | "approve_join" | "decline_join":
                raise Unsupported(_CANNOT[kind] if wechat else f"OneBot 12 has no {kind}")
            case "create_invite_link" | "alert":
                raise Unsupported(_CANNOT[kind])
            case _:
                assert_never(kind)

    def loop_perform(
        self, action: Action
    ) -> tuple[asyncio.AbstractEventLoop, Callable[[Action], Awaitable[dict[str, Any]]]] | None:
        """A message (an early warning) sent on the event loop of the reverse WebSocket
        that received the ad, with no thread in between (the executor's ``LoopPerform``);
        None without one, or for other kinds (they go through ``perform`` on a worker)."""
        session = self.session
        if session is None or session.closed or action.kind not in ("warn", "send_message"):
            return None
        return session.loop, self._aperform

    async def _aperform(self, action: Action) -> dict[str, Any]:
        session = self.session
        if session is None or session.closed:  # dropped in between: a worker's way
            raise ConnectorError(f"{action.kind}: the WebSocket closed")
        params = _send_params(action, mention=action.kind == "warn")

        async def send() -> dict[str, Any]:
            data = self._decode("send_message", 200, await session.call("send_message", params))
            return {"message_id": (data or {}).get("message_id")}

        return await self._once().arun(action, send)

    def _send(self, action: Action, *, mention: bool) -> dict[str, Any]:
        data = self.call("send_message", _send_params(action, mention=mention))
        return {"message_id": (data or {}).get("message_id")}

    def sync(self, group: str) -> int:
        """Members of ``group`` (``get_group_member_list``) as joins; their display names
        are kept for the system lines. OneBot 12 gives no join time: each member's join is
        keyed by who and where, so a second sync adds nothing."""
        members = self.call("get_group_member_list", {"group_id": group}) or []
        now = datetime.now(UTC)
        platform = self.info.platform
        events: list[Event] = []
        for m in members:
            user = str(m.get("user_id") or "")
            if not user:
                continue
            name = str(m.get("user_displayname") or m.get("user_name") or "")
            for shown in {str(m.get("user_displayname") or ""), str(m.get("user_name") or "")}:
                self._remember(group, shown, user)
            events.append(
                MemberJoined(
                    platform=platform,
                    community=self.info.community,
                    group=group,
                    member=user,
                    occurred_at=now,
                    member_name=name,
                    via="unknown",
                    key=make_key("ob12-sync", platform, self.info.community, group, user),
                    raw=dict(m),
                )
            )
        self.deliver(events)
        return len(events)


def _send_params(action: Action, *, mention: bool) -> dict[str, Any]:
    text = action.text or action.reason
    if action.detail.get("private"):  # a broadcast to members one by one
        return {
            "detail_type": "private",
            "user_id": action.group,
            "message": [{"type": "text", "data": {"text": text}}],
        }
    params = _group_message(action.group, text)
    if mention and action.member:
        params["message"].insert(0, {"type": "mention", "data": {"user_id": action.member}})
        params["message"][1]["data"]["text"] = " " + text
    return params


def _group_message(group: str, text: str) -> dict[str, Any]:
    return {
        "detail_type": "group",
        "group_id": group,
        "message": [{"type": "text", "data": {"text": text}}],
    }
