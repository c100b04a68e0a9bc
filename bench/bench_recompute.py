"""Import + first `qunzhu recompute` of IRC logs, each stage beside its floor (issue 16, item 7).

(a) ``shared``: the 86 #ubuntu logs of ../shared/data/irc (108,708 messages) into a fresh
    SQLite database, then the first recompute; with the tree of ``--before`` (a commit,
    exported with ``git archive``) and with this tree, alternating, ``--reps`` times each,
    back to back on the same machine.
(b) ``1m``: the same logs repeated with shifted dates (2 days a copy) and nicks (a suffix a
    copy, addressing included) up to 1,000,000 messages, written at bench time into a
    temporary directory (never committed), imported and recomputed by this tree. Floors:
    - import: a bare regex parse (the date from the file name) and one executemany of the
      same rows into a table with the DDL and indexes of `messages` (bench_import's floor);
    - reply features: one numpy pass over the 48 look-back slots of every message (gap,
      author, position), a 20-column matrix, its dot product, a sigmoid and the best pick,
      from arrays already in memory: the least a batched linker must do.

Each run is its own process; times are CPU seconds of that process (time.process_time, the
machine is shared; wall seconds in the JSON) and the load (uptime) is recorded beside them,
with the process's peak resident memory (``peak_rss_mb``).

`python bench/bench_recompute.py --out bench/results/recompute.json [--before REV] [--quick]`
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from hashlib import blake2b
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import machine  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "irc" / "ubuntu"
if not SHARED.is_dir():  # a worktree beside the main checkout
    SHARED = Path("/work/shared/data/irc/ubuntu")
BEFORE = "6eac26a"  # the tree before batched reply links (issue 16, item 7)
TARGET_SPEEDUP = 4.0  # first recompute of the shared logs vs the 29 s of the issue
TARGET_1M_SECONDS = 120.0  # import + first recompute of 1M messages
_LINE = re.compile(r"\[(\d{1,2}):(\d{2})(?::(\d{2}))?\] <([^>]+)>(?: (.*))?$")
_HEAD = re.compile(r"([^\s:,]{1,32})([:,])")


def _load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


# --- the 1M set --------------------------------------------------------------------------


def generate(out: Path, total: int) -> int:
    """Copies of the shared logs, dates shifted 2 days and nicks suffixed per copy, until
    ``total`` message lines are written. Returns the message lines written."""
    files = sorted(SHARED.glob("*.raw.txt"))
    written = 0
    copy = 0
    while written < total:
        for src in files:
            day = date.fromisoformat(src.name[:10]) + timedelta(days=2 * copy)
            suffix = f"_{copy}" if copy else ""
            lines = src.read_text(encoding="utf-8").splitlines()
            nicks = {m[4] for m in map(_LINE.match, lines) if m}
            kept: list[str] = []
            for line in lines:
                m = _LINE.match(line)
                if m is None:
                    kept.append(line)
                    continue
                if written >= total:
                    break
                text = m[5] or ""
                head = _HEAD.match(text)
                if suffix and head and head[1] in nicks:
                    text = f"{head[1]}{suffix}{text[len(head[1]) :]}"
                kept.append(f"{line[: m.start(4) - 1]}<{m[4]}{suffix}> {text}")
                written += 1
            name = f"{day.isoformat()}.copy{copy}{src.name[10:]}"
            (out / name).write_text("\n".join(kept) + "\n", encoding="utf-8")
            if written >= total:
                break
        copy += 1
    return written


# --- children ----------------------------------------------------------------------------


def run_ours(files: list[Path], db: Path) -> dict[str, Any]:
    """Import every file into a fresh SQLite database, then the first recompute; the
    scoring catch-up and its reply linking timed apart (CPU seconds)."""
    from zoneinfo import ZoneInfo

    import qunzhu.engines.recompute as recompute_mod
    import qunzhu.engines.scoring as scoring_mod
    from qunzhu.engines import views
    from qunzhu.importing import import_file
    from qunzhu.settings import load_settings
    from qunzhu.store.migrate import upgrade
    from qunzhu.store.session import Store

    spent = {"catch_up": 0.0, "link_replies": 0.0}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.process_time() - started

        return wrapper

    recompute_mod.catch_up = timed("catch_up", recompute_mod.catch_up)  # type: ignore[attr-defined]
    scoring_mod.link_replies = timed("link_replies", scoring_mod.link_replies)
    db.unlink(missing_ok=True)
    settings = load_settings(database_url=f"sqlite:///{db}", secret_key="b" * 40, sample_data=False)
    store = Store(settings)
    upgrade(store.engine)
    wall, cpu = time.perf_counter(), time.process_time()
    messages = 0
    try:  # the files of one `qunzhu import` run in one batch (its transactions span them)
        from qunzhu.importing import ImportBatch
    except ImportError:  # a tree before the batch: a run and its commit per file
        for path in files:
            messages += import_file(
                store, path, community="irc", group="ubuntu", fmt="irc", tz="UTC"
            )["messages"]
    else:
        with ImportBatch.of(store) as batch:
            for path in files:
                done = batch.import_file(path, community="irc", group="ubuntu", fmt="irc", tz="UTC")
                messages += done["messages"]
    import_wall, import_cpu = time.perf_counter() - wall, time.process_time() - cpu
    tz = ZoneInfo("UTC")
    with store.engine.connect() as conn, conn.begin():
        cid = views.community_id_of(conn, "irc")
        day = views.latest_data_day(conn, cid, date.today()) or date.today()
        wall, cpu = time.perf_counter(), time.process_time()
        report = recompute_mod.recompute_community(conn, cid, day, tz)
        rec_wall, rec_cpu = time.perf_counter() - wall, time.process_time() - cpu
    store.dispose()
    return {
        "messages": messages,
        "scored": report.scored.messages,
        "import_cpu": round(import_cpu, 2),
        "import_wall": round(import_wall, 2),
        "recompute_cpu": round(rec_cpu, 2),
        "recompute_wall": round(rec_wall, 2),
        "scoring_cpu": round(spent["catch_up"], 2),
        "reply_linking_cpu": round(spent["link_replies"], 2),
        "rest_cpu": round(rec_cpu - spent["catch_up"], 2),
        # the process's peak resident memory (import and recompute), in MiB
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def import_floor(files: list[Path], db: Path) -> dict[str, Any]:
    """A bare regex parse of every file and one executemany into `messages`' DDL."""
    import sqlite3

    from bench_import import _messages_ddl

    from qunzhu.store.bulk_messages import MESSAGE_COLUMNS
    from qunzhu.store.session import SQLITE_PAGE_BYTES

    def rows() -> Iterator[tuple[Any, ...]]:
        members: dict[str, int] = {}
        for path in files:
            day = path.name[:10]
            with path.open(encoding="utf-8") as f:
                for n, line in enumerate(f):
                    m = _LINE.match(line)
                    if m:
                        member = members.setdefault(m[4], len(members) + 1)
                        key = blake2b(f"{path.name}\x1f{n}".encode(), digest_size=16).hexdigest()
                        at = f"{day} {int(m[1]):02d}:{m[2]}:{m[3] or '00'}.000000"
                        yield (1, 1, member, key, str(n), at, "text", m[5] or "", None, None,
                               False, 0, False, False, None, False, None, None)  # fmt: skip

    db.unlink(missing_ok=True)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(f"PRAGMA page_size={SQLITE_PAGE_BYTES}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for statement in _messages_ddl(True):
        conn.execute(statement)
    columns = ", ".join(MESSAGE_COLUMNS)
    marks = ", ".join("?" * len(MESSAGE_COLUMNS))
    wall, cpu = time.perf_counter(), time.process_time()
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO messages ({columns}) VALUES ({marks})", rows())
    conn.execute("COMMIT")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    (n,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    conn.close()
    return {"messages": n, "cpu": round(cpu, 2), "wall": round(wall, 2)}


def features_floor(db: Path) -> dict[str, Any]:
    """One numpy pass over every message's 48 look-back slots, from arrays in memory."""
    import sqlite3

    import numpy as np

    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT member_id, CAST(strftime('%s', occurred_at) AS INTEGER) FROM messages "
        "ORDER BY occurred_at, id"
    ).fetchall()
    conn.close()
    members = np.array([r[0] for r in rows], np.int64)
    at = np.array([r[1] for r in rows], np.int64) * 1_000_000
    weights = np.linspace(-1.0, 1.0, 20)
    wall, cpu = time.perf_counter(), time.process_time()
    n, depth, chunk = len(members), 48, 20_000
    lag = np.arange(1, depth + 1)
    for start in range(0, n, chunk):
        k = np.arange(start, min(n, start + chunk))
        j = np.maximum(k[:, None] - lag[None, :], 0)
        gap = (at[k][:, None] - at[j]) / 1e6
        ok = np.logical_and.accumulate((lag[None, :] <= k[:, None]) & (gap <= 900), 1)
        ok &= members[j] != members[k][:, None]
        pos = np.cumsum(ok, 1) - 1
        ok &= pos < 12
        row, col = np.nonzero(ok)
        g, p = gap[row, col], pos[row, col]
        base = np.stack([np.log1p(g / 60), np.log1p(p), p == 0, members[j[row, col]] % 2], 1)
        x = np.tile(base, (1, 5)).astype(np.float64)  # 20 columns, as the model's
        z = x @ weights
        prob = 1.0 / (1.0 + np.exp(-z))
        grid = np.full((len(k), 12), -1.0)
        grid[row, p] = prob
        grid.argmax(1)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"messages": n, "cpu": round(cpu, 2), "wall": round(wall, 2)}


