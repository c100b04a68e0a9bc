"""The pipeline's batch and single-event paths, beside a bare insert of the same rows.

For each database (SQLite always; PostgreSQL when QUNZHU_BENCH_PG_URL or the local server
answers) it measures, on a fresh database:

- ``batch``: Pipeline.run over N message events (members resolved and created, replies
  linked, memberships and daily rollups written), events/s;
- ``redelivery``: the same N events again (all duplicates: nothing may be written), events/s;
- ``live``: ingest_one for M events one at a time, p50/p99 latency;
- ``floor``: a bare executemany of the same rows (ids already known) into a copy of the
  messages table with no indexes — the cost of storing the rows and nothing else.

`python bench/bench_pipeline.py --out bench/results/pipeline.json [--quick]`
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from qunzhu import events as ev
from qunzhu.pipeline import Pipeline
from qunzhu.settings import load_settings
from qunzhu.store.migrate import upgrade
from qunzhu.store.models import Message
from qunzhu.store.session import Store, make_engine

PG_URL = os.environ.get("QUNZHU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WORDS = [
    "群",
    "主",
    "今天",
    "明天",
    "作业",
    "提交",
    "请问",
    "谁",
    "知道",
    "怎么",
    "部署",
    "模型",
    "好的",
    "收到",
    "谢谢",
    "分享",
    "链接",
    "代码",
]


def messages(
    n: int, *, groups: int = 10, members: int = 2_000, seed: int = 1, prefix: str = ""
) -> Iterator[ev.Event]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        g = i % groups
        yield ev.MessagePosted(
            platform="wechat",
            community="bench",
            group=f"g{g}",
            member=f"u{rng.randrange(members)}",
            occurred_at=start + timedelta(seconds=i * 3),
            message_id=f"{prefix}{i}",
            text=" ".join(rng.choices(WORDS, k=rng.randrange(2, 14))),
            reply_to=f"{prefix}{i - groups * rng.randrange(1, 20)}"
            if i > 400 and rng.random() < 0.2
            else None,
        )


def _fresh_store(url: str, workdir: Path, name: str) -> Store:
    if url.startswith("sqlite"):
        url = f"sqlite:///{workdir / name}.db"
    else:
        schema = f"qz_bench_{os.getpid()}_{name}"
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        url = f"{url}?options=-csearch_path%3D{schema}"
    store = Store(load_settings(database_url=url, secret_key="b" * 40, sample_data=False))
    upgrade(store.engine)
    return store


def _drop(store: Store) -> None:
    if store.engine.dialect.name == "postgresql":
        schema = store.engine.url.query["options"].split("=")[-1]
        with store.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    store.dispose()


def _floor(store: Store, n: int) -> float:
    """Copy the stored rows into an index-free twin of `messages` with one executemany."""
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("CREATE TABLE floor_messages (LIKE messages)"))
        else:
            conn.execute(text("CREATE TABLE floor_messages AS SELECT * FROM messages WHERE 0"))
        cols = [c.name for c in Message.__table__.columns]
        rows = [tuple(r) for r in conn.execute(text(f"SELECT {', '.join(cols)} FROM messages"))]
    assert len(rows) == n, (len(rows), n)
    mark = "%s" if store.engine.dialect.name == "postgresql" else "?"
    sql = f"INSERT INTO floor_messages ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
    if store.engine.dialect.name == "postgresql":
        rows = [tuple(json.dumps(v) if isinstance(v, dict) else v for v in r) for r in rows]
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        started = time.perf_counter()
        if store.engine.dialect.name == "sqlite":
            cursor.execute("BEGIN")  # our SQLite connections run in autocommit mode
        cursor.executemany(sql, rows)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def run_backend(url: str, n: int, live: int, workdir: Path, label: str) -> dict[str, Any]:
    store = _fresh_store(url, workdir, label)
    try:
        pipeline = Pipeline(store, create_communities=True, chunk_size=5_000)
        started = time.perf_counter()
        report = pipeline.run(messages(n), source="bench")
        batch = time.perf_counter() - started
        assert report.added == n, report.as_dict()
        started = time.perf_counter()
        again = pipeline.run(messages(n), source="bench")
        redelivery = time.perf_counter() - started
        assert again.added == 0, again.as_dict()
        latencies = []
        for event in messages(live, seed=2, groups=3, prefix="live-"):
            t = time.perf_counter()
            pipeline.ingest_one(event)
            latencies.append((time.perf_counter() - t) * 1000)
        with store.reading() as session:
            stored = session.scalar(select(func.count()).select_from(Message))
        assert stored == n + live
        floor = _floor(store, stored)
        latencies.sort()
        return {
            "events": n,
            "batch_events_per_s": round(n / batch),
            "redelivery_events_per_s": round(n / redelivery),
            "floor_bare_insert_rows_per_s": round(stored / floor),
            "batch_vs_floor": round((batch / n) / (floor / stored), 2),
            "live_events": live,
            "live_p50_ms": round(statistics.median(latencies), 2),
            "live_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
            "replies_linked": report.replies,
        }
    finally:
        _drop(store)


def _pg_available() -> bool:
    try:
        engine = make_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, live = (20_000, 200) if args.quick else (200_000, 2_000)
    results: dict[str, Any] = {"machine": f"{os.cpu_count()} cores", "quick": args.quick}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run_backend("sqlite://", n, live, Path(tmp), "sqlite")
        if _pg_available():
            results["postgresql"] = run_backend(PG_URL, n, live, Path(tmp), "pg")
        else:
            results["postgresql"] = {"skipped": f"no PostgreSQL at {PG_URL}"}
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
