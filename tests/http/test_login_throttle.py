"""Login throttling against a real server (uvicorn, as `qunzhu serve` configures it): a
forwarded header chooses nobody's address unless it comes from a trusted proxy, and the
limit holds per account and per address."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from qunzhu_tests_http import CSRF_RE

from qunzhu.auth.ratelimit import MemoryLimiter
from qunzhu.http.app import create_app, proxy_options, served
from qunzhu.settings import Settings
from qunzhu.store import Store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(settings: Settings, store: Store) -> Iterator[str]:
    app = create_app(settings, store, login_limiter=MemoryLimiter(settings.login_rate_limit))
    port = _free_port()
    config = uvicorn.Config(
        served(app),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        **proxy_options(settings),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _attempts(url: str, usernames: list[str]) -> list[int]:
    """One wrong password per username, each from a new forwarded address; the statuses."""
    statuses = []
    with httpx.Client(base_url=url, timeout=120) as browser:
        csrf = CSRF_RE.search(browser.get("/login").text)
        assert csrf is not None
        for n, username in enumerate(usernames):
            answer = browser.post(
                "/login",
                data={"username": username, "password": "wrong", "csrf_token": csrf.group(1)},
                headers={"X-Forwarded-For": f"203.0.113.{n % 250 + 1}"},
            )
            statuses.append(answer.status_code)
    return statuses


def test_rotating_forwarded_addresses_do_not_escape_the_account_limit(
    settings: Settings, store: Store, personas: Any
) -> None:
    with _server(settings, store) as url:
        statuses = _attempts(url, ["owner"] * 30)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429] * 20


def test_a_trusted_proxys_forwarded_address_is_believed_but_the_account_still_limited(
    settings: Settings, store: Store, personas: Any
) -> None:
    trusted = settings.model_copy(update={"trusted_proxies": "127.0.0.1"})
    with _server(trusted, store) as url:
        statuses = _attempts(url, ["owner"] * 30)
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}


@pytest.mark.parametrize(("proxies", "limited"), [("", True), ("127.0.0.1", False)])
def test_many_accounts_from_one_address_are_limited_there(
    settings: Settings, store: Store, personas: Any, proxies: str, limited: bool
) -> None:
    """Three times the account limit per address: counted for the one real peer without a
    trusted proxy; spread over the forwarded addresses when the proxy is trusted."""
    # a limit of 2 per account: 6 per address (each wrong password costs an argon2 hash)
    chosen = settings.model_copy(update={"trusted_proxies": proxies, "login_rate_limit": 2})
    usernames = [f"nobody{n}" for n in range(7)]
    with _server(chosen, store) as url:
        statuses = _attempts(url, usernames)
    assert statuses[:6] == [401] * 6
    assert statuses[6] == (429 if limited else 401)


def test_serve_passes_the_trusted_proxies_to_uvicorn(settings: Settings) -> None:
    assert proxy_options(settings) == {"proxy_headers": False}
    two = settings.model_copy(update={"trusted_proxies": "10.0.0.1,10.1.0.0/16"})
    assert proxy_options(two) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["10.0.0.1", "10.1.0.0/16"],
    }