def _child(what: str, src: Path, *args: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    command = [sys.executable, __file__, "--child", what, *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{what} ({src}) failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "load": _load()}


def _child_main(argv: list[str]) -> int:
    what, rest = argv[0], argv[1:]
    if what == "ours":
        result = run_ours(sorted(Path(rest[0]).glob("*.raw.txt")), Path(rest[1]))
    elif what == "import-floor":
        result = import_floor(sorted(Path(rest[0]).glob("*.raw.txt")), Path(rest[1]))
    else:
        result = features_floor(Path(rest[0]))
    print(json.dumps(result))
    return 0


# --- main --------------------------------------------------------------------------------


# every table the import and the first recompute write, compared row for row between the
# stores of the last before and after runs; the times a row was written at are left out
SCORED_TABLES = (
    "messages", "members", "identities", "memberships", "membership_events", "event_log",
    "message_scores", "questions", "member_day_stats", "reply_edges_daily", "member_daily",
    "group_daily", "role_assignments", "role_history", "member_values", "tier_states",
    "tier_history", "group_health", "intel_alerts", "score_cursors",
)  # fmt: skip
WRITTEN_AT = {"created_at", "updated_at", "changed_at"}


def same_rows(a: Path, b: Path) -> dict[str, Any]:
    """Each table of SCORED_TABLES equal row for row (values and their SQLite types) in
    the stores ``a`` and ``b``, the times of writing aside."""
    import sqlite3

    def dump(path: Path, table: str) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(path)
        try:
            names = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            kept = ", ".join(n for n in names if n not in WRITTEN_AT)
            typed = ", ".join(f"typeof({n})" for n in names if n not in WRITTEN_AT)
            return conn.execute(f"SELECT {kept}, {typed} FROM {table} ORDER BY {kept}").fetchall()
        finally:
            conn.close()

    tables = {}
    for table in SCORED_TABLES:
        rows = dump(a, table)
        tables[table] = {"rows": len(rows), "equal": rows == dump(b, table)}
    return {"all_equal": all(t["equal"] for t in tables.values()), "tables": tables}


def shared_ab(before: str, reps: int, tmp: Path) -> dict[str, Any]:
    old = tmp / "before"
    old.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", before, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for _ in range(reps):
        for name, src in (("before", old / "src"), ("after", ROOT / "src")):
            runs[name].append(_child("ours", src, str(SHARED), str(tmp / f"{name}.db")))
            print(name, json.dumps(runs[name][-1]), flush=True)
    best = {k: min(r["recompute_cpu"] for r in v) for k, v in runs.items()}
    same = same_rows(tmp / "before.db", tmp / "after.db")
    print("same rows before/after:", same["all_equal"], flush=True)
    return {
        "before_rev": before,
        "same_rows_as_before": same,
        "runs": runs,
        "first_recompute_cpu_best": best,
        "speedup_cpu": round(best["before"] / best["after"], 2),
        "issue_baseline_seconds": 29.0,
        "vs_issue_29s": round(29.0 / best["after"], 2),
        "target_speedup": TARGET_SPEEDUP,
    }


def one_million(n: int, tmp: Path) -> dict[str, Any]:
    logs = tmp / "irc1m"
    logs.mkdir()
    written = generate(logs, n)
    ours = _child("ours", ROOT / "src", str(logs), str(tmp / "ours.db"))
    print("ours", json.dumps(ours), flush=True)
    floor_import = _child("import-floor", ROOT / "src", str(logs), str(tmp / "floor.db"))
    floor_features = _child("features-floor", ROOT / "src", str(tmp / "ours.db"))
    total = ours["import_cpu"] + ours["recompute_cpu"]
    total_wall = ours["import_wall"] + ours["recompute_wall"]
    return {
        "messages_written": written,
        "files": len(list(logs.glob("*.raw.txt"))),
        "ours": ours,
        "floors": {"import": floor_import, "reply_features": floor_features},
        "stages": {
            "import_cpu": [ours["import_cpu"], floor_import["cpu"]],
            "reply_linking_cpu": [ours["reply_linking_cpu"], floor_features["cpu"]],
            "scoring_without_linking_cpu": [
                round(ours["scoring_cpu"] - ours["reply_linking_cpu"], 2),
                None,
            ],
            "rest_of_recompute_cpu": [ours["rest_cpu"], None],
        },
        "stages_note": "[ours, floor] CPU seconds; None: no floor measured for that stage",
        "import_plus_recompute_cpu": round(total, 1),
        "import_plus_recompute_wall": round(total_wall, 1),
        "target_seconds": TARGET_1M_SECONDS,
        "target_met_cpu": total < TARGET_1M_SECONDS,
    }


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return _child_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--before", default=BEFORE, help="the commit to compare against")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="one rep, 200k for (b)")
    parser.add_argument("--only", choices=("shared", "1m"))
    args = parser.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"no #ubuntu logs at {SHARED}")
    results: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores shared with other sessions",
        "load_at_start": _load(),
        "machine_speed_at_start": machine.speed(),
        "times": "CPU seconds of the measuring process; *_wall: wall seconds",
        "database": "sqlite",
    }
    with tempfile.TemporaryDirectory(prefix="qunzhu-bench-recompute-") as tmp:
        if args.only in (None, "shared"):
            results["shared_108k"] = shared_ab(
                args.before, 1 if args.quick else args.reps, Path(tmp)
            )
        if args.only in (None, "1m"):
            size = 200_000 if args.quick else args.size
            results["irc_1m"] = one_million(size, Path(tmp))
    results["load_at_end"] = _load()
    results["machine_speed_at_end"] = machine.speed()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in results.items() if k != "shared_108k"}, indent=2))
    if "shared_108k" in results:
        s = results["shared_108k"]
        print("first recompute, shared 108,708 (best CPU s):", s["first_recompute_cpu_best"])
        print("speed-up:", s["speedup_cpu"], "vs the issue's 29 s:", s["vs_issue_29s"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
