"""The WeCom connector for customer groups (客户群).

In: the callback URL ``/hooks/wecom/<name>`` (GET: URL verification; POST: encrypted
events), and a periodic sync of the group list and each group's members.
Out: only what WeCom allows for customer groups: a group message task
(``add_msg_template``, which the group owner confirms in the app) and the group welcome
template. WeCom has no API to delete a message, mute or remove a customer-group member,
and without the paid archive SDK no message content arrives: those decisions become alerts.

Credentials: ``corp_id``, ``secret`` (客户联系 secret), ``token``, ``aes_key``.
Config: ``api_base``, ``sync_interval`` (seconds, default 3600), ``callback_window``
(seconds a signed callback's timestamp may differ from this server's clock, default 300;
0 switches the check off; a callback is taken once), ``welcome`` (the group
welcome text; registered as a template when the connector runs or when
``qunzhu connectors welcome`` sets it, its id kept as ``welcome_template_id``).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any, assert_never

from sqlalchemy import select

from qunzhu.adapters.base import ConnectorError, ConnectorInfo, Deliver, Unsupported
from qunzhu.adapters.freshness import DEFAULT_WINDOW, Freshness, StaleCallback
from qunzhu.adapters.state import StateBook
from qunzhu.adapters.webhook import WebhookRejected, WebhookRequest, WebhookResponse, WebhookRoute
from qunzhu.adapters.wecom import changes
from qunzhu.adapters.wecom.api import DEFAULT_BASE, WeComApi
from qunzhu.adapters.wecom.crypto import CallbackCrypto, CallbackRefused, CallbackUnreadable
from qunzhu.adapters.wecom.parse import members_of
from qunzhu.events import Action, Event, MemberLeft
from qunzhu.store.models import Community, Group, Identity, Membership
from qunzhu.store.session import Store

log = logging.getLogger(__name__)
CANNOT = {
    "delete_message": "WeCom has no API to delete a message in a customer group",
    "mute": "WeCom customer groups cannot mute a member",
    "unmute": "WeCom customer groups cannot mute a member",
    "remove": "WeCom has no API to remove a member from a customer group (the owner can, "
    "in the app)",
    "ban": "WeCom has no API to remove or blacklist a customer-group member",
    "unban": "WeCom keeps no ban list to lift",
    "approve_join": "WeCom customer groups have no join requests to answer",
    "decline_join": "WeCom customer groups have no join requests; remove the member by hand",
    "create_invite_link": "create a 加入群聊 contact way with a state in the admin console",
}


class WeComConnector:
    def __init__(
        self, info: ConnectorInfo, store: Store, state: StateBook, deliver: Deliver
    ) -> None:
        self.info = info
        self.store = store
        self.state = state
        self.deliver = deliver
        creds = info.credentials
        self.crypto = CallbackCrypto(creds["token"], creds["aes_key"], creds["corp_id"])
        self.api = (
            WeComApi(
                creds["corp_id"],
                creds["secret"],
                base_url=str(info.config.get("api_base") or DEFAULT_BASE),
            )
            if creds.get("secret")
            else None
        )
        self.sync_interval = float(info.config.get("sync_interval", 3600))
        # a signed callback older (or newer) than this is refused, and each is taken once
        self.freshness = Freshness(float(info.config.get("callback_window", DEFAULT_WINDOW)))
        self.welcome = str(info.config.get("welcome") or "")
        self.welcome_template_id = str(info.config.get("welcome_template_id") or "")
        self.welcome_registered = str(info.config.get("welcome_registered") or "")
        self.owners: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- in: callbacks ------------------------------------------------------------------
    def routes(self) -> list[WebhookRoute]:
        return [
            WebhookRoute(
                f"wecom/{self.info.name}",
                self.callback,
                methods=("GET", "POST"),
                name=f"hook:wecom:{self.info.name}",
            )
        ]

    def callback(self, request: WebhookRequest) -> WebhookResponse:
        q = request.query
        signature, timestamp, nonce = (
            q.get("msg_signature", ""),
            q.get("timestamp", ""),
            q.get("nonce", ""),
        )
        unreadable: CallbackUnreadable | None = None
        try:
            if request.method == "GET":
                echo = self.crypto.verify_url(signature, timestamp, nonce, q.get("echostr", ""))
                self.freshness.check(timestamp, signature)
                return WebhookResponse(200, echo)
            try:
                xml = self.crypto.decrypt(request.body, signature, timestamp, nonce)
            except CallbackUnreadable as exc:  # signed, so kept rather than refused
                unreadable, xml = exc, {"plain": exc.plain[:20000]}
            self.freshness.check(timestamp, signature)
        except (CallbackRefused, StaleCallback) as exc:
            raise WebhookRejected(403, str(exc)) from None
        if unreadable is not None:
            changes.quarantine(self, xml, str(unreadable))
        else:
            self.handle(xml)
        self.freshness.accepted(timestamp, signature)
        return WebhookResponse(200, "success")

    def handle(self, xml: dict[str, Any]) -> None:
        changes.apply(self, xml)

    # -- sync -----------------------------------------------------------------------------
    def sync(self, chat: str | None = None) -> int:
        """Group list and members: joins for everyone there, leaves for stored members who
        are gone; a repeated sync adds nothing."""
        if self.api is None:
            raise ConnectorError("no API secret configured: the sync needs one")
        chats = [chat] if chat else self.api.group_chats()
        events: list[Event] = []
        for c in chats:
            events += self._sync_chat(c)
        self.deliver(events)
        return len(events)

    def _sync_chat(self, chat: str) -> list[Event]:
        if self.api is None:
            return []
        detail = self.api.group_chat(chat)
        self.owners[chat] = str(detail.get("owner") or "")
        present = members_of(detail, self.info.community)
        here = {e.member for e in present}
        now = datetime.now(UTC).replace(microsecond=0)
        gone = [
            MemberLeft(
                platform="wecom",
                community=self.info.community,
                group=chat,
                member=user,
                occurred_at=now,
                reason="left",
                raw={"sync": "no longer in groupchat/get"},
            )
            for user in self._stored_members(chat)
            if user not in here
        ]
        return [*present, *gone]

    def _stored_members(self, chat: str) -> list[str]:
        with self.store.reading() as session:
            return list(
                session.scalars(
                    select(Identity.platform_user_id)
                    .join(Membership, Membership.member_id == Identity.member_id)
                    .join(Group, Group.id == Membership.group_id)
                    .join(Community, Community.id == Group.community_id)
                    .where(
                        Community.slug == self.info.community,
                        Group.platform == "wecom",
                        Group.platform_group_id == chat,
                        Identity.platform == "wecom",
                        Membership.status == "active",
                    )
                )
            )

    def has_loop(self) -> bool:
        return self.api is not None and self.sync_interval > 0

    def run_once(self, stop: threading.Event) -> None:
        self.ensure_welcome()
        while not stop.is_set():
            self.sync()
            self.state.set(self.info.id, "connected")
            stop.wait(self.sync_interval)

    # -- out ----------------------------------------------------------------------------
    def perform(self, action: Action) -> dict[str, Any]:
        kind = action.kind
        match kind:
            case "send_message" | "warn":
                return self._group_message(action)
            case (
                "delete_message"
                | "mute"
                | "unmute"
                | "remove"
                | "ban"
                | "unban"
                | "approve_join"
                | "decline_join"
                | "create_invite_link"
                | "alert"
            ):
                raise Unsupported(CANNOT.get(kind, f"WeCom has no API for {kind}"))
            case _:
                assert_never(kind)

    def _group_message(self, action: Action) -> dict[str, Any]:
        if action.detail.get("private"):
            raise Unsupported("a private message to a WeCom member is sent by a person in WeCom")
        if self.api is None:
            raise Unsupported("no API secret configured to send a group message")
        sender = self.owners.get(action.group) or str(
            self.api.group_chat(action.group).get("owner") or ""
        )
        data = self.api.post(
            "/cgi-bin/externalcontact/add_msg_template",
            {
                "chat_type": "group",
                "sender": sender,
                "chat_id_list": [action.group],
                "text": {"content": action.text or action.reason},
            },
        )
        return {"msgid": data.get("msgid"), "note": "the group owner confirms it in WeCom"}

    def set_welcome(self, text: str) -> str:
        """Register the group welcome (入群欢迎语) template, or change the one registered
        before; returns its template id."""
        if self.api is None:
            raise ConnectorError("no API secret configured")
        if self.welcome_template_id:
            self.api.post(
                "/cgi-bin/externalcontact/group_welcome_template/edit",
                {"template_id": self.welcome_template_id, "text": {"content": text}},
            )
            return self.welcome_template_id
        data = self.api.post(
            "/cgi-bin/externalcontact/group_welcome_template/add", {"text": {"content": text}}
        )
        return str(data.get("template_id"))

    def ensure_welcome(self) -> str | None:
        """Send the configured welcome to WeCom unless it was sent as it is; keep the
        template id in the connector's config. None when no welcome is configured."""
        if not self.welcome:
            return None
        if self.welcome_template_id and self.welcome_registered == self.welcome:
            return self.welcome_template_id
        template_id = self.set_welcome(self.welcome)
        self.welcome_template_id, self.welcome_registered = template_id, self.welcome
        update_config(
            self.store,
            self.info.id,
            welcome_template_id=template_id,
            welcome_registered=self.welcome,
        )
        return template_id

    def close(self) -> None:
        if self.api is not None:
            self.api.close()


def update_config(store: Store, connector_id: int, **values: Any) -> dict[str, Any]:
    """Change some keys of a connector's (non-secret) config in one transaction; a value of
    None removes its key. Returns the new config."""
    from qunzhu.store.connectors import Connector

    with store.unit_of_work() as session:
        row = session.get(Connector, connector_id, with_for_update=True)
        if row is None:
            raise LookupError(f"no connector {connector_id}")
        config = dict(row.config or {})
        for key, value in values.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        row.config = config
        return config
