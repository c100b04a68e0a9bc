"""The Discord connector: a gateway bot in (discord.py's client: heartbeats, identify,
resume after a dropped connection), REST calls out (:mod:`qunzhu.adapters.discord.api`).

In: every gateway dispatch is read as Discord sent it (discord.py's raw-receive hook) and
queued in order; one worker thread turns the queue into events and hands them to the
pipeline, retrying until they are stored, so a slow or briefly unavailable database never
holds the gateway's heartbeat and nothing received is dropped. A dropped connection is
resumed by discord.py, and Discord replays what was sent meanwhile; the events' keys make a
replayed one a no-op. A join is credited to its inviter by the invite-use difference: the
guild's invites are read at connect and at each join, and the one whose use count grew is
the one used (Discord says nothing else about it).

Out: delete, send, warn (the member mentioned), mute as a timeout, remove as a kick, ban,
unban, and invite links with a use limit (per-member referral links, as on Telegram). Join
requests have no bot API on Discord: those decisions become alerts.

Config: ``api_base`` and ``gateway`` (default Discord's; the tests' fake), ``home_channel``
(where joins and leaves are counted when the guild has no system channel). Credentials:
``token``.
The bot needs the privileged intents Server Members and Message Content (Developer Portal →
Bot) and the permissions Manage Messages, Moderate Members, Kick, Ban, Manage Server (to
read invites) and Create Invite.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, assert_never

import discord
from discord.http import HTTPClient, handle_message_parameters

from qunzhu.adapters.base import (
    ConnectorError,
    ConnectorInfo,
    Deliver,
    PermanentError,
    Refused,
    Unsupported,
    member_of,
    referral_of,
)
from qunzhu.adapters.discord.api import RestApi, translate, use_base
from qunzhu.adapters.discord.parse import Where, parse_dispatch
from qunzhu.adapters.state import LoopCounter, StateBook
from qunzhu.adapters.webhook import WebhookRoute
from qunzhu.events import Action, Event
from qunzhu.store import connector_records as records
from qunzhu.store.session import Store

log = logging.getLogger(__name__)
INVITE_URL = "https://discord.gg/{code}"
KEPT = frozenset(
    {
        "MESSAGE_CREATE",
        "MESSAGE_UPDATE",
        "MESSAGE_DELETE",
        "MESSAGE_REACTION_ADD",
        "GUILD_MEMBER_ADD",
        "GUILD_MEMBER_REMOVE",
        "GUILD_BAN_ADD",
    }
)
RETRY_STORE = 1.0  # seconds between attempts to store a batch the pipeline refused
MAX_BATCH = 500  # dispatches stored in one go when the gateway is busy
STOP_WAIT = 30.0  # seconds a stop waits for what was received to be queued
MAX_TIMEOUT_DAYS = 28  # Discord caps a timeout at 28 days


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.members = True  # privileged: joins and leaves
    wanted.guild_messages = True
    wanted.message_content = True  # privileged: the text moderation reads
    wanted.guild_reactions = True
    wanted.moderation = True  # bans
    wanted.invites = True  # invites made by hand, for the use difference
    return wanted


class DiscordConnector:
    # split serve: the gateway is held by the web process, which deletes ads at receipt;
    # the workers only call REST (one gateway session per bot, however many workers)
    loop_in_web = True

    def __init__(
        self, info: ConnectorInfo, store: Store, state: StateBook, deliver: Deliver
    ) -> None:
        self.info = info
        self.store = store
        self.state = state
        self.deliver = deliver
        use_base(info.config.get("api_base"), info.config.get("gateway"))
        self.token = info.credentials["token"]
        self.api = RestApi(self.token)
        self.where = Where()
        self.home = str(info.config["home_channel"]) if info.config.get("home_channel") else None
        self.session = ""
        # guild → invite code → (uses, who made it)
        self.invites: dict[str, dict[str, tuple[int, str | None]]] = {}
        self._stop = threading.Event()

    # -- in ---------------------------------------------------------------------------
    def routes(self) -> list[WebhookRoute]:
        return []  # the gateway is a connection Discord answers, not a webhook

    def has_loop(self) -> bool:
        return True

    def run_once(self, stop: threading.Event) -> None:
        """Hold the gateway until ``stop``; raises when it ends otherwise (the runner
        reconnects; a refused token disables the connector)."""
        self._stop = stop
        adeliver = getattr(self.deliver, "adeliver", None)
        loop = asyncio.new_event_loop()
        if adeliver is not None:  # queued from the gateway's own loop (Redis)
            inbox: Inbox = _LoopInbox(loop)
            worker = None
        else:
            inbox = _ThreadInbox()
            worker = threading.Thread(
                target=self._consume, args=(inbox,), name="qunzhu-discord-in", daemon=True
            )
            worker.start()
        try:
            loop.run_until_complete(self._gateway(stop, inbox, adeliver))
        finally:
            inbox.put(None)
            if worker is not None:
                worker.join(30)
            _close(loop)

    async def _gateway(self, stop: threading.Event, inbox: Inbox, adeliver: Any) -> None:
        client = discord.Client(
            intents=intents(),
            chunk_guilds_at_startup=False,
            max_messages=None,
            member_cache_flags=discord.MemberCacheFlags.none(),
        )

        http = client.http

        async def perform(action: Action) -> dict[str, Any]:
            return await self._delete_now(http, action)

        early = getattr(self.deliver, "early", None)
        self._read_as_parsed(client, inbox, early and partial(early, perform=perform))
        task = asyncio.create_task(client.start(self.token, reconnect=True))
        consumer = None
        if adeliver is not None:
            assert isinstance(inbox, _LoopInbox)
            consumer = asyncio.create_task(self._aconsume(inbox, adeliver))
        try:
            while not stop.is_set() and not task.done():
                await asyncio.sleep(0.05)
        finally:
            if consumer is not None:  # what was received is queued before the loop closes
                inbox.put(None)
                await asyncio.wait({consumer}, timeout=STOP_WAIT)
                consumer.cancel()
        if not task.done():
            await client.close()
            await asyncio.gather(task, return_exceptions=True)
            return
        failure = task.exception()
        await client.close()
        if isinstance(failure, discord.LoginFailure | discord.PrivilegedIntentsRequired):
            raise PermanentError(f"Discord refused the bot: {failure}", scope="connector")
        if failure is not None:
            raise ConnectorError(f"gateway: {type(failure).__name__}: {failure}")
        raise ConnectorError("gateway: the connection ended")

    def _read_as_parsed(self, client: discord.Client, inbox: Inbox, early: Any) -> None:
        """Every dispatch the connector uses reaches ``_dispatched`` as discord.py has just
        read it (its parser of that dispatch, called in the order received, on the
        gateway's loop, before anything else is done with it): no second reading of the
        frame, no task per frame. discord.py builds no objects of the dispatches kept
        raw (a Message, its Member: more CPU per message than all of qunzhu's reading and
        judging of it); READY, RESUMED and GUILD_CREATE still go on to its own parsers."""
        parsers = client._connection.parsers

        def hooked(name: str, then: Any) -> Any:
            def parse(data: Any) -> None:
                ws = client.ws
                try:
                    self._dispatched(name, data or {}, ws.sequence if ws else None, inbox, early)
                except Exception:  # never into discord.py's reading of the socket
                    log.exception("discord %s: reading a %s dispatch failed", self.info.name, name)
                if then is not None:
                    then(data)

            return parse

        for name in KEPT:
            parsers[name] = hooked(name, None)
        for name in ("READY", "RESUMED", "GUILD_CREATE", "INVITE_CREATE"):
            parsers[name] = hooked(name, parsers.get(name))

    def _receive(self, raw: str | bytes, inbox: Inbox, early: Any = None) -> None:
        """``_dispatched`` from a raw gateway frame."""
        try:
            message = json.loads(raw)
        except ValueError:
            return
        if message.get("op") != 0:
            return
        self._dispatched(message.get("t"), message.get("d") or {}, message.get("s"), inbox, early)

    def _dispatched(
        self, name: Any, data: dict[str, Any], seq: Any, inbox: Inbox, early: Any = None
    ) -> None:
        """On the gateway's loop: note what the next dispatches need (sessions, channels,
        homes) and queue the rest in the order received. A new message is read here and
        now, and ``early(events)`` (the hub's early deletes, sent on this loop) judges it
        before it is queued: an ad's delete does not wait for anything queued before it."""
        if name == "READY":
            self.session = str(data.get("session_id") or "")
            self.state.set(self.info.id, "connected")
        elif name == "RESUMED":
            self.state.set(self.info.id, "connected")
        elif name == "GUILD_CREATE":
            self.where.learn_guild(data, self.home)
            inbox.put((name, data, ""))
        elif name == "INVITE_CREATE" and data.get("guild_id"):
            inviter = (data.get("inviter") or {}).get("id")
            made = self.invites.setdefault(str(data["guild_id"]), {})
            made[str(data["code"])] = (
                int(data.get("uses") or 0),
                str(inviter) if inviter else None,
            )
        elif name == "MESSAGE_CREATE" and early is not None:
            events = self._parse(name, data, "")
            try:
                if events:
                    early(events)
            except Exception:  # its batch deletes it: the update is queued all the same
                log.exception("discord %s: early deletes at receipt failed", self.info.name)
            inbox.put((name, data, "", events))
        elif name in KEPT:
            inbox.put((name, data, f"{self.session}:{seq}"))

    def _consume(self, inbox: _ThreadInbox) -> None:
        """Store what was received, in order, a batch at a time: whatever queued up while
        the last batch was being stored goes in the next one (one transaction for many
        messages when the gateway is busy, one for each when it is quiet)."""
        ended = False
        while not ended:
            item = inbox.queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < MAX_BATCH:
                try:
                    more = inbox.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    ended = True
                    break
                batch.append(more)
            self._take(batch)

    def _take(self, batch: list[Dispatch]) -> None:
        events: list[Event] = []
        for name, data, delivery, *parsed in batch:
            if name == "GUILD_CREATE":
                self._snapshot(str(data["id"]))
                continue
            events.extend(parsed[0] if parsed else self._parse(name, data, delivery))
        if events:
            self._store(events)
        self.state.event(self.info.id, len(batch))

    def _parse(self, name: str, data: dict[str, Any], delivery: str) -> list[Event]:
        try:
            return parse_dispatch(
                name, data, self.info.community, self.where, self._inviter, delivery
            )
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("discord %s: unreadable %s dispatch (%s)", self.info.name, name, exc)
            return []

    async def _aconsume(self, inbox: _LoopInbox, adeliver: Any) -> None:
        """``_consume`` on the gateway's loop, with a queue that takes updates from an
        event loop (Redis): each batch is queued by one transaction from here (its ads
        were judged at receipt: see ``_receive``). A join (its inviter is read from
        Discord's invites) and a guild's invites are read in a thread, awaited: the order
        of what was received is kept."""
        loop = asyncio.get_running_loop()
        counter = LoopCounter(self.state, self.info.id, loop)
        while True:
            item = await inbox.queue.get()
            if item is None:
                return
            batch = [item]
            ended = False
            while len(batch) < MAX_BATCH and not inbox.queue.empty():
                more = inbox.queue.get_nowait()
                if more is None:
                    ended = True
                    break
                batch.append(more)
            events: list[Event] = []
            decided = True
            for name, data, delivery, *parsed in batch:
                if parsed:  # read and judged at receipt
                    events += parsed[0]
                    continue
                decided = decided and name != "MESSAGE_CREATE"
                if name == "GUILD_CREATE":
                    await loop.run_in_executor(None, self._snapshot, str(data["id"]))
                elif name in NEEDS_REST:
                    events += await loop.run_in_executor(None, self._parse, name, data, delivery)
                else:
                    events += self._parse(name, data, delivery)
            if events:
                await self._astore(events, adeliver, decided)
            counter.add(len(batch), last=ended)
            if ended:
                return

    async def _astore(self, events: list[Event], adeliver: Any, decided: bool) -> None:
        """``_store`` from the loop: until queued (Redis away: wait, keep the order)."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                await adeliver(events, decided=decided)
                return
            except Exception as exc:
                message = f"storing: {type(exc).__name__}: {exc}"
                await loop.run_in_executor(None, self.state.error, self.info.id, message)
                if self._stop.is_set():
                    log.error(
                        "discord %s: stopped with %d events unstored", self.info.name, len(events)
                    )
                    return
                await asyncio.sleep(RETRY_STORE)

    async def _delete_now(self, http: HTTPClient, action: Action) -> dict[str, Any]:
        """An early delete through the gateway client's REST session, on its loop."""
        if action.kind != "delete_message" or not action.message_id:
            raise Unsupported(f"{action.kind} is sent by the executor's workers")
        try:
            await http.delete_message(action.group, action.message_id, reason=action.reason)
        except Exception as exc:
            raise translate(exc, "delete") from exc
        return {"deleted": True}

    def _store(self, events: list[Event]) -> None:
        """Hand ``events`` to the pipeline until they are stored: Discord will not send
        them again once the gateway has them."""
        while True:
            try:
                self.deliver(events)
                return
            except Exception as exc:  # the database is away: wait, keep the order
                self.state.error(self.info.id, f"storing: {type(exc).__name__}: {exc}")
                if self._stop.wait(RETRY_STORE):
                    log.error(
                        "discord %s: stopped with %d events unstored", self.info.name, len(events)
                    )
                    return

    # -- invites ----------------------------------------------------------------------
    def _read_invites(self, guild: str) -> dict[str, tuple[int, str | None]] | None:
        try:
            found = self.api.call("invites", lambda http: http.invites_from(guild))
        except ConnectorError as exc:  # no Manage Server permission: joins stay unattributed
            log.info("discord %s: cannot read invites of %s (%s)", self.info.name, guild, exc)
            return None
        out: dict[str, tuple[int, str | None]] = {}
        for invite in found or ():
            inviter = (invite.get("inviter") or {}).get("id")
            out[str(invite["code"])] = (
                int(invite.get("uses") or 0),
                str(inviter) if inviter else None,
            )
        return out

    def _snapshot(self, guild: str) -> None:
        now = self._read_invites(guild)
        if now is not None:
            self.invites[guild] = now

    def _inviter(self, guild: str) -> tuple[str | None, str | None]:
        before = self.invites.get(guild)
        now = self._read_invites(guild)
        if now is None:
            return None, None
        self.invites[guild] = now
        if before is None:
            return None, None
        grew = [c for c, (uses, _) in now.items() if uses > before.get(c, (0, None))[0]]
        # a one-use invite is deleted by the join that used it: it is the one that vanished
        gone = [c for c, (uses, _) in before.items() if c not in now and uses == 0]
        used = grew if grew else gone
        if len(used) != 1:
            return None, None  # two joins at once, or none seen: not guessed
        code = used[0]
        referrer, _ = records.link_owner(self.store, self.info.id, INVITE_URL.format(code=code))
        maker = (now.get(code) or before.get(code) or (0, None))[1]
        return referrer or maker, code

    # -- out --------------------------------------------------------------------------
    def perform(self, action: Action) -> dict[str, Any]:
        channel = action.group
        kind = action.kind
        match kind:
            case "delete_message":
                message = str(action.message_id or "")
                self.api.call(
                    "delete",
                    lambda http: http.delete_message(channel, message, reason=action.reason),
                )
                return {"deleted": True}
            case "send_message" | "warn":
                return self._send(action, channel)
            case "mute" | "unmute" | "remove" | "ban" | "unban":
                return self._moderate(action, self._guild(channel), member_of(action))
            case "create_invite_link":
                return self._invite_link(action, channel)
            case "approve_join" | "decline_join":
                raise Unsupported("Discord has no bot API for join requests")
            case "alert":
                raise Unsupported("an alert is for an operator, not a Discord call")
            case _:
                assert_never(kind)

    def _guild(self, channel: str) -> str:
        """The server of ``channel``: known from the gateway's GUILD_CREATE where this
        process holds the gateway, else asked of Discord once (a split serve's worker)."""
        guild = self.where.guild_of.get(channel)
        if guild is None:
            found = self.api.call("channel", lambda http: http.get_channel(channel))
            guild = str((found or {}).get("guild_id") or "")
            if not guild:
                raise Refused(f"channel {channel} is not in a server")
            self.where.guild_of[channel] = guild
        return guild

    def _send(self, action: Action, channel: str) -> dict[str, Any]:
        text = action.text or action.reason
        if action.kind == "warn" and action.member:
            text = f"<@{action.member}> {text}"
        return self._say(channel, text)

    def _say(self, channel: str, text: str) -> dict[str, Any]:
        params = handle_message_parameters(
            content=text[:2000],
            allowed_mentions=discord.AllowedMentions(users=True, everyone=False, roles=False),
        )
        sent = self.api.call("send", lambda http: http.send_message(channel, params=params))
        return {"message_id": str((sent or {}).get("id") or "") or None}

    def _moderate(self, action: Action, guild: str, user: str) -> dict[str, Any]:
        reason = action.reason or None
        result: dict[str, Any] = {}

        def run(what: str, call: Any) -> None:
            self.api.call(what, call)

        match action.kind:
            case "mute":
                seconds = min(int(action.duration_seconds or 600), MAX_TIMEOUT_DAYS * 86400)
                until = datetime.now(UTC) + timedelta(seconds=seconds)
                run(
                    "timeout",
                    lambda http: http.edit_member(
                        guild, user, reason=reason, communication_disabled_until=until.isoformat()
                    ),
                )
                result = {"until": int(until.timestamp())}
            case "unmute":
                run(
                    "timeout",
                    lambda http: http.edit_member(
                        guild, user, reason=reason, communication_disabled_until=None
                    ),
                )
                return {}
            case "remove":
                run("kick", lambda http: http.kick(user, guild, reason=reason))
            case "ban":
                run("ban", lambda http: http.ban(user, guild, 0, reason=reason))
            case "unban":
                run("unban", lambda http: http.unban(user, guild, reason=reason))
                return {}
            case _:
                raise Unsupported(f"{action.kind} is not a moderation call")
        if action.text:  # the channel learns why
            self._say(action.group, action.text)
        return result

    def _invite_link(self, action: Action, channel: str) -> dict[str, Any]:
        d = action.detail
        referrer, code, name = referral_of(action)
        uses = int(d.get("member_limit") or 0)
        age = int(d.get("expire_seconds") or 0)

        def create(http: HTTPClient) -> Any:
            return http.create_invite(
                channel, reason=name[:512], max_age=age, max_uses=uses, unique=True
            )

        made = self.api.call("invite", create)
        invite_code = str(made["code"])
        url = INVITE_URL.format(code=invite_code)
        guild = self.where.guild_of.get(channel)
        if guild is not None:  # counted from zero, so its first use is seen
            self.invites.setdefault(guild, {})[invite_code] = (0, referrer)
        records.remember_link(
            self.store, self.info.id, channel, url, name, referrer, code, uses or None
        )
        return {"invite_link": url, "name": name}

    def close(self) -> None:
        self.api.close()


# name, data, delivery (session:sequence), and the events when read at receipt already
Dispatch = tuple[str, dict[str, Any], str] | tuple[str, dict[str, Any], str, list[Event]]
NEEDS_REST = frozenset({"GUILD_MEMBER_ADD"})  # parsing reads the guild's invites


class _ThreadInbox:
    """Dispatches from the gateway's loop to the storing thread."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Dispatch | None] = queue.Queue()

    def put(self, item: Dispatch | None) -> None:
        self.queue.put(item)


class _LoopInbox:
    """Dispatches kept for the consumer task on the gateway's own loop; ``put`` from
    another thread (the end of ``run_once``) goes through the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Dispatch | None] = asyncio.Queue()

    def put(self, item: Dispatch | None) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self.queue.put_nowait(item)
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)


Inbox = _ThreadInbox | _LoopInbox


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Close the gateway's loop with discord.py's leftover tasks (a ready wait, a
    heartbeat) cancelled and finished first, so nothing is left pending on a closed loop."""

    async def cancel_the_rest() -> None:
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    loop.run_until_complete(cancel_the_rest())
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def _uses(invite: dict[str, Any]) -> tuple[int, str | None]:
    inviter = (invite.get("inviter") or {}).get("id")
    return int(invite.get("uses") or 0), str(inviter) if inviter else None
