"""Server time of the dashboard's busiest pages, beside the floor of rendering the same
template with the same data and no queries.

A synthetic community of 1,000 groups and 200,000 members (``--quick``: 100 and 20,000)
who joined over two years, with what the pages read: memberships, 60 days of
``group_daily`` and 30 days of ``member_daily`` rollups (12% of members post on a day), two
days of messages per group, pending moderation actions, applications, referrals,
quarantined input, and — when the intelligence engines are installed — 60 days of group
health and a role per member, as those engines keep them. For each page (Today, Community, Group) it
times N requests through the app in process (a logged-in owner), then N requests of a
route that renders the same template with the context captured from the real page — the
cost of templating and the HTTP stack alone. Target: p50 ≤ 300 ms per page.

`python bench/bench_pages.py --out bench/results/pages.json [--quick] [--pg]`
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from qunzhu.auth.operators import create_operator, grant
from qunzhu.auth.ratelimit import MemoryLimiter
from qunzhu.http.app import create_app
from qunzhu.http.web import pages as web_pages
from qunzhu.settings import load_settings
from qunzhu.store.base import table_of
from qunzhu.store.intelligence import GroupHealth, Question, RoleAssignment
from qunzhu.store.migrate import upgrade
from qunzhu.store.models import (
    Application,
    Base,
    Community,
    Group,
    GroupDaily,
    Member,
    MemberDaily,
    Membership,
    Message,
    ModerationAction,
    Quarantine,
    Referral,
)
from qunzhu.store.session import Store, make_engine

PG_URL = os.environ.get("QUNZHU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "bench password 1234"
TARGET_MS = 300.0
PATCHED = (web_pages.today, web_pages.community, web_pages.group)
CHUNK = 5_000


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _fill(store: Store, model: Any, rows: Iterator[dict[str, Any]]) -> int:
    n = 0
    with store.engine.begin() as conn:
        for batch in _chunks(rows):
            conn.execute(insert(table_of(model)), batch)
            n += len(batch)
    return n


def build(store: Store, groups: int, members: int, today: date, seed: int = 3) -> dict[str, int]:
    """The synthetic community; returns row counts and the id of a typical group."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with store.unit_of_work() as session:
        community = Community(slug="bench", name="Bench 社群")
        session.add(community)
        session.flush()
        cid = community.id
    counts: dict[str, int] = {}
    counts["groups"] = _fill(
        store,
        Group,
        (
            {
                "community_id": cid,
                "platform": "wechat",
                "platform_group_id": f"g{g}",
                "name": f"训练营 {g} 群",
                "cap": 300,
                "created_at": now,
            }
            for g in range(groups)
        ),
    )
    counts["members"] = _fill(
        store,
        Member,
        (
            {
                "community_id": cid,
                "display_name": f"成员{m}",
                "tags": {},
                "protected": False,
                "created_at": now,
                "first_seen_at": now - timedelta(days=rng.randrange(1, 200)),
            }
            for m in range(members)
        ),
    )
    with store.engine.connect() as conn:
        group_ids = [r[0] for r in conn.execute(text("SELECT id FROM groups ORDER BY id"))]
        member_ids = [r[0] for r in conn.execute(text("SELECT id FROM members ORDER BY id"))]
    home = {m: group_ids[i % groups] for i, m in enumerate(member_ids)}
    counts["memberships"] = _fill(
        store,
        Membership,
        (
            {
                "community_id": cid,
                "group_id": g,
                "member_id": m,
                "status": "active" if rng.random() > 0.1 else "left",
                "join_via": "link",
                "joined_at": now - timedelta(days=rng.randrange(0, 730), hours=rng.randrange(24)),
            }
            for m, g in home.items()
        ),
    )
    counts["group_daily"] = _fill(
        store,
        GroupDaily,
        (
            {
                "community_id": cid,
                "group_id": g,
                "day": today - timedelta(days=d),
                "messages": rng.randrange(0, 400),
                "joins": rng.randrange(0, 5),
                "leaves": rng.randrange(0, 3),
                "removals": 0,
                "check_ins": rng.randrange(0, 30),
                "flagged": rng.randrange(0, 3),
                "payments_cents": 0,
                "value": rng.random() * 80,
            }
            for g in group_ids
            for d in range(60)
        ),
    )
    active = 0.12  # share of members who post on a given day
    counts["member_daily"] = _fill(
        store,
        MemberDaily,
        (
            {
                "community_id": cid,
                "group_id": g,
                "member_id": m,
                "day": today - timedelta(days=d),
                "messages": rng.randrange(1, 30),
                "chars": rng.randrange(10, 900),
                "replies_sent": rng.randrange(0, 5),
                "check_ins": rng.randrange(0, 2),
                "flagged": 0,
                "value": rng.random() * 6,
            }
            for d in range(30)
            for m, g in home.items()
            if rng.random() < active
        ),
    )
    per_group = 25
    counts["messages"] = _fill(
        store,
        Message,
        (
            {
                "community_id": cid,
                "group_id": g,
                "member_id": member_ids[(i * 7919 + k) % members],
                "key": f"m{g}-{k}",
                "platform_message_id": f"{g}-{k}",
                "occurred_at": now - timedelta(minutes=k * 110),
                "kind": "text",
                "text": "请问这个怎么部署？" if k % 5 == 0 else "收到，谢谢分享",
                "reactions": 0,
                "forwarded": False,
                "recalled": False,
                "flagged": k % 40 == 0,
                "reply_inferred": False,
            }
            for i, g in enumerate(group_ids)
            for k in range(per_group)
        ),
    )
    counts["moderation_actions"] = _fill(
        store,
        ModerationAction,
        (
            {
                "community_id": cid,
                "group_id": group_ids[i % groups],
                "member_id": member_ids[i],
                "key": f"a{i}",
                "action": "delete",
                "rule": "ads",
                "detector": "keywords",
                "score": 0.8,
                "points": 1.0,
                "status": "pending_review" if i % 3 else "applied",
                "mode": "live",
                "created_at": now - timedelta(minutes=i),
            }
            for i in range(1_500)
        ),
    )
    counts["applications"] = _fill(
        store,
        Application,
        (
            {
                "community_id": cid,
                "group_id": group_ids[i % groups],
                "member_id": member_ids[-i - 1],
                "key": f"app{i}",
                "external_id": f"app{i}",
                "answers": {"why": "学习"},
                "status": "pending" if i % 2 else "approved",
                "submitted_at": now - timedelta(hours=i),
            }
            for i in range(2_000)
        ),
    )
    counts["referrals"] = _fill(
        store,
        Referral,
        (
            {
                "community_id": cid,
                "group_id": home[member_ids[i]],
                "inviter_member_id": member_ids[rng.randrange(members // 50)],
                "invitee_member_id": member_ids[i],
                "key": f"r{i}",
                "occurred_at": now - timedelta(days=rng.randrange(60)),
                "status": rng.choice(["pending", "qualified", "qualified", "held"]),
            }
            for i in range(0, members, 10)
        ),
    )
    counts["quarantine"] = _fill(
        store,
        Quarantine,
        (
            {
                "community_id": cid,
                "key": f"q{i}",
                "source": "import/chat.csv",
                "location": f"line {i}",
                "reason": "no timestamp",
                "payload": "…",
                "created_at": now,
                "resolved": False,
            }
            for i in range(200)
        ),
    )
    counts.update(_engine_rows(store, cid, group_ids, home, today, rng))
    counts["group_id"] = group_ids[groups // 2]
    return counts


def _engine_rows(
    store: Store,
    cid: int,
    group_ids: list[int],
    home: dict[int, int],
    today: date,
    rng: random.Random,
) -> dict[str, int]:
    """What the intelligence engines keep once they run daily (when their tables exist):
    60 days of group health, and a role for every member in their group."""
    health, roles, questions = GroupHealth, RoleAssignment, Question
    names = ["newcomer", "lurker", "lurker", "lurker", "active", "active", "core", "kol"]
    counts = {n: 0 for n in names}
    with store.engine.connect() as conn:
        asked = conn.execute(
            select(Message.id, Message.group_id, Message.member_id, Message.occurred_at).where(
                Message.text.contains("？")
            )
        ).all()
    return {
        "questions": _fill(
            store,
            questions,
            (
                {
                    "message_id": m,
                    "community_id": cid,
                    "group_id": g,
                    "member_id": who,
                    "asked_at": at,
                    "answered_at": None if i % 3 else datetime.now(UTC),
                }
                for i, (m, g, who, at) in enumerate(asked)
            ),
        ),
        "group_health": _fill(
            store,
            health,
            (
                {
                    "community_id": cid,
                    "group_id": g,
                    "day": today - timedelta(days=d),
                    "death_risk": rng.random() * 100,
                    "value_per_day": rng.random() * 40,
                    "active_share": rng.random(),
                    "members": 180 + rng.randrange(40),
                    "metrics": {"role_counts": {n: rng.randrange(5, 60) for n in counts}},
                    "reasons": [],
                }
                for g in group_ids
                for d in range(60)
            ),
        ),
        "role_assignments": _fill(
            store,
            roles,
            (
                {
                    "community_id": cid,
                    "group_id": g,
                    "member_id": m,
                    "role": rng.choice(names),
                    "day": today,
                    "since": today - timedelta(days=rng.randrange(90)),
                    "value": rng.random() * 20,
                    "reason": {},
                }
                for m, g in home.items()
            ),
        ),
    }


def _fresh_store(url: str, workdir: Path) -> Store:
    if url.startswith("sqlite"):
        url = f"sqlite:///{workdir / 'pages.db'}"
    else:
        schema = f"qz_bench_pages_{os.getpid()}"
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        url = f"{url}?options=-csearch_path%3D{schema}"
    store = Store(
        load_settings(
            database_url=url, secret_key="b" * 40, sample_data=False, timezone="Asia/Shanghai"
        )
    )
    upgrade(store.engine)
    Base.metadata.create_all(store.engine)  # tables of work in progress without a migration
    return store


def _drop(store: Store) -> None:
    if store.engine.dialect.name == "postgresql":
        schema = store.engine.url.query["options"].split("=")[-1]
        with store.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    store.dispose()


class Capture:
    """Wraps the pages' ``page`` helper to keep the last (access, template, tab, context),
    so the floor route can render exactly what the real page rendered."""

    def __init__(self) -> None:
        self.last: tuple[Any, ...] | None = None
        self.real: Callable[..., Any] = web_pages.common.page

    def __call__(
        self, request: Request, access: Any, template: str, tab: str, context: Any, **kwargs: Any
    ) -> Any:
        self.last = (access, template, tab, dict(context))
        return self.real(request, access, template, tab, context, **kwargs)


def _log_in(client: TestClient) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post(
        "/login",
        data={"username": "owner", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:300]


def _times(client: TestClient, path: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        answer = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return out


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
    }


def run_backend(url: str, groups: int, members: int, n: int, workdir: Path) -> dict[str, Any]:
    store = _fresh_store(url, workdir)
    try:
        today = datetime.now(store.settings.tz).date()
        started = time.perf_counter()
        counts = build(store, groups, members, today)
        build_s = time.perf_counter() - started
        if store.engine.dialect.name == "postgresql":
            with store.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        with store.unit_of_work() as session:
            _owner(session)
        capture = Capture()
        for module in PATCHED:
            module.page = capture  # type: ignore[attr-defined]
        app = create_app(store.settings, store, login_limiter=MemoryLimiter(100))

        @app.get("/bench-floor")
        def floor(request: Request) -> Any:
            assert capture.last is not None
            access, template, tab, context = capture.last
            return capture.real(request, access, template, tab, context)

        pages = {
            "today": "/c/bench",
            "community": "/c/bench/community",
            "group": f"/c/bench/groups/{counts['group_id']}",
            **{
                f"chart_{c}": f"/c/bench/community/charts/{c}"
                for c in ("value_trend", "role_mix", "funnel", "retention")
            },
        }
        results: dict[str, Any] = {"rows": counts, "build_seconds": round(build_s, 1)}
        with TestClient(app) as client:
            _log_in(client)
            for name, path in pages.items():
                _times(client, path, 2)  # warm caches (templates, statement cache, pages)
                real = _summary(_times(client, path, n))
                floor_ms = _summary(_times(client, "/bench-floor", n))
                results[name] = {
                    "path": path,
                    **real,
                    "floor": floor_ms,
                    "target_p50_ms": TARGET_MS,
                    "meets_target": real["p50_ms"] <= TARGET_MS,
                }
        return results
    finally:
        for module in PATCHED:
            module.page = web_pages.common.page  # type: ignore[attr-defined]
        _drop(store)


def _owner(session: Session) -> None:
    create_operator(session, "owner", PASSWORD, source="system")
    grant(session, "owner", "bench", "owner", source="system")


def _pg_available() -> bool:
    try:
        engine = make_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # any failure to reach the server means: not here
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg", action="store_true", help="also on PostgreSQL when it answers")
    args = parser.parse_args()
    groups, members, n = (100, 20_000, 10) if args.quick else (1_000, 200_000, 20)
    results: dict[str, Any] = {"groups": groups, "members": members, "requests_per_page": n}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run_backend("sqlite://", groups, members, n, Path(tmp))
        if args.pg:
            if _pg_available():
                results["postgresql"] = run_backend(PG_URL, groups, members, n, Path(tmp))
            else:
                results["postgresql"] = {"skipped": f"no PostgreSQL at {PG_URL}"}
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for backend in ("sqlite", "postgresql"):
        block = results.get(backend)
        if not isinstance(block, dict) or "today" not in block:
            continue
        print(f"{backend}: {groups} groups, {members} members")
        for name in [k for k in block if isinstance(block[k], dict) and "p50_ms" in block[k]]:
            r = block[name]
            print(
                f"  {name:18s} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms   "
                f"floor p50 {r['floor']['p50_ms']:6.1f} ms   target ≤ {TARGET_MS:.0f} ms "
                f"{'ok' if r['meets_target'] else 'MISSED'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
