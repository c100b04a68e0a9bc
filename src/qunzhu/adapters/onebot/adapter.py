"""The OneBot v11 connector for QQ groups.

In: HTTP POST reporting to ``/hooks/onebot/<name>`` (``X-Signature: sha1=<HMAC-SHA1 of the
body with the secret>``; a signed event's ``time`` must be within ``callback_window``
seconds, 300 by default, and each is taken once), the reverse WebSocket
``/hooks/onebot/<name>/ws`` that the OneBot implementation connects to (``Authorization:
Bearer <access_token>``), and the forward WebSocket: qunzhu connects to the
implementation's own WebSocket server at ``ws_url`` (same token), reconnecting with
backoff when it drops.
Out: API calls over a live WebSocket (reverse or forward), else over HTTP to ``api_url``.

Config: ``api_url``, ``ws_url`` (both optional), ``callback_window`` (0: no time check).
Credentials: ``access_token``, ``secret``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar, assert_never

from qunzhu.adapters.base import (
    ConnectorError,
    ConnectorInfo,
    Deliver,
    PermanentError,
    Unsupported,
)
from qunzhu.adapters.freshness import DEFAULT_WINDOW, Freshness, StaleCallback
from qunzhu.adapters.onebot.api import HttpApi, answer
from qunzhu.adapters.onebot.parse import escape, parse_event
from qunzhu.adapters.state import StateBook
from qunzhu.adapters.webhook import WebhookRejected, WebhookRequest, WebhookResponse, WebhookRoute
from qunzhu.events import Action, Event, MemberJoined, MessagePosted
from qunzhu.store import connector_records as records
from qunzhu.store.session import Store

log = logging.getLogger(__name__)
CALL_TIMEOUT = 15.0
WS_INBOX = 1024
"""Events read from a reverse WebSocket and not yet stored, at most (then reading waits)."""
WS_BATCH = 256
"""Events stored together at most, of those waiting (``OneBotConnector.handle_many``)."""
_T = TypeVar("_T")
_Read = tuple[dict[str, Any], list[Event] | None]
"""An event read from a reverse WebSocket, with its messages when judged at receipt."""


class _Session:
    """One live reverse WebSocket: API calls out, answers matched back by ``echo``."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, send: Callable[[str], Awaitable[None]]
    ) -> None:
        self.loop = loop
        self.send = send
        self.pending: dict[str, asyncio.Future[Any]] = {}
        self.ids = itertools.count(1)
        self.closed = False

    async def call(self, action: str, params: dict[str, Any]) -> Any:
        echo = f"qz-{next(self.ids)}"
        future: asyncio.Future[Any] = self.loop.create_future()
        self.pending[echo] = future
        try:
            await self.send(json.dumps({"action": action, "params": params, "echo": echo}))
            return await asyncio.wait_for(future, CALL_TIMEOUT)
        finally:
            self.pending.pop(echo, None)

    def resolve(self, message: Mapping[str, Any]) -> None:
        future = self.pending.get(str(message.get("echo")))
        if future is not None and not future.done():
            future.set_result(message)

    def close(self) -> None:
        self.closed = True
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectorError("the WebSocket closed"))


