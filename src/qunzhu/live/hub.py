"""All live connectors of a server: built from the ``connectors`` table, their webhook
routes for the app, their runners, the sink into the pipeline, the action executor and the
drainer of the outbox (actions decided elsewhere: reviews, appeals, invite links).

``qunzhu serve`` does::

    hub = ConnectorHub.load(store, role=...)
    app = create_app(settings, store, webhooks=hub.routes())
    app.state.connector_hub = hub     # the OneBot reverse WebSocket finds it here
    hub.start(); uvicorn.run(app, ...); hub.stop()

A hub plays one of three roles:

- ``all``: one process answers webhooks, stores events and carries out actions;
- ``web``: answers webhooks into the durable queue (Redis) and holds reverse WebSockets,
  whose calls it makes for the worker (:mod:`qunzhu.live.relay`), and the gateways of
  connectors with ``loop_in_web`` (Discord), queueing what they receive; the early deletes
  of all of these at receipt; nothing else;
- ``worker`` (``qunzhu worker``, started by serve or by hand, any number): takes its shards
  of the queue, stores, carries out actions, drains the outbox and runs the polling and
  forward-WebSocket loops.

Split in two, the web server and the pipeline each have a core and their own interpreter:
in one process the pipeline's many short database calls each waited for the interpreter
lock behind the web server's requests, and at a few hundred updates a second the queue
grew faster than it was stored.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from typing import Any, Literal

from sqlalchemy import select

from qunzhu.adapters.base import Connector, ConnectorError, ConnectorInfo
from qunzhu.adapters.registry import connector_class
from qunzhu.adapters.state import StateBook
from qunzhu.adapters.webhook import WebhookRoute
from qunzhu.events import Action, Event
from qunzhu.live.drainer import Drainer
from qunzhu.live.early_ledger import EarlyLedger, MemoryLedger, RedisLedger
from qunzhu.live.executor import AsyncPerform, Executor, keep_task
from qunzhu.live.queue import LiveQueue, RedisQueue, queue_from_settings
from qunzhu.live.relay import RelayClient, RelayServer
from qunzhu.live.runner import Runner
from qunzhu.live.sink import Sink
from qunzhu.pipeline import Pipeline
from qunzhu.store.connectors import Connector as ConnectorRow
from qunzhu.store.credentials import CredentialsError, unseal
from qunzhu.store.models import Community
from qunzhu.store.session import Store

log = logging.getLogger(__name__)

Role = Literal["all", "web", "worker"]


def live_pipeline(store: Store, claimed_by: str | None = None) -> Pipeline:
    """The pipeline live events go through (moderation, value, growth): see qunzhu.wiring.
    With ``claimed_by``, its decisions are written to the outbox already claimed by this
    process, whose executor gets them from the sink at once (the drainer leaves them)."""
    from qunzhu.wiring import build_pipeline

    return build_pipeline(store, "live", claimed_by=claimed_by)


class ConnectorHub:
    def __init__(
        self,
        store: Store,
        *,
        pipeline: Pipeline | None = None,
        workers: int = 4,
        backoff: float = 0.5,
        reconnect_base: float = 1.0,
        outbox_interval: float = 1.0,
        durable: LiveQueue | Literal["settings"] | None = "settings",
        role: Role = "all",
    ) -> None:
        self.store = store
        self.role = role
        self.state = StateBook(store)
        queue = queue_from_settings(store.settings) if durable == "settings" else durable
        if role != "all" and not isinstance(queue, RedisQueue):
            raise ValueError(
                f"a {role} hub needs the Redis queue (QUNZHU_REDIS_URL) between web and worker"
            )
        # split in two, the web process sends early deletes and the worker the batches'
        # actions: which deletes went early is known to both through Redis
        ledger = (
            RedisLedger(queue.client, queue.stream, queue.url)
            if isinstance(queue, RedisQueue)
            else MemoryLedger()
        )
        self.executor = Executor(
            store, self.state, self.resolve, workers=workers, backoff=backoff, early_ledger=ledger
        )
        # the web role never runs the pipeline: no need to build it
        pipe = pipeline or (
            Pipeline(store)
            if role == "web"
            else live_pipeline(
                store,
                queue.owner
                if isinstance(queue, RedisQueue)
                else f"{socket.gethostname()}:{os.getpid()}:live",
            )
        )
        self.sink = Sink(
            pipe,
            self.executor.submit,
            durable=queue,
            consume=role != "web",
            # at receipt in the web process; in one process, by a watcher of the queue
            early=None if role == "worker" else _early_deletes(store, pipe, role, ledger),
            on_early=self.executor.submit_early,
            early_claims=ledger.key_of if isinstance(ledger, RedisLedger) else None,
            # claimed with their update: sent on the receiving loop where the connector
            # offers it (Executor.submit_early), else by a worker
            on_claimed=self._submit_claimed,
            # the ads were deleted at receipt already (by the web process, or in one process
            # by the queue's watcher): a consumer's batches are throughput work, and bigger
            # ones cost less CPU per update; only a webhook waiting for its commit (no
            # queue) wants small ones
            max_batch=256 if role == "worker" or isinstance(queue, RedisQueue) else 64,
            linger=0.05 if role == "worker" else 0.005,
        )
        self.relay: RelayServer | None = None
        self.outbox = Drainer(
            store,
            self.executor.submit,
            interval=outbox_interval,
            alive=queue.live_owners if isinstance(queue, RedisQueue) and role != "web" else None,
            grace=timedelta(milliseconds=3 * queue.lease_ms)
            if isinstance(queue, RedisQueue)
            else timedelta(seconds=30),
        )
        self.connectors: dict[int, Connector] = {}
        self.runners: dict[int, Runner] = {}
        self.reconnect_base = reconnect_base
        self._groups: dict[tuple[str, str, str], int] = {}

    def _submit_claimed(self, actions: list[Action]) -> None:
        self.executor.submit_early(actions, claimed=True)

    @classmethod
    def load(cls, store: Store, **kwargs: Any) -> ConnectorHub:
        """A hub with every enabled connector; one that cannot be built (credentials sealed
        under another key, a malformed key) is left out with the reason in its state."""
        hub = cls(store, **kwargs)
        for info in load_infos(store, on_error=hub.state.error):
            try:
                hub.add(info)
            except Exception as exc:  # one broken connector must not stop the others
                log.error("connector %s not started: %s", info.name, exc)
                hub.state.error(info.id, f"cannot start: {exc}", status="error")
        return hub

    def add(self, info: ConnectorInfo) -> Connector:
        made: Connector = connector_class(info.platform, info.config.get("protocol"))(
            info, self.store, self.state, self._deliver_for(info.id)
        )
        if self.role == "worker" and hasattr(made, "relay"):
            made.relay = RelayClient(self._redis(), info.id, namespace=self._stream())
        self.connectors[info.id] = made
        return made

    def _redis(self) -> Any:
        assert isinstance(self.sink.durable, RedisQueue)
        return self.sink.durable.client

    def _stream(self) -> str:
        assert isinstance(self.sink.durable, RedisQueue)
        return self.sink.durable.stream

    def _deliver_for(self, connector_id: int) -> Any:
        def deliver(events: Sequence[Event], *, decided: bool = False) -> None:
            self._note_groups(events, connector_id)
            self.sink.deliver(events, decided=decided)

        async def adeliver(events: Sequence[Event], *, decided: bool = False) -> None:
            self._note_groups(events, connector_id)
            await self.sink.adeliver(events, decided=decided)

        # with Redis a webhook may deliver from the event loop (a spool's fsync or a commit
        # must not hold it: those go through deliver, on a worker thread)
        if self.sink.queues_async:
            deliver.adeliver = adeliver  # type: ignore[attr-defined]
        if self.sink.early is not None:
            deliver.early = self._early_at_receipt(connector_id)  # type: ignore[attr-defined]
            deliver.at_receipt = self._claimed_at_receipt(connector_id)  # type: ignore[attr-defined]
        # a connector with a loop of its own that learns its groups at connect awaits
        # this there: their states read, the loop's own connections opened
        deliver.connected = partial(self.executor.awarm, connector_id)  # type: ignore[attr-defined]
        return deliver

    def _note_groups(self, events: Sequence[Event], connector_id: int) -> None:
        """The connector each group's events came through (actions go back through it)."""
        for e in events:
            self._groups.setdefault((e.platform, e.community, e.group), connector_id)

    def _early_at_receipt(self, connector_id: int) -> Any:
        """For a connector with an event loop of its own (a gateway): ``early(events,
        perform)``, called on that loop as the events arrive, judges them at once and sends
        their early deletes on that loop with ``perform`` (Executor.perform_early: claimed
        first, on the loop's own Redis connection); returns the task doing so, or None. The
        events are then delivered as usual (``adeliver(..., decided=True)`` or
        ``deliver``, whose own judging finds the claims taken)."""

        def early(events: Sequence[Event], perform: AsyncPerform) -> asyncio.Task[None] | None:
            actions = self.sink.early_for(events)
            if not actions:
                return None
            self._note_groups(events, connector_id)
            return keep_task(
                asyncio.get_running_loop().create_task(
                    self.executor.perform_early(actions, perform, claim=True)
                )
            )

        return early

    def _claimed_at_receipt(self, connector_id: int) -> Any:
        """For a connector that reads on an event loop and stores in a thread (the OneBot
        reverse WebSocket): ``await at_receipt(events)`` judges the events on that loop as
        they arrive and claims their early actions there, before returning: the caller
        then queues them (``deliver(..., decided=True)``: not judged again) after their
        claims are set, so the batch that stores them finds the claims and does not act a
        second time, whatever the store's delay. The claimed ones are handed on at once
        (``Executor.submit_early``: sent on that loop where the connector offers it),
        without waiting for the store of the events before them. A claim Redis does not
        confirm is left to the batch, as an early delete's always was."""

        async def at_receipt(events: Sequence[Event]) -> None:
            actions = self.sink.early_for(events)
            if not actions:
                return
            self._note_groups(events, connector_id)
            won = await self.executor.aclaim(actions)
            if won:
                self.executor.submit_early(won, claimed=True)
                await asyncio.sleep(0)  # their sends start before the next batch is judged

        return at_receipt

    def routes(self) -> list[WebhookRoute]:
        return [r for c in self.connectors.values() for r in c.routes()]

    def by_name(self, name: str) -> Connector | None:
        return next((c for c in self.connectors.values() if c.info.name == name), None)

    def resolve(self, action: Action) -> Connector | None:
        """The connector that carries out ``action``: the one that saw the group, else the
        first of that platform in the community."""
        seen = self._groups.get((action.platform, action.community, action.group))
        if seen is not None and seen in self.connectors:
            return self.connectors[seen]
        return next(
            (
                c
                for c in self.connectors.values()
                if c.info.platform == action.platform and c.info.community == action.community
            ),
            None,
        )

    def start(self) -> None:
        self.state.start()
        if self.role == "web":
            # the worker carries out the batches' actions; the web process sends the early
            # deletes and makes the calls that need a socket it holds
            self.executor.start()
            warm = getattr(self.sink.early, "warm", None)
            if warm is not None:
                try:
                    warm({c.info.community for c in self.connectors.values()})
                except Exception:  # only a head start: the first updates pay for it instead
                    log.exception("warming the early deletes failed")
            relayed = [cid for cid, c in self.connectors.items() if hasattr(c, "session_call")]
            self.relay = RelayServer(
                self._redis(), relayed, self._relayed_call, namespace=self._stream()
            )
            self.relay.start()
            self._run_loops()
            return
        self.sink.start()
        self.executor.start()
        self.outbox.start()
        self._run_loops()

    def _run_loops(self) -> None:
        """The connectors' long-running parts this process holds: in one process all of
        them; split, a gateway the platform pushes updates into (``loop_in_web``: one
        connection per bot, its ads deleted at receipt) in the web process, the polling and
        forward-WebSocket loops in the workers."""
        for cid, c in self.connectors.items():
            if not c.has_loop() or cid in self.runners:
                continue
            if self.role != "all" and loop_in_web(c) != (self.role == "web"):
                continue
            runner = Runner(c, self.state, base=self.reconnect_base)
            self.runners[cid] = runner
            runner.start()

    def _relayed_call(self, connector_id: int) -> Any:
        connector = self.connectors.get(connector_id)
        call = getattr(connector, "session_call", None)
        if call is None:
            return None

        def relayed(api: str, params: dict[str, Any]) -> Any:
            answer = call(api, params)
            if answer is None:
                raise ConnectorError(
                    f"no live WebSocket in the web process for connector {connector_id}"
                )
            return answer

        return relayed

    def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop()
            self.relay = None
        for runner in self.runners.values():
            runner.stop()
        self.runners.clear()
        self.outbox.stop()
        self.sink.stop()
        self.executor.drain(timeout=10)
        self.executor.stop()
        self.state.stop()
        for c in self.connectors.values():
            c.close()


