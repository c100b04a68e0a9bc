"""Chat-export imports per format, beside the floor: a bare parse + one executemany.

For each format, bench/gen_exports.py writes a synthetic export of N messages (with joins,
leaves, replies); then, each in its own process (so peak memory is its own):

- ``parse``: the importer's parser alone, every message an Event (``importers.parse``);
- ``import``: ``qunzhu.importing.import_file`` into a fresh SQLite database (detection,
  streaming parse, members resolved, replies linked, memberships, rollups), messages/s and
  peak RSS; then ``reimport``: the same file again, which must add nothing;
- ``floor``: the least any importer must do — parse the same file with the plainest code
  (a regex, csv.reader, ijson.items) and insert the same rows (every column of `messages`,
  a hashed idempotency key, member ids from a dict) with one ``executemany`` in one
  transaction into a table made from the DDL of `messages`: its unique key and indexes are
  work no importer may skip;
- ``bare``: the same rows into a table without secondary indexes (for reference).

With the real #ubuntu logs at hand (../shared/data) it also reports how often an inferred
IRC reply agrees with the human reply annotation (precision).

Rates are messages per CPU second of the measuring process (time.process_time), because
the machine is shared and wall time depends on the neighbours; wall rates are in the JSON.

`python bench/bench_import.py --out bench/results/import.json [--quick | --size N]`
(default 1M messages per format, as `make bench` is asked to; --quick 20k; --full is the default,
kept for old command lines).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from hashlib import blake2b
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_exports  # noqa: E402
import machine  # noqa: E402

TARGET_MSGS_PER_S = {"irc": 50_000, "wechat-csv": 50_000}
TARGET_VS_FLOOR = 3.0
TARGET_RSS_MB = 400
FLOOR_NOTE = (
    "floor: bare regex/csv/ijson parse + one executemany of the same rows (every column, a "
    "hashed key, member ids from a dict) into a table with the DDL and indexes of `messages`; "
    "bare: the same into a table without secondary indexes (reference only)"
)
SHARED = HERE.parent.parent / "shared" / "data" / "irc" / "ubuntu"


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- the floor: plainest parse per format, one executemany -------------------------------
#
# The issue's floor is "a bare script that parses the same file and inserts the same rows
# with one executemany into SQLite". The same rows are the rows `messages` holds: every
# column, an idempotency key (a content hash: without one a re-run would store everything
# twice), a member id (from a plain dict), the time as the store writes it; and they go into
# a table made from the very DDL of `messages` (its unique key and indexes), under the same
# page cache the importer gets. A floor without those indexes measures a table no importer
# may write; it is reported too ("bare floor"), for reference, beside its ratio.

_IRC = re.compile(r"\[(\d\d):(\d\d)\] <([^>]+)> (.*)")
_QQ = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (.*?)\((\d+)\)$")
_WA = re.compile(r"(\d+)/(\d+)/(\d+), (\d+):(\d+) ([AP])M - ([^:]+): (.*)")
# platform id, time as stored ("YYYY-MM-DD HH:MM:SS.ffffff"), sender, text, reply to
Parsed = tuple[str, str, str, str, str | None]


def _stamp(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat(" ")[:19] + ".000000"


def _parsed(fmt: str, path: Path) -> Iterator[Parsed]:
    """The messages of ``path`` by the plainest code for its format (a regex, csv.reader,
    ijson.items), no validation, no member events."""
    import ijson

    if fmt == "irc":
        day = gen_exports.START.date().isoformat()  # the date in the file's name
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f):
                m = _IRC.match(line)
                if m:
                    yield str(n), f"{day} {m[1]}:{m[2]}:00.000000", m[3], m[4], None
    elif fmt == "wechat-csv":
        with path.open(encoding="utf-8", newline="") as f:
            rows = csv.reader(f)
            next(rows)
            for row in rows:
                if row[2] != "10000":
                    yield row[0], _stamp(int(row[5])), row[9], row[7], None
    elif fmt in ("telegram-json", "discord-json"):
        with path.open("rb") as f:
            for m in ijson.items(f, "messages.item"):
                if fmt == "telegram-json" and m["type"] == "message":
                    reply = m.get("reply_to_message_id")
                    yield (
                        str(m["id"]),
                        _stamp(int(m["date_unixtime"])),
                        m["from_id"],
                        str(m["text"]),
                        None if reply is None else str(reply),
                    )
                elif fmt == "discord-json" and m["type"] != "GuildMemberJoin":
                    ref = (m.get("reference") or {}).get("messageId")
                    at = datetime.fromisoformat(m["timestamp"]).astimezone(UTC)
                    yield m["id"], at.isoformat(" ")[:19] + ".000000", m["author"]["id"], \
                        m["content"], ref  # fmt: skip
    elif fmt == "qq-txt":
        head: tuple[str, str, str] | None = None
        body: list[str] = []
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f):
                m = _QQ.match(line)
                if m:
                    if head and head[2] != "10000":
                        yield head[0], head[1], head[2], "".join(body).strip(), None
                    head, body = (str(n), m[1] + ".000000", m[3]), []
                elif head:
                    body.append(line)
        if head and head[2] != "10000":
            yield head[0], head[1], head[2], "".join(body).strip(), None
    elif fmt == "whatsapp-txt":
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f):
                m = _WA.match(line)
                if m:
                    hour = int(m[4]) % 12 + (12 if m[6] == "P" else 0)
                    at = f"20{m[3]}-{int(m[1]):02d}-{int(m[2]):02d} {hour:02d}:{m[5]}:00.000000"
                    yield str(n), at, m[7], m[8], None


def _floor_rows(fmt: str, path: Path) -> Iterator[tuple[Any, ...]]:
    """Rows in the column order of `messages` (bar its id)."""
    members: dict[str, int] = {}
    for platform_id, at, sender, text, reply in _parsed(fmt, path):
        member = members.setdefault(sender, len(members) + 1)
        key = blake2b(f"{fmt}\x1f{platform_id}\x1f{sender}".encode(), digest_size=16).hexdigest()
        yield (1, 1, member, key, platform_id, at, "text", text, reply, None, False, 0, False,
               False, None, False, None, None)  # fmt: skip


def _messages_ddl(indexed: bool) -> list[str]:
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    from qunzhu.store.base import table_of
    from qunzhu.store.models import Message

    table = table_of(Message)
    if not indexed:
        return [
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, community_id, group_id, member_id, "
            "key, platform_message_id, occurred_at, kind, text, reply_to_platform_id, "
            "reply_to_id, reply_inferred, reactions, forwarded, recalled, edited_text, flagged, "
            "value, raw)"
        ]
    dialect = sqlite.dialect()
    return [str(CreateTable(table).compile(dialect=dialect))] + [
        str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes
    ]


def floor(fmt: str, path: Path, workdir: Path, *, indexed: bool = True) -> dict[str, Any]:
    from qunzhu.store.bulk_messages import MESSAGE_COLUMNS
    from qunzhu.store.session import SQLITE_PAGE_BYTES
    from qunzhu.store.write_strategies import BULK_CACHE_KIB

    db = workdir / f"floor-{fmt}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(f"PRAGMA page_size={SQLITE_PAGE_BYTES}")  # as the product's databases
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    for statement in _messages_ddl(indexed):
        conn.execute(statement)
    columns = ", ".join(MESSAGE_COLUMNS)
    marks = ", ".join("?" * len(MESSAGE_COLUMNS))
    started, cpu = time.perf_counter(), time.process_time()
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO messages ({columns}) VALUES ({marks})", _floor_rows(fmt, path))
    conn.execute("COMMIT")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    (rows,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    conn.close()
    return {"messages": rows, "seconds": seconds, "cpu": cpu, "peak_rss_mb": _rss_mb()}


# --- ours ------------------------------------------------------------------------------


def ours(fmt: str, path: Path, workdir: Path) -> dict[str, Any]:
    from qunzhu.importing import import_file
    from qunzhu.settings import load_settings
    from qunzhu.store.migrate import upgrade
    from qunzhu.store.session import Store

    db = workdir / f"import-{fmt}.db"
    db.unlink(missing_ok=True)
    settings = load_settings(database_url=f"sqlite:///{db}", secret_key="b" * 40, sample_data=False)
    store = Store(settings)
    upgrade(store.engine)
    from zoneinfo import ZoneInfo

    from qunzhu.adapters import importers

    cpu = time.process_time()
    parsed = sum(
        1 for _ in importers.parse(path, fmt, community="b", group="g", tz=ZoneInfo("UTC"))
    )
    parse_cpu = time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    first = import_file(store, path, community="bench", group="g", fmt="auto", tz="UTC")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rss = _rss_mb()
    assert first["format"] == fmt, first["format"]
    assert first["added"] == first["messages"], (first["added"], first["messages"])
    recpu = time.process_time()
    again = import_file(store, path, community="bench", group="g", fmt=fmt, tz="UTC")
    recpu = time.process_time() - recpu
    assert again["added"] == 0 and again["added_events"] == 0, again
    store.dispose()
    keys = ("messages", "members", "joins", "leaves", "invites", "replies", "quarantined")
    return {
        **{k: first[k] for k in keys},
        "events": parsed,
        "seconds": seconds,
        "cpu": cpu,
        "parse_cpu": parse_cpu,
        "reimport_cpu": recpu,
        "peak_rss_mb": rss,
    }


def _child(what: str, fmt: str, path: Path, workdir: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", what, fmt, str(path), str(workdir)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{what} {fmt} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def irc_precision() -> dict[str, Any]:
    if not SHARED.is_dir():
        return {"skipped": f"no annotated IRC logs at {SHARED}"}
    sys.path.insert(0, str(HERE.parent / "tests" / "adapters"))
    from test_importer_irc import inferred_reply_precision

    right, judged = inferred_reply_precision(sorted(SHARED.glob("*.raw.txt")))
    return {
        "files": len(list(SHARED.glob("*.raw.txt"))),
        "judged": judged,
        "right": right,
        "precision": round(right / judged, 3) if judged else None,
        "baseline": "a reply to the addressed member's latest message",
    }


def measure(fmt: str, n: int, workdir: Path) -> dict[str, Any]:
    path = gen_exports.write(fmt, workdir, n)
    size_mb = path.stat().st_size / 2**20
    ours_ = _child("import", fmt, path, workdir)
    floor_ = _child("floor", fmt, path, workdir)
    bare = _child("bare", fmt, path, workdir)
    path.unlink()
    n_msgs = ours_["messages"]
    if floor_["messages"] != n_msgs:
        raise SystemExit(f"{fmt}: the floor stored {floor_['messages']} rows, we {n_msgs}")
    rate = n_msgs / ours_["cpu"]
    floor_rate = floor_["messages"] / floor_["cpu"]
    bare_rate = bare["messages"] / bare["cpu"]
    timing = ("seconds", "cpu", "parse_cpu", "reimport_cpu")
    row = {
        "file_mb": round(size_mb, 1),
        **{k: v for k, v in ours_.items() if k not in timing},
        "import_msgs_per_s": round(rate),
        "import_msgs_per_s_wall": round(n_msgs / ours_["seconds"]),
        "parse_only_msgs_per_s": round(n_msgs / ours_["parse_cpu"]),
        "reimport_msgs_per_s": round(n_msgs / ours_["reimport_cpu"]),
        "floor_msgs_per_s": round(floor_rate),
        "floor_msgs_per_s_wall": round(floor_["messages"] / floor_["seconds"]),
        "floor_messages": floor_["messages"],
        "floor_peak_rss_mb": floor_["peak_rss_mb"],
        "vs_floor": round(floor_rate / rate, 2),
        "bare_floor_msgs_per_s": round(bare_rate),
        "vs_bare_floor": round(bare_rate / rate, 2),
    }
    target = TARGET_MSGS_PER_S.get(fmt)
    row["targets"] = {
        "msgs_per_s": target,
        "msgs_per_s_met": None if target is None else rate >= target,
        "vs_floor_met": row["vs_floor"] <= TARGET_VS_FLOOR,
        "rss_met": ours_["peak_rss_mb"] < TARGET_RSS_MB,
    }
    return row


def _print_table(results: dict[str, Any]) -> None:
    print("msgs/s per CPU second of the process (the machine is shared); wall-clock in JSON")
    print(FLOOR_NOTE)
    print(
        f"{'format':<14}{'msgs':>10}{'import/s':>10}{'parse/s':>10}{'floor/s':>10}"
        f"{'×floor':>8}{'bare/s':>10}{'×bare':>7}{'RSS MB':>8}{'floor RSS':>10}"
    )
    for fmt, r in results["formats"].items():
        print(
            f"{fmt:<14}{r['messages']:>10,}{r['import_msgs_per_s']:>10,}"
            f"{r['parse_only_msgs_per_s']:>10,}{r['floor_msgs_per_s']:>10,}"
            f"{r['vs_floor']:>8}{r['bare_floor_msgs_per_s']:>10,}{r['vs_bare_floor']:>7}"
            f"{r['peak_rss_mb']:>8}{r['floor_peak_rss_mb']:>10}"
        )
    print("IRC inferred replies vs annotation:", results["irc_inferred_reply_precision"])


def _chunk_size() -> int:
    from qunzhu.settings import load_settings

    size: int = load_settings(secret_key="b" * 40).bulk_import_chunk_size
    return size


def _batch_records() -> int:
    from qunzhu.store.write_strategies import BULK_BATCH_RECORDS

    return BULK_BATCH_RECORDS


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        what, fmt, path, workdir = sys.argv[2:6]
        if what == "import":
            result = ours(fmt, Path(path), Path(workdir))
        else:
            result = floor(fmt, Path(path), Path(workdir), indexed=what == "floor")
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="20k messages per format")
    size.add_argument("--full", action="store_true", help="1M messages per format (the default)")
    size.add_argument("--size", type=int, help="messages per format")
    parser.add_argument("--formats", default=",".join(gen_exports.WRITERS))
    args = parser.parse_args()
    n = 20_000 if args.quick else args.size or 1_000_000
    results: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores (one used), shared: load {os.getloadavg()[0]:.1f}",
        "machine_speed_at_start": machine.speed(),
        "rates": "messages per CPU second of the measuring process; *_wall: per wall second",
        "messages_per_format": n,
        "database": "sqlite",
        "bulk_import_chunk_size": _chunk_size(),
        "bulk_batch_records": _batch_records(),
        "floor": FLOOR_NOTE,
        "targets": {
            "msgs_per_s": TARGET_MSGS_PER_S,
            "vs_floor": TARGET_VS_FLOOR,
            "peak_rss_mb": TARGET_RSS_MB,
        },
        "formats": {},
    }
    with tempfile.TemporaryDirectory(prefix="qunzhu-bench-import-") as tmp:
        for fmt in args.formats.split(","):
            results["formats"][fmt] = measure(fmt, n, Path(tmp))
            print(fmt, json.dumps(results["formats"][fmt]), flush=True)
    results["irc_inferred_reply_precision"] = irc_precision()
    results["machine_speed_at_end"] = machine.speed()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    _print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
