"""The qunzhu side of a live-connector benchmark, as `qunzhu serve` runs one connector in
one process: a community, the connector, the hub, until SIGTERM."""

from __future__ import annotations

import signal
import threading
from typing import Any


def run_hub(
    db: str,
    redis_url: str,
    spec: str,
    *,
    platform: str,
    name: str,
    config: dict[str, Any],
    credentials: dict[str, str],
) -> None:
    """With ``redis_url`` the hub's events go through the Redis queue, stored by this same
    process (no live worker apart); without, each batch is committed before the next."""
    from qunzhu.adapters.manage import save_connector
    from qunzhu.live.hub import ConnectorHub
    from qunzhu.settings import load_settings
    from qunzhu.store.models import Community
    from qunzhu.store.session import Store

    where: dict[str, Any] = {"redis_url": redis_url, "live_process": False} if redis_url else {}
    settings = load_settings(
        database_url=db, secret_key="b" * 40, sample_data=False, log_level="WARNING", **where
    )
    store = Store(settings)
    with store.unit_of_work() as session:
        session.add(Community(slug="bench", name="bench", spec_yaml=spec))
    save_connector(
        store,
        community="bench",
        platform=platform,
        name=name,
        config=config,
        credentials=credentials,
    )
    hub = ConnectorHub.load(store)
    hub.start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    while not stopping.wait(0.1):
        pass
    hub.stop()
    store.dispose()
