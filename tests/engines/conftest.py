"""The sample community recomputed once per module (SQLite), from the sample loaded once per
session (``demo_template``): it is slow to make and the tests only read it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from qunzhu.engines.recompute import recompute_community
from qunzhu.engines.views import latest_data_day
from qunzhu.settings import load_settings
from qunzhu.store import Store
from qunzhu.store.models import Community


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Store]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copyfile(demo_template, path)  # the sample, loaded once per session
    store = Store(
        load_settings(database_url=f"sqlite:///{path}", secret_key="t" * 40, sample_data=False)
    )
    with store.engine.begin() as conn:
        cid = conn.execute(select(Community.id).where(Community.slug == "demo")).scalar_one()
        day = latest_data_day(conn, cid)
        assert day is not None
        recompute_community(conn, cid, day, store.settings.tz, backfill_days=21)
    yield store
    store.dispose()
