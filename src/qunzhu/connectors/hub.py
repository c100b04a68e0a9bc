"""All live connectors of a server: built from the ``connectors`` table, their webhook
routes for the app, their runners, the sink into the pipeline, the action executor and the
drainer of the outbox (actions decided elsewhere: reviews, appeals, invite links).

``qunzhu serve`` does::

    hub = ConnectorHub.load(store)
    app = create_app(settings, store, webhooks=hub.routes())
    app.state.connector_hub = hub     # the OneBot reverse WebSocket finds it here
    hub.start(); uvicorn.run(app, ...); hub.stop()
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import select

from qunzhu.api.webhooks import WebhookRoute
from qunzhu.connectors.base import Connector, ConnectorInfo
from qunzhu.connectors.credentials import CredentialsError, unseal
from qunzhu.connectors.executor import Executor
from qunzhu.connectors.livequeue import LiveQueue, queue_from_settings
from qunzhu.connectors.outbox import Drainer
from qunzhu.connectors.registry import connector_class
from qunzhu.connectors.runner import Runner
from qunzhu.connectors.sink import Sink
from qunzhu.connectors.state import StateBook
from qunzhu.events import Action, Event
from qunzhu.pipeline import Pipeline
from qunzhu.store.connectors import Connector as ConnectorRow
from qunzhu.store.models import Community
from qunzhu.store.session import Store

log = logging.getLogger(__name__)


def live_pipeline(store: Store) -> Pipeline:
    """The pipeline live events go through (moderation, value, growth): see qunzhu.wiring."""
    from qunzhu.wiring import build_pipeline

    return build_pipeline(store, "live")


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
    ) -> None:
        self.store = store
        self.state = StateBook(store)
        self.executor = Executor(store, self.state, self.resolve, workers=workers, backoff=backoff)
        self.sink = Sink(
            pipeline or live_pipeline(store),
            self.executor.submit,
            durable=queue_from_settings(store.settings) if durable == "settings" else durable,
        )
        self.outbox = Drainer(store, self.executor.submit, interval=outbox_interval)
        self.connectors: dict[int, Connector] = {}
        self.runners: dict[int, Runner] = {}
        self.reconnect_base = reconnect_base
        self._groups: dict[tuple[str, str, str], int] = {}

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
        made: Connector = connector_class(info.platform)(
            info, self.store, self.state, self._deliver_for(info.id)
        )
        self.connectors[info.id] = made
        return made

    def _deliver_for(self, connector_id: int) -> Any:
        def deliver(events: Sequence[Event]) -> None:
            for e in events:
                self._groups.setdefault((e.platform, e.community, e.group), connector_id)
            self.sink.deliver(events)

        return deliver

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
        self.sink.start()
        self.executor.start()
        self.outbox.start()
        for cid, c in self.connectors.items():
            if c.has_loop() and cid not in self.runners:
                runner = Runner(c, self.state, base=self.reconnect_base)
                self.runners[cid] = runner
                runner.start()

    def stop(self) -> None:
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