def loop_in_web(connector: Connector) -> bool:
    """Whether a split serve runs ``connector``'s loop in the web process (see
    ``ConnectorHub._run_loops``); connectors say so with ``loop_in_web = True``."""
    return bool(getattr(connector, "loop_in_web", False))


def _early_deletes(store: Store, pipeline: Pipeline, role: Role, ledger: EarlyLedger) -> Any:
    """The early deletes of the live moderator (the pipeline's; in the web process, which
    runs no pipeline, one of its own), or None without one. A redelivered ad is told by
    its claim in a Redis ledger (kept an hour), else by asking the store."""
    from qunzhu.moderation.early import EarlyDeletes
    from qunzhu.moderation.moderator import RuleModerator

    moderator = pipeline.moderator
    if role == "web":
        moderator = RuleModerator.from_settings(store.settings)
    if not isinstance(moderator, RuleModerator) or moderator.mode != "live":
        return None
    return EarlyDeletes(
        moderator, store.read_engine.connect, check_stored=not isinstance(ledger, RedisLedger)
    )


def load_infos(store: Store, on_error: Any = None) -> list[ConnectorInfo]:
    """Enabled connectors with their credentials decrypted (``on_error(id, message,
    status=...)`` hears of those whose credentials cannot be read; else it raises)."""
    with store.reading() as session:
        rows = [
            (row.id, row.name, row.platform, slug, dict(row.config or {}), row.secret)
            for row, slug in session.execute(
                select(ConnectorRow, Community.slug)
                .join(Community, Community.id == ConnectorRow.community_id)
                .where(ConnectorRow.enabled.is_(True))
                .order_by(ConnectorRow.id)
            ).all()
        ]
    out: list[ConnectorInfo] = []  # read outside the session: on_error writes
    for cid, name, platform, slug, config, secret in rows:
        try:
            credentials = unseal(store.settings, secret)
        except CredentialsError as exc:
            if on_error is None:
                raise
            on_error(cid, str(exc), status="error")
            continue
        out.append(
            ConnectorInfo(
                id=cid,
                name=name,
                platform=platform,
                community=slug,
                config=config,
                credentials=credentials,
            )
        )
    return out
