"""The sample community (qunzhu.demo) loaded and recomputed into a SQLite file, served by the
app in process, with an owner logged in to the dashboard and holding an API token; and the
figures a rendered page states (``data-figure`` elements, see ``fig`` in _macros.html)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from qunzhu.auth.operators import create_operator, create_token, grant
from qunzhu.auth.ratelimit import MemoryLimiter
from qunzhu.demo import SLUG
from qunzhu.engines.recompute import recompute_community
from qunzhu.engines.views import latest_data_day
from qunzhu.http.app import create_app
from qunzhu.settings import load_settings
from qunzhu.store import Store
from qunzhu.store.models import Community

PASSWORD = "sample site password"


def build(demo_template: Path, path: Path) -> None:
    """The sample community, recomputed as `make run` leaves it, in a new SQLite file
    (``demo_template``: the loaded sample, the fixture of that name)."""
    shutil.copyfile(demo_template, path)
    store = Store(
        load_settings(database_url=f"sqlite:///{path}", secret_key="s" * 40, sample_data=False)
    )
    with store.engine.begin() as conn:
        cid = conn.execute(select(Community.id).where(Community.slug == SLUG)).scalar_one()
        day = latest_data_day(conn, cid)
        assert day is not None
        recompute_community(conn, cid, day, store.settings.tz, backfill_days=21)
    with store.unit_of_work() as session:
        create_operator(session, "owner", PASSWORD, source="system")
        grant(session, "owner", SLUG, "owner", source="system")
    store.dispose()


@dataclass
class Site:
    store: Store
    client: TestClient
    token: str
    community_id: int

    def api(self, path: str) -> Any:
        answer = self.client.get(
            f"/api/v1/communities/{SLUG}{path}", headers={"Authorization": f"Bearer {self.token}"}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def page(self, path: str) -> str:
        answer = self.client.get(path)
        assert answer.status_code == 200, path
        return answer.text


def open_site(path: Path, language: str = "zh-CN") -> Iterator[Site]:
    settings = load_settings(
        database_url=f"sqlite:///{path}", secret_key="s" * 40, sample_data=False, language=language
    )
    store = Store(settings)
    with store.unit_of_work() as session:
        token = create_token(session, "owner", "figures test", source="system").token
        cid = session.scalars(select(Community.id).where(Community.slug == SLUG)).one()
    app = create_app(settings, store, login_limiter=MemoryLimiter(100))
    with TestClient(app) as client:
        login = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert csrf is not None
        client.post(
            "/login",
            data={"username": "owner", "password": PASSWORD, "csrf_token": csrf.group(1)},
            follow_redirects=False,
        )
        yield Site(store=store, client=client, token=token, community_id=cid)
    store.dispose()


class _Figures(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[tuple[str, str], str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("data-figure"):
            key = (str(a["data-figure"]), str(a.get("data-key") or ""))
            assert key not in self.found or self.found[key] == a.get("data-value"), key
            self.found[key] = str(a.get("data-value"))
            assert a.get("title"), f"figure {key} shown without its definition"


def figures(html: str) -> dict[tuple[str, str], str]:
    """(figure, key) → value of every ``data-figure`` element; each must carry a title (its
    definition) and a figure shown twice must show the same value."""
    parser = _Figures()
    parser.feed(html)
    return parser.found
