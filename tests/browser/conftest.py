"""A real browser against a real server: Debian's Chromium driven by Playwright, the app
served by uvicorn in a thread on a free port, over a SQLite store holding the sample
community (qunzhu.demo) and a cast of operators.

Without Chromium (or Playwright) these tests skip and say why; under
``QUNZHU_REQUIRE_SERVICES=1`` they fail instead. ``make test`` installs Chromium when it can.
Screenshots go to tests/browser/artifacts/ (ignored by git); the page-by-page layout
screenshots go to ``$QUNZHU_SCREENSHOTS`` (default: a temporary directory).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from qunzhu.auth.operators import create_operator, grant
from qunzhu.auth.ratelimit import MemoryLimiter
from qunzhu.demo import SLUG
from qunzhu.http.app import create_app
from qunzhu.settings import load_settings
from qunzhu.store import Store
from qunzhu.store.models import Message, ModerationAction

CHROMIUM = os.environ.get("QUNZHU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "browser test password"
REQUIRE = os.environ.get("QUNZHU_REQUIRE_SERVICES") == "1"


def _unavailable(why: str) -> None:
    if REQUIRE:
        pytest.fail(
            f"browser tests cannot run: {why}; QUNZHU_REQUIRE_SERVICES=1 demands them",
            pytrace=False,
        )
    pytest.skip(f"browser tests skipped: {why}")


@dataclass
class Site:
    url: str
    store: Store
    flagged_action_id: int
    flagged_text: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(store: Store) -> tuple[int, str]:
    """Operators of the demo community, and one flagged message waiting for review (the
    moderation pipeline would put it there; here it is written directly)."""
    with store.unit_of_work() as session:
        for name, role in (("owner", "owner"), ("moderator", "moderator"), ("analyst", "analyst")):
            create_operator(session, name, PASSWORD, source="system")
            grant(session, name, SLUG, role, source="system")
        message = session.scalars(
            select(Message)
            .where(Message.kind == "text")
            .order_by(Message.occurred_at.desc())
            .limit(1)
        ).one()
        message.flagged = True
        action = ModerationAction(
            community_id=message.community_id,
            group_id=message.group_id,
            member_id=message.member_id,
            message_id=message.id,
            key="browser-test-flag",
            action="delete",
            rule="ads",
            detector="keywords",
            score=0.91,
            points=1.0,
            status="pending_review",
            evidence={"matched": "加微信"},
        )
        session.add(action)
        session.flush()
        return action.id, message.text


@pytest.fixture(scope="session")
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import uvicorn
    except ImportError:  # pragma: no cover - uvicorn is a dependency of qunzhu
        _unavailable("uvicorn is not installed")
    path = tmp_path_factory.mktemp("browser") / "qunzhu.db"
    # migrated, the sample loaded as load_demo(store) does; asked for here, after the checks,
    # so a machine without Chromium does not load the sample to skip
    shutil.copyfile(request.getfixturevalue("demo_template"), path)
    settings = load_settings(
        database_url=f"sqlite:///{path}", secret_key="b" * 40, sample_data=False, language="zh-CN"
    )
    store = Store(settings)
    action_id, text = _seed(store)
    port = _free_port()
    app = create_app(settings, store, login_limiter=MemoryLimiter(100))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield Site(
        url=f"http://127.0.0.1:{port}", store=store, flagged_action_id=action_id, flagged_text=text
    )
    server.should_exit = True
    thread.join(timeout=10)
    store.dispose()


@pytest.fixture(scope="session")
def browser(site: Site) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install 'playwright>=1.49,<2')")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # a Chromium that does not start is the same as none
            _unavailable(f"Chromium at {CHROMIUM} did not start: {str(exc).splitlines()[0]}")
        yield chromium
        chromium.close()


@dataclass
class Tab:
    """A browser page with the console errors and failed requests it collected."""

    page: Any
    errors: list[str]

    def goto(self, site: Site, path: str) -> Any:
        return self.page.goto(site.url + path)


def _open(browser: Any, **options: Any) -> tuple[Any, Tab]:
    context = browser.new_context(locale="zh-CN", **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, Tab(page=page, errors=errors)


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    """A desktop-sized page."""
    context, opened = _open(browser, viewport={"width": 1280, "height": 900})
    yield opened
    context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Tab]:
    """A page the size of a 390-px-wide phone, touch and all."""
    context, opened = _open(
        browser,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    yield opened
    context.close()


@pytest.fixture
def log_in(site: Site) -> Any:
    """``log_in(tab, username, next_path="/")``: through the login form, as a person does."""

    def go(tab: Tab, username: str, next_path: str = "/") -> None:
        tab.goto(site, f"/login?next={next_path}")
        tab.page.fill("#username", username)
        tab.page.fill("#password", PASSWORD)
        tab.page.click("form.form button[type=submit]")
        tab.page.wait_for_load_state("networkidle")

    return go


@pytest.fixture
def artifact() -> Any:
    """``artifact(name)``: a fresh path under tests/browser/artifacts/ to save a file to."""

    def path(name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / name
        target.unlink(missing_ok=True)
        return target

    return path


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the layout tests save what they saw: ``$QUNZHU_SCREENSHOTS`` when set, so a
    person can look at the pages at each width, else a temporary directory."""
    chosen = os.environ.get("QUNZHU_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
