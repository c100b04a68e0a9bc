"""The qunzhu side of a live-connector benchmark, as `qunzhu serve` runs one connector: a
community, the connector, the hub, until SIGTERM; in one process, or (``split``) as serve
runs with Redis: the web process (the app on a port, the hub's web role) and a live worker
process (``qunzhu worker``) started and stopped by it."""

from __future__ import annotations

import signal
import tempfile
import threading
from pathlib import Path
from typing import Any


def fresh_store(name: str) -> Path:
    """A new temporary directory holding ``bench.db``, a migrated SQLite store, for one run of
    a live-connector benchmark; returns the directory."""
    from qunzhu.store import make_engine
    from qunzhu.store.migrate import upgrade
    from qunzhu.store.models import Base

    tmp = Path(tempfile.mkdtemp(prefix=f"qunzhu-bench-{name}-"))
    engine = make_engine(f"sqlite:///{tmp / 'bench.db'}")
    upgrade(engine)
    Base.metadata.create_all(engine)
    engine.dispose()
    return tmp


def run_hub(
    db: str,
    redis_url: str,
    spec: str,
    *,
    platform: str,
    name: str,
    config: dict[str, Any],
    credentials: dict[str, str],
    split: bool = False,
) -> None:
    """With ``redis_url`` the hub's events go through the Redis queue, stored by this same
    process (no live worker apart), or with ``split`` by a live worker process, as
    ``qunzhu serve`` runs by default with Redis; without, each batch is committed before
    the next."""
    from qunzhu.adapters.manage import save_connector
    from qunzhu.live.hub import ConnectorHub
    from qunzhu.settings import load_settings
    from qunzhu.store.models import Community
    from qunzhu.store.session import Store

    if split and not redis_url:
        raise ValueError("a split serve needs Redis")
    where: dict[str, Any] = {"redis_url": redis_url, "live_process": split} if redis_url else {}
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
    if split:
        _serve_split(store, settings)
        return
    hub = ConnectorHub.load(store)
    hub.start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    while not stopping.wait(0.1):
        pass
    hub.stop()
    store.dispose()


def _serve_split(store: Any, settings: Any) -> None:
    """What ``qunzhu serve`` does with Redis (cli/serve.py), the port on 127.0.0.1:0."""
    import uvicorn

    from qunzhu.http.app import create_app, served
    from qunzhu.live.hub import ConnectorHub
    from qunzhu.live.process import LiveProcess, freeze_startup_heap

    hub = ConnectorHub.load(store, role="web")
    app = create_app(settings, store, webhooks=hub.routes())
    app.state.connector_hub = hub
    live = LiveProcess(settings)
    hub.start()
    if not live.start():
        raise RuntimeError("the live worker was not ready within 60 s")
    freeze_startup_heap()
    server = uvicorn.Server(
        uvicorn.Config(served(app), host="127.0.0.1", port=0, log_level="warning", access_log=False)
    )
    web = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    web.start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    while not stopping.wait(0.1):
        pass
    server.should_exit = True
    web.join(10)
    live.stop()
    hub.stop()
    store.dispose()