class _ForwardSession:
    """The forward WebSocket: API calls from executor threads, answers read by the runner
    thread that also reads the events, matched by ``echo``."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.pending: dict[str, Future[Any]] = {}
        self.ids = itertools.count(1)
        self.closed = False
        self._lock = threading.Lock()

    def call(self, action: str, params: dict[str, Any]) -> Any:
        echo = f"qzf-{next(self.ids)}"
        future: Future[Any] = Future()
        with self._lock:
            if self.closed:
                raise ConnectorError(f"{action}: the WebSocket closed")
            self.pending[echo] = future
        try:
            self.ws.send(json.dumps({"action": action, "params": params, "echo": echo}))
            return future.result(CALL_TIMEOUT)
        except FutureTimeout as exc:
            raise ConnectorError(f"{action}: no answer within {CALL_TIMEOUT:.0f} s") from exc
        except ConnectorError:
            raise
        except Exception as exc:  # the socket broke under the send: try again later
            raise ConnectorError(f"{action}: {type(exc).__name__}: {exc}") from exc
        finally:
            with self._lock:
                self.pending.pop(echo, None)

    def resolve(self, message: Mapping[str, Any]) -> None:
        with self._lock:
            future = self.pending.get(str(message.get("echo")))
        if future is not None and not future.done():
            future.set_result(message)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            waiting = list(self.pending.values())
        for future in waiting:
            if not future.done():
                future.set_exception(ConnectorError("the WebSocket closed"))


class OneBotConnector:
    def __init__(
        self, info: ConnectorInfo, store: Store, state: StateBook, deliver: Deliver
    ) -> None:
        self.info = info
        self.store = store
        self.state = state
        self.deliver = deliver
        self.secret = info.credentials.get("secret", "")
        # signed HTTP POSTs: their `time` within this window of our clock (as WeCom's)
        self.freshness = Freshness(float(info.config.get("callback_window", DEFAULT_WINDOW)))
        self.token = info.credentials.get("access_token", "")
        api_url = str(info.config.get("api_url") or "")
        self.http = self._http_api(api_url) if api_url else None
        self.ws_url = str(info.config.get("ws_url") or "")
        self.session: _Session | None = None
        self.forward: _ForwardSession | None = None
        # set in the live worker of a split `qunzhu serve`: the reverse WebSocket is held
        # by the web process, which makes the calls sent through this relay
        self.relay: Any = None
        self._lock = threading.Lock()

    def _http_api(self, url: str) -> HttpApi:
        return HttpApi(url, self.token)

    def _decode(self, action: str, status_code: int, body: Any) -> Any:
        """The ``data`` of an answer, or the error it means (each OneBot version its own)."""
        return answer(action, status_code, body)

    def _is_answer(self, message: Mapping[str, Any]) -> bool:
        """An answer to one of our calls, not an event: it echoes and has no event type."""
        return "echo" in message and "post_type" not in message

    # -- in: HTTP POST --------------------------------------------------------------------
    def routes(self) -> list[WebhookRoute]:
        return [
            WebhookRoute(
                f"onebot/{self.info.name}", self.webhook, name=f"hook:onebot:{self.info.name}"
            )
        ]

    def webhook(self, request: WebhookRequest) -> WebhookResponse:
        given = ""
        if self.secret:
            given = request.headers.get("x-signature", "")
            want = "sha1=" + hmac.new(self.secret.encode(), request.body, hashlib.sha1).hexdigest()
            if not hmac.compare_digest(given.encode(), want.encode()):
                raise WebhookRejected(403, "X-Signature missing or wrong")
        elif not self.token_ok(request.headers, request.query):
            raise WebhookRejected(401, "set a secret (X-Signature) or an access token")
        try:
            event = request.json()
        except ValueError:
            raise WebhookRejected(400, "the body is not JSON") from None
        if not isinstance(event, dict) or "post_type" not in event:
            raise WebhookRejected(400, "not a OneBot event (no post_type)")
        # the signature covers the body and so its `time`: a signed event is taken only
        # within the window, and once (a captured POST replayed later changes nothing)
        sent = str(event.get("time", ""))
        if given:
            try:
                self.freshness.check(sent, given)
            except StaleCallback as exc:
                raise WebhookRejected(403, f"event time: {exc}") from None
        self.handle(event)
        if given:
            self.freshness.accepted(sent, given)
        return WebhookResponse(204, b"")  # an empty answer: no quick operation

    def token_ok(self, headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
        if not self.token:
            return False
        auth = headers.get("authorization", "")
        given = auth.split(" ", 1)[1] if " " in auth else query.get("access_token", "")
        return hmac.compare_digest(given.encode(), self.token.encode())

    def handle(self, event: Mapping[str, Any]) -> None:
        self.handle_many([event])

    def handle_many(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Store ``events`` in order, the messages among them delivered together: one
        judging at receipt, one Redis transaction (or one batch) for all of them. An event
        that writes something besides its messages (a group's state, a notice, a request)
        has what came before it delivered first, so everything happens in the order
        received."""
        self._store([(event, None) for event in events])

    def _store(self, items: Sequence[tuple[Mapping[str, Any], list[Event] | None]]) -> None:
        """``handle_many`` for events of which some were read and judged at receipt
        already (``(event, its messages)``; ``(event, None)``: not yet). A run of judged
        ones is delivered as judged (not judged again), the others as ever; a change
        between the two delivers what came before, so the order holds."""
        waiting: list[Event] = []
        judged_run = False

        def flush() -> None:
            if waiting:
                if judged_run:
                    self.deliver(list(waiting), decided=True)  # type: ignore[call-arg]
                else:
                    self.deliver(list(waiting))
                waiting.clear()

        counted = 0
        for event, judged in items:
            if (judged is not None) != judged_run:
                flush()
                judged_run = judged is not None
            taken = judged if judged is not None else self._take(event, flush)
            if taken is not None:
                waiting += taken
                counted += 1
        flush()
        if counted:
            self.state.event(self.info.id, counted)

    def _read_plain(self, event: Mapping[str, Any]) -> list[Event] | None:
        """The messages of ``event`` when it is a plain group message, which writes nothing
        but them (judged at receipt, on the reverse WebSocket's loop); None for anything
        else, which ``_take`` reads in the storing thread."""
        if event.get("post_type") != "message" or event.get("message_type") != "group":
            return None
        parsed = parse_event(event, self.info.community, self.info.platform)
        if parsed.group_status or parsed.notices or parsed.requests:
            return None
        return only_messages(parsed.events)

    def _take(self, event: Mapping[str, Any], flush: Callable[[], None]) -> list[Event] | None:
        """One event's messages to deliver with the others of its batch (None: an event
        not counted, such as a heartbeat); what else it writes is written here, after
        ``flush()`` delivered the messages before it."""
        cid = self.info.id
        if event.get("post_type") == "meta_event":
            self.state.event(cid, 0)  # alive
            return None
        parsed = parse_event(event, self.info.community, self.info.platform)
        if parsed.group_status or parsed.notices or parsed.requests:
            flush()
        for group, status, why in parsed.group_status:
            records.set_group_state(self.store, cid, group, status, why)
            if status == "disabled":
                records.add_alert(
                    self.store,
                    community=self.info.community,
                    connector_id=cid,
                    platform=self.info.platform,
                    group=group,
                    kind="connector_disabled",
                    text=why,
                    key=f"qq-kicked-{group}-{event.get('time')}",
                )
        records.add_notices(
            self.store,
            parsed.notices,
            community=self.info.community,
            connector_id=cid,
            platform=self.info.platform,
        )
        for group, user, flag in parsed.requests:
            records.remember_request(self.store, cid, group, user, flag)
        return list(parsed.events)

    # -- in: reverse WebSocket ------------------------------------------------------------
    async def ws_session(
        self, receive: Callable[[], Awaitable[str]], send: Callable[[str], Awaitable[None]]
    ) -> None:
        """Serve one reverse WebSocket until it closes (the caller checked the token).

        A reader takes the frames as they come: answers to our calls at once (an early
        warning waits for its answer on this loop), events into a bounded queue. The plain
        group messages waiting there are judged together on this loop where the hub offers
        that (``deliver.at_receipt``): their early actions claimed before they go on, and
        sent on this loop, never waiting behind the store of the messages before them (a
        batch judged and stored in a thread held the next ad's warning by its whole
        length). Then all that waits is stored together, in order, in a thread (``_store``:
        one thread hop and one Redis transaction for many under load; the judged messages
        marked so, not judged again). A full queue holds the reader back, as the bridge is
        when one event at a time is read. Events read before the socket closed are all
        stored before this returns."""
        loop = asyncio.get_running_loop()
        session = _Session(loop, send)
        with self._lock:
            old, self.session = self.session, session
        if old is not None:
            old.close()
        self.state.set(self.info.id, "connected")
        at_receipt = getattr(self.deliver, "at_receipt", None)
        read_in: asyncio.Queue[dict[str, Any]] = asyncio.Queue(WS_INBOX)
        inbox: asyncio.Queue[_Read] = asyncio.Queue(WS_INBOX)

        async def read() -> None:
            while True:
                message = json.loads(await receive())
                if not isinstance(message, dict):
                    continue
                if self._is_answer(message):
                    session.resolve(message)
                else:
                    await read_in.put(message)

        async def judge() -> None:
            # all that was read meanwhile, judged together on this loop: one judging, one
            # round of claims, for many under load; a store under way never holds it
            while (read := await _next_batch(read_in, reader, WS_BATCH)) is not None:
                for item in await self._judged(read, at_receipt):
                    await inbox.put(item)

        reader = loop.create_task(read())
        judging = loop.create_task(judge())
        try:
            while (batch := await _next_batch(inbox, judging, WS_BATCH)) is not None:
                await asyncio.to_thread(self._store, batch)
        finally:
            reader.cancel()
            judging.cancel()
            session.close()
            with self._lock:
                if self.session is session:
                    self.session = None
                    self.state.set(self.info.id, "idle", "the WebSocket closed")

    async def _judged(
        self,
        messages: list[dict[str, Any]],
        at_receipt: Callable[[Sequence[Event]], Awaitable[None]] | None,
    ) -> list[_Read]:
        """``messages`` with, for each plain one, its messages judged here at receipt:
        their early actions claimed before this returns, so before they are queued (the
        batch that stores them finds the claims and does not act again), and sent without
        waiting for the store of what came before. The others (None) the storing thread
        reads, and judges, as ever; all of them when the hub judges nothing here."""
        if at_receipt is None:
            return [(m, None) for m in messages]
        read: list[_Read] = []
        for m in messages:
            try:
                read.append((m, self._read_plain(m)))
            except Exception:  # malformed: the storing thread meets it as it always did
                read.append((m, None))
        events = [e for _, got in read if got for e in got]
        if events:
            try:
                await at_receipt(events)
            except Exception:  # judged in the storing thread instead (claims hold: once)
                log.exception("onebot %s: judging at receipt failed", self.info.name)
                return [(m, None) for m in messages]
        return read

    # -- out --------------------------------------------------------------------------
    def session_call(self, action: str, params: dict[str, Any]) -> Any:
        """The raw answer over the reverse WebSocket held here; None when there is none
        (the relay server of the web process calls this for the live worker)."""
        session = self.session
        if session is None or session.closed:
            return None
        future = asyncio.run_coroutine_threadsafe(session.call(action, params), session.loop)
        try:
            return future.result(CALL_TIMEOUT + 1)
        except ConnectorError:
            raise
        except Exception as exc:  # timed out, or the loop is gone: try again later
            raise ConnectorError(f"{action}: {type(exc).__name__}: {exc}") from exc

    def call(self, action: str, params: dict[str, Any]) -> Any:
        forward = self.forward
        if forward is not None and not forward.closed and self.session is None:
            return self._decode(action, 200, forward.call(action, params))
        message = self.session_call(action, params)
        if message is not None:
            return self._decode(action, 200, message)
        if self.relay is not None:
            try:
                return self._decode(action, 200, self.relay.call(action, params))
            except ConnectorError:
                if self.http is None:
                    raise
        if self.http is not None:
            return self.http.call(action, params)
        raise ConnectorError(f"{action}: no live WebSocket and no api_url to call")

    def perform(self, action: Action) -> dict[str, Any]:
        group = int(action.group)
        kind = action.kind
        match kind:
            case "delete_message":
                self.call("delete_msg", {"message_id": int(action.message_id or 0)})
                return {}
            case "send_message" | "warn":
                text = escape(action.text or action.reason)
                if action.detail.get("private"):  # a broadcast to members one by one
                    data = self.call(
                        "send_private_msg", {"user_id": int(action.group), "message": text}
                    )
                    return {"message_id": (data or {}).get("message_id")}
                if kind == "warn" and action.member:
                    text = f"[CQ:at,qq={int(action.member)}] {text}"
                data = self.call("send_group_msg", {"group_id": group, "message": text})
                return {"message_id": (data or {}).get("message_id")}
            case "mute" | "unmute":
                user = _member(action)
                seconds = int(action.duration_seconds or 600) if kind == "mute" else 0
                self.call(
                    "set_group_ban", {"group_id": group, "user_id": user, "duration": seconds}
                )
                if kind == "mute" and action.text:
                    self.call(
                        "send_group_msg",
                        {"group_id": group, "message": f"[CQ:at,qq={user}] {escape(action.text)}"},
                    )
                return {"duration": seconds}
            case "remove" | "ban":
                user = _member(action)
                self.call(
                    "set_group_kick",
                    {"group_id": group, "user_id": user, "reject_add_request": kind == "ban"},
                )
                if action.text:  # the group learns why
                    self.call("send_group_msg", {"group_id": group, "message": escape(action.text)})
                return {}
            case "approve_join" | "decline_join":
                return self._answer_request(action, group, _member(action))
            case "unban":
                raise Unsupported("QQ has no ban list to lift: the member can ask to join again")
            case "create_invite_link" | "alert":
                raise Unsupported(f"QQ (OneBot v11) has no API for {kind}")
            case _:
                assert_never(kind)

    def _answer_request(self, action: Action, group: int, user: int) -> dict[str, Any]:
        approve = action.kind == "approve_join"
        flag = records.take_request(
            self.store,
            self.info.id,
            action.group,
            action.member or "",
            "approved" if approve else "declined",
        )
        if flag is not None:
            params: dict[str, Any] = {"flag": flag, "sub_type": "add", "approve": approve}
            if not approve:
                params["reason"] = action.text or action.reason
            self.call("set_group_add_request", params)
            return {"request": flag}
        if approve:
            return {"request": None}
        self.call(
            "set_group_kick", {"group_id": group, "user_id": user, "reject_add_request": False}
        )
        return {"request": None, "removed": True}

    def sync(self, group: str) -> int:
        """Members of ``group`` from ``get_group_member_list`` as joins at their join time;
        a second sync adds nothing (the keys are the same)."""
        members = self.call("get_group_member_list", {"group_id": int(group)}) or []
        from datetime import UTC, datetime

        events: list[Event] = [
            MemberJoined(
                platform=self.info.platform,
                community=self.info.community,
                group=group,
                member=str(m["user_id"]),
                occurred_at=datetime.fromtimestamp(int(m.get("join_time") or 0), UTC),
                member_name=str(m.get("card") or m.get("nickname") or ""),
                via="unknown",
                raw=dict(m),
            )
            for m in members
            if str(m.get("user_id")) != str(m.get("self_id", ""))
        ]
        self.deliver(events)
        return len(events)

    # -- in and out: forward WebSocket ---------------------------------------------------
    def has_loop(self) -> bool:
        return bool(self.ws_url)

    def run_once(self, stop: threading.Event) -> None:
        """Hold the forward WebSocket until ``stop`` or a drop (the runner reconnects with
        backoff); a refused token disables the connector with the reason."""
        from websockets.exceptions import ConnectionClosed, InvalidStatus
        from websockets.sync.client import connect

        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            ws = connect(self.ws_url, additional_headers=headers, open_timeout=10, close_timeout=2)
        except InvalidStatus as exc:
            code = exc.response.status_code
            if code in (401, 403):
                raise PermanentError(
                    f"the OneBot WebSocket refused the access token ({code})", scope="connector"
                ) from exc
            raise ConnectorError(f"the OneBot WebSocket answered {code}") from exc
        forward = _ForwardSession(ws)
        self.forward = forward
        self.state.set(self.info.id, "connected")
        try:
            while not stop.is_set():
                try:
                    raw = ws.recv(timeout=0.5)
                except TimeoutError:
                    continue
                message = json.loads(raw)
                if not isinstance(message, dict):
                    continue
                if self._is_answer(message):
                    forward.resolve(message)
                else:
                    self.handle(message)  # stored before the next one is read: in order
        except ConnectionClosed as exc:
            raise ConnectorError(f"the OneBot WebSocket closed: {exc}") from exc
        finally:
            forward.close()
            if self.forward is forward:
                self.forward = None
            ws.close()

    def close(self) -> None:
        if self.http is not None:
            self.http.close()


async def _next_batch(
    waiting: asyncio.Queue[_T], filler: asyncio.Task[None], limit: int
) -> list[_T] | None:
    """What is waiting (at most ``limit``), after waiting for one when nothing is; None
    once ``filler``, the task that fills the queue, ended and left nothing (raising what it
    raised: the socket closed, or broke)."""
    if waiting.empty():
        got = asyncio.get_running_loop().create_task(waiting.get())
        try:
            await asyncio.wait({got, filler}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not got.done():
                got.cancel()
        if not got.done():
            filler.result()
            return None
        batch = [got.result()]
    else:
        batch = [waiting.get_nowait()]
    while len(batch) < limit and not waiting.empty():
        batch.append(waiting.get_nowait())
    return batch


def only_messages(events: Sequence[Event]) -> list[Event] | None:
    """``events`` when all are messages (nothing else to write or to remember), else None."""
    return list(events) if all(isinstance(e, MessagePosted) for e in events) else None


def _member(action: Action) -> int:
    if not action.member:
        raise Unsupported(f"{action.kind} needs a member")
    return int(action.member)
