"""Growth: referral settlement over many referrals, and seat claims under contention, each
beside a floor measured in the same run.

- ``settle``: ``qunzhu.growth.referral_settle.settle`` over N referrals (default 100k; 5k
  referrers, a tenth of invitees leave, six in ten speak) in a fresh SQLite file: facts read,
  every referral decided, rungs granted or held. Then a second settle, which must change
  nothing. Floor: the plainest read of the same facts (referrals, leaves, first joins,
  speakers: four SELECTs into dicts) and one executemany UPDATE of every status.
- ``seats``: T threads, each on its own connection, admit members into one capped group until
  it is full (``capacity.admit``: seat counter, holders, waitlist beyond the cap), claims per
  second; must end with exactly ``cap`` holders. Floor: the same threads doing only the bare
  conditional ``UPDATE … SET taken = taken + 1 WHERE taken < cap``, one transaction each.
  On SQLite, and on PostgreSQL when QUNZHU_BENCH_PG_URL (or the test server) answers.

`python bench/bench_growth.py --out bench/results/growth.json [--quick]`
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from sqlalchemy import Engine, func, insert, select, text  # noqa: E402

from qunzhu.growth.capacity import admit  # noqa: E402
from qunzhu.growth.referral_settle import settle  # noqa: E402
from qunzhu.store.growth import ReferralReward, SeatHolder  # noqa: E402
from qunzhu.store.models import (  # noqa: E402
    Base,
    Community,
    Group,
    Member,
    MemberDaily,
    MembershipEvent,
    Referral,
)
from qunzhu.store.session import make_engine  # noqa: E402

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SPEC = """name: bench
purpose: bench
referral:
  enabled: true
  ladder:
    - {invitees: 5, reward: {kind: points, value: 100}}
    - {invitees: 20, reward: {kind: coupon, value: C20}}
    - {invitees: 50, reward: {kind: prize, value: 书}}
  qualification: {stay_days: 7, must_speak: true}
