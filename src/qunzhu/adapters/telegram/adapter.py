"""The Telegram connector: webhook and long polling in, Bot API calls out.

Config: ``mode`` (webhook | polling), ``api_base`` (default the real Bot API).
Credentials: ``token``, ``webhook_secret`` (what Telegram sends back in
``X-Telegram-Bot-Api-Secret-Token``; set with ``setWebhook(secret_token=...)``).
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from typing import Any, assert_never

import anyio.to_thread

from qunzhu.adapters.base import ConnectorInfo, Deliver, Unsupported, member_of, referral_of
from qunzhu.adapters.state import StateBook
from qunzhu.adapters.telegram.api import BotApi
from qunzhu.adapters.telegram.parse import parse_update
from qunzhu.adapters.webhook import WebhookRejected, WebhookRequest, WebhookResponse, WebhookRoute
from qunzhu.events import Action
from qunzhu.store import connector_records as records
from qunzhu.store.session import Store

log = logging.getLogger(__name__)
SECRET_HEADER = "x-telegram-bot-api-secret-token"
ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
]
# updates whose handling reads or writes the database (link owners, join requests, the
# bot's own status, chat migrations): never on the event loop, always on a worker thread
_NEEDS_DATABASE = (
    b'"invite_link"',
    b'"chat_join_request"',
    b'"my_chat_member"',
    b'"migrate_to_chat_id"',
    b'"migrate_from_chat_id"',
)
_SILENT = {
    "can_send_messages": False,
    "can_send_audios": False,
    "can_send_documents": False,
    "can_send_photos": False,
    "can_send_videos": False,
    "can_send_video_notes": False,
    "can_send_voice_notes": False,
    "can_send_polls": False,
    "can_send_other_messages": False,
    "can_add_web_page_previews": False,
}


def _no_lookup(_link: str) -> tuple[str | None, str | None]:
    return None, None  # only asked for updates with an invite link, which take the thread


class TelegramConnector:
    def __init__(
        self, info: ConnectorInfo, store: Store, state: StateBook, deliver: Deliver
    ) -> None:
        self.info = info
        self.store = store
        self.state = state
        self.deliver = deliver
        self.mode = str(info.config.get("mode", "webhook"))
        self.api = BotApi(
            info.credentials["token"],
            base_url=str(info.config.get("api_base") or "https://api.telegram.org"),
        )
        self.poll_timeout = int(info.config.get("poll_timeout", 25))
        self.offset: int | None = None
        self._lock = threading.Lock()

    # -- in ---------------------------------------------------------------------------
    def routes(self) -> list[WebhookRoute]:
        return [
            WebhookRoute(
                f"telegram/{self.info.name}", self.webhook, name=f"hook:telegram:{self.info.name}"
            )
        ]

    async def webhook(self, request: WebhookRequest) -> WebhookResponse:
        """On the web server's event loop: with Redis, an update that needs no database
        lookup is parsed and queued right here; any other goes to a worker thread (a
        commit, a spool's fsync or a lookup must not hold the loop)."""
        update = self._update_of(request)
        adeliver = getattr(self.deliver, "adeliver", None)
        if adeliver is not None and not any(m in request.body for m in _NEEDS_DATABASE):
            parsed = parse_update(update, self.info.community, _no_lookup)
            if not (parsed.migrations or parsed.bot_status or parsed.requests):
                await adeliver(parsed.events)
                self.state.event(self.info.id, 1)
                return WebhookResponse(200, {"ok": True})
        await anyio.to_thread.run_sync(self.handle, [update])
        return WebhookResponse(200, {"ok": True})

    def _update_of(self, request: WebhookRequest) -> dict[str, Any]:
        expected = self.info.credentials.get("webhook_secret", "")
        given = request.headers.get(SECRET_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookRejected(401, "secret token missing or wrong")
        try:
            update = request.json()
        except ValueError:
            raise WebhookRejected(400, "the body is not JSON") from None
        if not isinstance(update, dict) or "update_id" not in update:
            raise WebhookRejected(400, "not a Telegram update (no update_id)")
        return update

    def handle(self, updates: list[dict[str, Any]]) -> None:
        """Store what the updates say; raises if they could not be stored (so they come
        again: Telegram redelivers a webhook that failed, polling keeps the offset)."""
        cid = self.info.id
        events = []
        for update in updates:
            parsed = parse_update(update, self.info.community, self._link_owner)
            for old, new in parsed.migrations:
                records.follow_migration(self.store, cid, self.info.community, "telegram", old, new)
            for group, status, why in parsed.bot_status:
                records.set_group_state(self.store, cid, group, status, why)
                if status == "disabled":
                    records.add_alert(
                        self.store,
                        community=self.info.community,
                        connector_id=cid,
                        platform="telegram",
                        group=group,
                        kind="connector_disabled",
                        text=f"group {group}: {why}",
                        key=f"tg-removed-{group}-{update['update_id']}",
                    )
            for group, user, handle in parsed.requests:
                records.remember_request(self.store, cid, group, user, handle)
            events.extend(parsed.events)
        self.deliver(events)
        self.state.event(cid, len(updates))

    def _link_owner(self, link: str) -> tuple[str | None, str | None]:
        return records.link_owner(self.store, self.info.id, link) if link else (None, None)

    # -- polling ----------------------------------------------------------------------
    def has_loop(self) -> bool:
        return self.mode == "polling"

    def run_once(self, stop: threading.Event) -> None:
        """Poll until stopped; raises on a failed call so the runner backs off."""
        self.api.call("deleteWebhook", {"drop_pending_updates": False})
        self.state.set(self.info.id, "connected")
        while not stop.is_set():
            params: dict[str, Any] = {
                "timeout": self.poll_timeout,
                "allowed_updates": ALLOWED_UPDATES,
            }
            if self.offset is not None:
                params["offset"] = self.offset
            updates = self.api.call("getUpdates", params, timeout=self.poll_timeout + 10)
            if updates:
                self.handle(list(updates))
                # confirmed only after they are stored: a crash before this line means
                # Telegram sends them again, and their keys make the second time a no-op
                self.offset = int(updates[-1]["update_id"]) + 1

    # -- out --------------------------------------------------------------------------
    def perform(self, action: Action) -> dict[str, Any]:
        chat = action.group
        kind = action.kind
        match kind:
            case "delete_message":
                mid = int(action.message_id or 0)
                return {
                    "deleted": self.api.call("deleteMessage", {"chat_id": chat, "message_id": mid})
                }
            case "send_message" | "warn":
                return self._send(action, chat, reply=kind == "send_message")
            case "mute" | "unmute" | "remove" | "ban" | "unban":
                return self._restrict(action, chat, member_of(action))
            case "approve_join" | "decline_join":
                return self._answer_request(action, chat, member_of(action))
            case "create_invite_link":
                return self._invite_link(action, chat)
            case "alert":
                raise Unsupported("an alert is for an operator, not a Telegram call")
            case _:
                assert_never(kind)

    def _send(self, action: Action, chat: str, *, reply: bool) -> dict[str, Any]:
        params: dict[str, Any] = {"chat_id": chat, "text": action.text or action.reason}
        reply_to = action.detail.get("reply_to") if reply else None
        if reply_to:
            params["reply_parameters"] = {
                "message_id": int(reply_to),
                "allow_sending_without_reply": True,
            }
        sent = self.api.call("sendMessage", params)
        return {"message_id": (sent or {}).get("message_id")}

    def _restrict(self, action: Action, chat: str, user: str) -> dict[str, Any]:
        call = self.api.call
        who = {"chat_id": chat, "user_id": int(user)}
        result: dict[str, Any] = {}
        match action.kind:
            case "mute":
                until = int(time.time()) + int(action.duration_seconds or 600)
                call(
                    "restrictChatMember",
                    {
                        **who,
                        "permissions": _SILENT,
                        "until_date": until,
                        "use_independent_chat_permissions": True,
                    },
                )
                result = {"until": until}
            case "unmute":
                call(
                    "restrictChatMember",
                    {
                        **who,
                        "permissions": {k: True for k in _SILENT},
                        "use_independent_chat_permissions": True,
                    },
                )
                return {}
            case "remove":
                call("banChatMember", who)
                call("unbanChatMember", {**who, "only_if_banned": True})  # a kick, not a ban
            case "ban":
                call("banChatMember", who)
            case "unban":
                call("unbanChatMember", {**who, "only_if_banned": True})
                return {}
            case _:
                raise Unsupported(f"{action.kind} is not a restriction")
        if action.text:  # the group learns why (a removed member no longer reads it)
            call("sendMessage", {"chat_id": chat, "text": action.text})
        return result

    def _answer_request(self, action: Action, chat: str, user: str) -> dict[str, Any]:
        approve = action.kind == "approve_join"
        handle = records.take_request(
            self.store, self.info.id, chat, user, "approved" if approve else "declined"
        )
        if handle is not None:
            method = "approveChatJoinRequest" if approve else "declineChatJoinRequest"
            self.api.call(method, {"chat_id": chat, "user_id": int(user)})
            return {"request": handle}
        if approve:
            return {"request": None}  # joined already: nothing to approve
        # no pending request: the member is in already (an open link), so the decision is
        # carried out as a kick that lets them come back later (waitlist, routing)
        self.api.call("banChatMember", {"chat_id": chat, "user_id": int(user)})
        self.api.call(
            "unbanChatMember", {"chat_id": chat, "user_id": int(user), "only_if_banned": True}
        )
        return {"request": None, "removed": True}

    def _invite_link(self, action: Action, chat: str) -> dict[str, Any]:
        d = action.detail
        referrer, code, name = referral_of(action)
        params: dict[str, Any] = {"chat_id": chat, "name": name[:32]}
        if d.get("member_limit"):
            params["member_limit"] = int(d["member_limit"])
        if d.get("expire_seconds"):
            params["expire_date"] = int(time.time()) + int(d["expire_seconds"])
        if d.get("creates_join_request"):
            params = {k: v for k, v in params.items() if k != "member_limit"}
            params["creates_join_request"] = True
        link = self.api.call("createChatInviteLink", params)
        url = str(link["invite_link"])
        records.remember_link(
            self.store, self.info.id, chat, url, name, referrer, code, params.get("member_limit")
        )
        return {"invite_link": url, "name": name}

    def close(self) -> None:
        self.api.close()
