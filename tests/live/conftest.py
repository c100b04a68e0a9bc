"""Connector tests: a community with moderation rules and a size cap, a hub, the app served
on 127.0.0.1, and the fake platforms (connector_fakes/)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))

from connector_fakes.liveserver import LiveServer
from qunzhu_tests import run_coroutine  # noqa: F401  (qunzhu_tests_connectors.run_coroutine)

from qunzhu.adapters.manage import save_connector
from qunzhu.http.app import create_app
from qunzhu.live.hub import ConnectorHub, load_infos
from qunzhu.store import Store
from qunzhu.store.models import Community

SPEC = """\
name: 读书会
purpose: read together
rules:
  contact_solicitation:
    action: delete_warn
    severity: 2
  classifier:
    action: allow
    threshold_flag: 1.0
    threshold_act: 1.0
escalation:
  points_expire_days: 30
size: {cap: 2, policy: waitlist, protected: [owner]}
"""
SPAM = "加 薇 信 abc_123 了解赚钱项目"


@pytest.fixture
def community(store: Store) -> str:
    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="读书会", spec_yaml=SPEC))
    return "acme"


@pytest.fixture
def fake_telegram() -> Iterator[Any]:
    """The fake Bot API served on 127.0.0.1; its address in ``.url``."""
    from connector_fakes import telegram as tg

    platform = tg.FakeTelegram()
    with LiveServer(platform.app) as server:
        platform.url = server.url  # type: ignore[attr-defined]
        yield platform


@pytest.fixture
def hub(store: Store, community: str) -> Iterator[ConnectorHub]:
    made = ConnectorHub(store, backoff=0.05, reconnect_base=0.05)
    yield made
    made.stop()


def connect(
    store: Store,
    hub: ConnectorHub,
    platform: str,
    name: str,
    config: dict[str, Any],
    credentials: dict[str, str],
) -> Any:
    cid = save_connector(
        store,
        community="acme",
        platform=platform,
        name=name,
        config=config,
        credentials=credentials,
    )
    info = next(i for i in load_infos(store) if i.id == cid)
    return hub.add(info)


@contextmanager
def serving(store: Store, hub: ConnectorHub) -> Iterator[LiveServer]:
    app = create_app(store.settings, store, webhooks=hub.routes())
    app.state.connector_hub = hub
    hub.start()
    with LiveServer(app) as server:
        yield server


def count(store: Store, model: Any, *where: Any) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def rows(store: Store, query: Any) -> list[Any]:
    with store.reading() as session:
        return list(session.execute(query).all())


def wait_until(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def wait_for() -> Callable[..., None]:
    return wait_until


TELEGRAM_SECRET = "s3cret-token-from-setWebhook"


def telegram_bot(
    store: Store, hub: ConnectorHub, fake: Any, *, secret: str = TELEGRAM_SECRET, **config: Any
) -> Any:
    """The Telegram connector ``tgbot`` of ``acme`` on the fake Bot API (a webhook unless
    ``mode`` says otherwise)."""
    return connect(
        store,
        hub,
        "telegram",
        "tgbot",
        {"mode": "webhook", "api_base": fake.url, **config},
        {"token": fake.token, "webhook_secret": secret},
    )


def post_update(
    server: LiveServer, update: dict[str, Any], secret: str = TELEGRAM_SECRET
) -> httpx.Response:
    return httpx.post(
        f"{server.url}/hooks/telegram/tgbot",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
        timeout=30,
    )


sys.modules.setdefault("qunzhu_tests_connectors", sys.modules[__name__])