size: {cap: %d, policy: waitlist, protected: [owner]}
"""
PG_URL = os.environ.get("QUNZHU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _community(engine: Engine, cap: int) -> tuple[int, int]:
    with engine.begin() as conn:
        cid = conn.execute(
            insert(Community)
            .values(slug=f"b{random.random()}", name="b", spec_yaml=SPEC % cap)
            .returning(Community.id)
        ).scalar_one()
        gid = conn.execute(
            insert(Group)
            .values(community_id=cid, platform="test", platform_group_id="g", name="g")
            .returning(Group.id)
        ).scalar_one()
    return int(cid), int(gid)


def _members(engine: Engine, cid: int, n: int) -> list[int]:
    with engine.begin() as conn:
        first = conn.execute(select(func.coalesce(func.max(Member.id), 0))).scalar_one()
        conn.execute(
            insert(Member),
            [{"id": first + 1 + i, "community_id": cid, "display_name": f"m{i}"} for i in range(n)],
        )
    return list(range(first + 1, first + 1 + n))


def build_referrals(engine: Engine, n: int) -> int:
    rnd = random.Random(7)
    cid, gid = _community(engine, 200_000)
    referrers = max(n // 20, 1)
    ids = _members(engine, cid, n + referrers)
    inviters, invitees = ids[:referrers], ids[referrers:]
    refs, events, daily = [], [], []
    for i, m in enumerate(invitees):
        inviter = inviters[rnd.randrange(referrers)]
        at = T0 + timedelta(minutes=i)
        refs.append(
            {
                "community_id": cid,
                "group_id": gid,
                "inviter_member_id": inviter,
                "invitee_member_id": m,
                "key": f"r{i}",
                "occurred_at": at,
                "status": "pending",
            }
        )
        events.append(
            {
                "community_id": cid,
                "group_id": gid,
                "member_id": m,
                "key": f"j{i}",
                "kind": "join",
                "occurred_at": at,
                "via": "invite",
                "other_member_id": inviter,
            }
        )
        if rnd.random() < 0.1:
            events.append(
                {
                    "community_id": cid,
                    "group_id": gid,
                    "member_id": m,
                    "key": f"l{i}",
                    "kind": "leave",
                    "via": None,
                    "other_member_id": None,
                    "occurred_at": at + timedelta(days=rnd.random() * 20),
                }
            )
        if rnd.random() < 0.6:
            daily.append(
                {
                    "community_id": cid,
                    "group_id": gid,
                    "member_id": m,
                    "day": at.date() + timedelta(days=1),
                    "messages": 3,
                    "chars": 90,
                    "replies_sent": 0,
                    "check_ins": 0,
                    "flagged": 0,
                    "value": 2.5,
                }
            )
    with engine.begin() as conn:
        for table, rows in ((Referral, refs), (MembershipEvent, events), (MemberDaily, daily)):
            for start in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[start : start + 5000])
    return cid


def floor_settle(engine: Engine, cid: int) -> float:
    started = time.process_time()
    with engine.begin() as conn:
        refs = conn.execute(
            text(
                "SELECT id, inviter_member_id, invitee_member_id, group_id, "
                "occurred_at FROM referrals WHERE community_id = :c"
            ),
            {"c": cid},
        ).all()
        leaves = dict(
            conn.execute(
                text(
                    "SELECT member_id, min(occurred_at) FROM membership_events "
                    "WHERE community_id = :c "
                    "AND kind != 'join' GROUP BY member_id"
                ),
                {"c": cid},
            ).all()
        )
        joins = dict(
            conn.execute(
                text(
                    "SELECT member_id, min(occurred_at) FROM membership_events "
                    "WHERE community_id = :c "
                    "AND kind = 'join' GROUP BY member_id"
                ),
                {"c": cid},
            ).all()
        )
        spoke = {
            m
            for (m,) in conn.execute(
                text(
                    "SELECT DISTINCT member_id FROM member_daily WHERE community_id = :c "
                    "AND messages > 0"
                ),
                {"c": cid},
            )
        }
        updates = [
            {
                "s": "qualified"
                if r[2] in spoke and r[2] not in leaves and r[2] in joins
                else "pending",
                "i": r[0],
            }
            for r in refs
        ]
        conn.execute(text("UPDATE referrals SET status = :s WHERE id = :i"), updates)
        conn.rollback()
    return time.process_time() - started


def bench_settle(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/settle.db")
        Base.metadata.create_all(engine)
        cid = build_referrals(engine, n)
        floor = min(floor_settle(engine, cid) for _ in range(2))
        now = T0 + timedelta(days=400)
        started = time.process_time()
        with engine.begin() as conn:
            first = settle(conn, cid, now=now)
        cpu = time.process_time() - started
        started = time.process_time()
        with engine.begin() as conn:
            second = settle(conn, cid, now=now)
        cpu_again = time.process_time() - started
        with engine.connect() as conn:
            rewards = conn.execute(select(func.count()).select_from(ReferralReward)).scalar()
        engine.dispose()
    return {
        "referrals": n,
        "settle_cpu_s": round(cpu, 2),
        "settle_referrals_per_s": round(n / cpu),
        "resettle_cpu_s": round(cpu_again, 2),
        "floor_cpu_s": round(floor, 2),
        "floor_referrals_per_s": round(n / floor),
        "vs_floor": round(cpu / floor, 2),
        "decided": first.decided,
        "rewards": rewards,
        "granted": first.granted,
        "held": first.held,
        "second_run_changes": sum(second.decided.values()) + second.granted + second.held,
    }


def _threads(count: int, work: Any) -> float:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            barrier.wait()
            work(k)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    started = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def bench_seats(engine: Engine, cap: int, threads: int) -> dict[str, Any]:
    cid, gid = _community(engine, cap)
    wanting = _members(engine, cid, cap + cap // 4)
    outcomes: list[str] = []

    def claim(k: int) -> None:
        for m in wanting[k::threads]:
            with engine.begin() as conn:
                outcomes.append(admit(conn, gid, m, exclude=set()).outcome)

    wall = _threads(threads, claim)
    with engine.connect() as conn:
        holders = conn.execute(
            select(func.count()).select_from(SeatHolder).where(SeatHolder.group_id == gid)
        ).scalar()
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS bench_counter (id INTEGER PRIMARY KEY, "
                "taken INTEGER NOT NULL, cap INTEGER NOT NULL)"
            )
        )
        conn.execute(text("DELETE FROM bench_counter"))
        conn.execute(text("INSERT INTO bench_counter VALUES (1, 0, :c)"), {"c": cap})
    got: list[int] = []

    def bare(k: int) -> None:
        for _ in wanting[k::threads]:
            with engine.begin() as conn:
                got.append(
                    conn.execute(
                        text(
                            "UPDATE bench_counter SET taken = taken + 1 "
                            "WHERE id = 1 AND taken < cap"
                        )
                    ).rowcount
                )

    floor_wall = _threads(threads, bare)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_counter"))
    return {
        "threads": threads,
        "cap": cap,
        "attempts": len(wanting),
        "seated": outcomes.count("seated"),
        "waitlisted": outcomes.count("waitlisted"),
        "holders": holders,
        "never_over_cap": holders == cap == outcomes.count("seated"),
        "claims_per_s": round(len(wanting) / wall),
        "floor_claims_per_s": round(len(wanting) / floor_wall),
        "floor_seated": sum(got),
        "vs_floor": round(wall / floor_wall, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--referrals", type=int, default=None)
    args = parser.parse_args()
    n = args.referrals or (10_000 if args.quick else 100_000)
    cap = 100 if args.quick else 400
    result: dict[str, Any] = {
        "benchmark": "growth",
        "quick": args.quick,
        "date": date.today().isoformat(),
        "settle": bench_settle(n),
        "seats": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/seats.db")
        Base.metadata.create_all(engine)
        result["seats"]["sqlite"] = bench_seats(engine, cap, 4)
        engine.dispose()
    try:
        schema = f"qz_bench_growth_{os.getpid()}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in PG_URL else "?"
        engine = make_engine(f"{PG_URL}{sep}options=-csearch_path%3D{schema}", pool_size=8)
        try:
            Base.metadata.create_all(engine)
            result["seats"]["postgresql"] = bench_seats(engine, cap, 4)
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    except Exception as exc:  # no server here: say so in the results
        result["seats"]["postgresql"] = {"skipped": f"{type(exc).__name__}: {exc}"[:200]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    s = result["settle"]
    print(
        f"settle {s['referrals']:,} referrals: {s['settle_referrals_per_s']:,}/s CPU "
        f"(floor {s['floor_referrals_per_s']:,}/s, x{s['vs_floor']}), rewards {s['rewards']}, "
        f"second run changes {s['second_run_changes']}"
    )
    for backend, r in result["seats"].items():
        if "skipped" in r:
            print(f"seats {backend}: skipped ({r['skipped']})")
            continue
        print(
            f"seats {backend}: {r['claims_per_s']:,} admits/s with {r['threads']} threads "
            f"(floor {r['floor_claims_per_s']:,}/s, x{r['vs_floor']}); seated {r['seated']} "
            f"of cap {r['cap']}, holders {r['holders']}, never over cap: "
            f"{r['never_over_cap']}"
        )
    ok = s["second_run_changes"] == 0 and all(
        r.get("never_over_cap", True) for r in result["seats"].values()
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
