"""Intelligence: does member value find the people who help, and how fast is the daily
recompute?

quality (../shared/data/irc/ubuntu, skipped when absent)
    Two splits of the annotated #ubuntu sessions, each measured on its held-out part only:
    ``session-hash`` (``crc32(name) % 2 == 1`` held out; the shipped reply model learned the
    other half) and ``time`` (the sessions of the last ten dates held out; a reply model is
    fitted in this run on the earlier sessions only and scores them, as a new community's
    chat comes after everything the model saw). The annotated part of each held-out session
    goes through the real path: the IRC importer, the pipeline, the value scorer
    (with the learned reply-link model). Ground truth
    from the human reply links (``i j -``): for each member, the number of distinct members
    they replied to (who helped whom), and the number who replied to them. Figures:
    Spearman correlation of member value with each, beside the floor of the same
    correlation for plain message counts, and how far value is ahead with its 95% bootstrap
    interval (members resampled, 1,000 times); and the precision / recall of the reply links
    the value engine used (importer's addressing + inference) against the annotation.

speed
    Synthetic rollups for G groups / M members / N messages (1,000 / 200,000 /
    10,000,000; --quick 100 / 20,000 / 1,000,000), and a messages table of the same N rows.
    The history counts as scored live: the catch-up cursor stands at the last message.
    Figure: the daily ``qunzhu recompute`` (catch-up from the cursor, roles, member value,
    tiers, health, alerts — read from the daily rollups, not from messages) of every
    community on the day after a first run, one core; the first run is reported beside
    it. Floor: one bare ``GROUP BY group, member, day`` over the messages table, in the
    same run. SQLite, and PostgreSQL when it answers.

    Ablations (:mod:`value_ablations`, after each split's figures, on the same store):
    value rescored with parts of it switched off through the community spec's ``value:``
    weights (answer, helped_per_member, reply_earned_per_member, substance, question,
    code/link/file, the filler and duplicate penalties), helped credit alone as a
    reference, and the reply-link threshold moved; each with its Spearman, its lead over
    message counts and its difference from the shipped weights, 95% bootstrap intervals
    from the same resamples. ``--no-ablations`` leaves them out.

`python bench/bench_intelligence.py --out bench/results/intelligence.json [--quick]`;
`--part quality` with an existing ``--out`` replaces its quality figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sqlalchemy import func, select, text

from qunzhu.adapters.importers import irc
from qunzhu.engines.catchup import CURSOR_LAG
from qunzhu.engines.reactor import ValueScorer
from qunzhu.engines.recompute import recompute_community
from qunzhu.engines.replymodel import model_in_use
from qunzhu.engines.replytrain import SPLITS, fit, held_out_names, read_sessions
from qunzhu.pipeline import Pipeline
from qunzhu.settings import load_settings
from qunzhu.store.base import table_of
from qunzhu.store.migrate import upgrade
from qunzhu.store.models import Base, Community, Identity, MemberDaily, Message
from qunzhu.store.session import Store, make_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import machine
import value_ablations

ROOT = Path(__file__).resolve().parents[1]
IRC_DIR = ROOT.parent / "shared" / "data" / "irc" / "ubuntu"
PG_URL = os.environ.get("QUNZHU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_NICK = re.compile(r"\[\d{1,2}:\d{2}(?::\d{2})?\] <([^>]+)>")


def _store(url: str) -> Store:
    store = Store(
        load_settings(database_url=url, secret_key="b" * 40, sample_data=False, timezone="UTC")
    )
    upgrade(store.engine)
    Base.metadata.create_all(store.engine)
    return store


# ---------------------------------------------------------------- quality (IRC) ---


def _annotation(path: Path) -> tuple[list[tuple[int, int]], set[int]]:
    """(reply, the line it answers) pairs, and every line the annotators judged."""
    pairs, judged = [], set()
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            # ``i j -``: line j (0-based) replies to line i; i == j starts a conversation
            a, b = int(parts[0]), int(parts[1])
            judged.add(max(a, b))
            if a != b:
                pairs.append((max(a, b), min(a, b)))
    return pairs, judged


def quality(tmp: Path, split: str = "session-hash", ablate: bool = True) -> dict[str, Any]:
    """Value against the annotation on the held-out part of ``split``, scored with a reply
    model that never saw it; then, with ``ablate``, the same with parts of value switched
    off (:mod:`value_ablations`)."""
    every = sorted(IRC_DIR.glob("*.annotation.txt"))
    kept = held_out_names((f.name.removesuffix(".annotation.txt") for f in every), split)
    files = [f for f in every if f.name.removesuffix(".annotation.txt") in kept]
    if split == "session-hash":  # the shipped model learned the other half
        return _quality(tmp, files, split, ablate)
    model, _, _ = fit([s for s in read_sessions(IRC_DIR) if s.name not in kept])
    with model_in_use(model):
        return _quality(tmp, files, split, ablate)


def _ahead_interval(value: list[float], count: list[int], gt: list[int]) -> list[float]:
    """95% bootstrap interval of Spearman(value) − Spearman(count), members resampled."""
    rng = np.random.default_rng(7)
    v, c, g = np.asarray(value), np.asarray(count), np.asarray(gt)
    diffs = []
    for _ in range(1000):
        k = rng.integers(0, len(g), len(g))
        diffs.append(spearmanr(v[k], g[k]).statistic - spearmanr(c[k], g[k]).statistic)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return [round(float(lo), 4), round(float(hi), 4)]


def _member_totals(store: Store) -> tuple[dict[str, float], dict[str, int]]:
    """Each member's summed value and message count, by IRC nick."""
    value: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    with store.engine.connect() as conn:
        nick_of = {
            m: n for m, n in conn.execute(select(Identity.member_id, Identity.platform_user_id))
        }
        for mid, v, n in conn.execute(
            select(
                MemberDaily.member_id, func.sum(MemberDaily.value), func.sum(MemberDaily.messages)
            ).group_by(MemberDaily.member_id)
        ):
            value[nick_of[mid]] += float(v)
            count[nick_of[mid]] += int(n)
    return value, count


def _quality(tmp: Path, files: list[Path], split: str, ablate: bool = True) -> dict[str, Any]:
    store = _store(f"sqlite:///{tmp / f'irc-{split}.db'}")
    events: list[Any] = []
    links: dict[str, list[tuple[int, int]]] = {}
    judged: set[tuple[str, int]] = set()  # links are scored on the lines annotators judged
    line_of: dict[tuple[str, str], int] = {}  # (group, platform message id) -> 0-based line
    author: dict[tuple[str, int], str] = {}
    for ann in files:
        raw = ann.with_name(ann.name.replace(".annotation.txt", ".raw.txt"))
        group = raw.name.removesuffix(".raw.txt")
        pairs, judged_lines = _annotation(ann)
        if not pairs:
            continue
        judged.update((group, n) for n in judged_lines)
        lo, hi = min(j for _, j in pairs), max(i for i, _ in pairs)
        lines = raw.read_bytes().splitlines()
        for n, line in enumerate(lines):  # annotation indices are 0-based raw lines
            found = _NICK.match(line.decode("utf-8", "replace"))
            if found:
                author[(group, n)] = found[1].lower()
        links[group] = pairs
        numbered = ((n + 1, b) for n, b in enumerate(lines) if lo <= n <= hi)
        for number, item in irc.parse_lines(raw, numbered, community="irc", group=group, tz=UTC):
            if isinstance(item, irc.ev.MessagePosted):
                line_of[(group, item.message_id)] = number - 1
                events.append(item)
    started = time.perf_counter()
    Pipeline(store, create_communities=True, reactors=[ValueScorer(UTC)]).run(
        events, source="bench"
    )
    scoring_s = time.perf_counter() - started
    value, count = _member_totals(store)
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT g.platform_group_id, m.platform_message_id, t.platform_message_id, "
                "u.platform_message_id FROM message_scores s "
                "JOIN messages m ON m.id = s.message_id JOIN groups g ON g.id = m.group_id "
                "LEFT JOIN messages t ON t.id = s.reply_to_id "
                "LEFT JOIN messages u ON u.id = m.reply_to_id"
            )
        ).all()
    predicted = {
        (g, line_of[(g, mid)]): line_of.get((g, tid))
        for g, mid, tid, _ in rows
        if (g, mid) in line_of and (g, line_of[(g, mid)]) in judged
    }
    # the floor: the importer's own links from addressing ("nick: ..."), without the model
    addressing = {
        (g, line_of[(g, mid)]): line_of.get((g, uid))
        for g, mid, _, uid in rows
        if uid is not None and (g, mid) in line_of
    }
    truth = {(g, i): j for g, pairs in links.items() for i, j in pairs}
    # who-helps-whom links: a line answering another member's line
    others: dict[tuple[str, int], set[int]] = defaultdict(set)
    for g, pairs in links.items():
        for i, j in pairs:
            if author.get((g, i)) and author.get((g, i)) != author.get((g, j)):
                others[(g, i)].add(j)
    replied_to: dict[str, set[str]] = defaultdict(set)
    replied_by: dict[str, set[str]] = defaultdict(set)
    for (g, i), j in truth.items():
        a, b = author.get((g, i)), author.get((g, j))
        if a and b and a != b:
            replied_to[a].add(b)
            replied_by[b].add(a)
    members = sorted(count)
    out: dict[str, Any] = {
        "split": split,
        "sessions": len(links),
        "messages": len(events),
        "members": len(members),
        "scoring_s": round(scoring_s, 2),
    }
    for name, truth_of in (
        ("replied_to_distinct", replied_to),
        ("replied_by_distinct", replied_by),
    ):
        gt = [len(truth_of.get(m, ())) for m in members]
        values, counts = [value[m] for m in members], [count[m] for m in members]
        rho_value = spearmanr(values, gt).statistic
        rho_count = spearmanr(counts, gt).statistic
        out[name] = {
            "spearman_value": round(float(rho_value), 4),
            "floor_spearman_message_count": round(float(rho_count), 4),
            "value_ahead_by": round(float(rho_value - rho_count), 4),
            "value_ahead_by_95ci": _ahead_interval(values, counts, gt),
        }
    made = {k: v for k, v in predicted.items() if v is not None}
    correct = sum(1 for k, v in made.items() if truth.get(k) == v)
    in_truth = [k for k in truth if k in predicted]
    out["reply_links"] = {
        "annotated": len(in_truth),
        "predicted": len(made),
        "precision": round(correct / len(made), 4) if made else None,
        "recall": round(correct / len(in_truth), 4) if in_truth else None,
        "floor_addressing_only_recall": round(
            sum(1 for k, v in addressing.items() if truth.get(k) == v) / len(in_truth), 4
        )
        if in_truth
        else None,
    }
    cross = {
        k: v for k, v in made.items() if author.get(k) and author.get(k) != author.get((k[0], v))
    }
    hits = sum(1 for k, v in cross.items() if v in others.get(k, ()))
    out["reply_links_between_members"] = {
        "annotated": len(others),
        "predicted": len(cross),
        "precision": round(hits / len(cross), 4) if cross else None,
        "recall": round(hits / len(others), 4) if others else None,
    }
    if ablate:  # last: each variant scores the store again
        with store.engine.connect() as conn:
            (community_id,) = conn.execute(select(Community.id)).one()
        out["ablations"] = value_ablations.run(
            store,
            community_id,
            members,
            count,
            {m: len(s) for m, s in replied_to.items()},
            lambda: _member_totals(store)[0],
        )
    store.dispose()
    return out


# ---------------------------------------------------------------- speed (synthetic) ---


def _synthetic_rows(
    groups: int, members: int, messages: int, days: int, end: date, seed: int = 11
) -> dict[str, list[tuple[Any, ...]]]:
    rng = random.Random(seed)
    communities = max(1, groups // 100)
    per_group = members // groups
    rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    rows["communities"] = [(c + 1, f"bench-{c}", f"Bench {c}") for c in range(communities)]
    weights = [rng.lognormvariate(0, 1.2) for _ in range(members)]
    scale = messages / sum(weights)
    start = end - timedelta(days=days - 1)
    mid = 0
    md_rows = rows["member_daily"]
    for g in range(groups):
        cid = g % communities + 1
        rows["groups"].append((g + 1, cid, "test", f"g{g}", f"group {g}"))
        fade = g % 10 == 0  # every tenth group is dying: its members stop talking
        for _ in range(per_group):
            mid += 1
            joined = datetime.combine(start, datetime.min.time()) - timedelta(
                days=rng.randrange(0, 120)
            )  # naive UTC, as the store keeps it
            rows["members"].append((mid, cid, f"m{mid}"))
            rows["memberships"].append((mid, cid, g + 1, mid, "active", joined, "invite"))
            total = round(weights[mid - 1] * scale)
            active = max(1, min(days, int(total**0.6)))
            chosen = rng.sample(
                range(days if not fade else days // 2), min(active, days if not fade else days // 2)
            )
            per_day = [0] * len(chosen)
            for _ in range(total):
                per_day[rng.randrange(len(chosen))] += 1
            for d, n in zip(chosen, per_day, strict=True):
                if n:
                    md_rows.append(
                        (
                            cid,
                            g + 1,
                            mid,
                            start + timedelta(days=d),
                            n,
                            round(n * rng.uniform(0.3, 1.6), 2),
                        )
                    )
    return rows


def _fill(url: str, rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, float]:
    """Tables straight from the synthetic rows (raw driver executemany / COPY)."""
    engine = make_engine(url)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    gd: dict[tuple[int, int, date], list[float]] = defaultdict(lambda: [0, 0.0])
    edges: list[tuple[Any, ...]] = []
    stats: list[tuple[Any, ...]] = []
    rng = random.Random(5)
    by_group_day: dict[tuple[int, date], list[int]] = defaultdict(list)
    community_of = {g: c for g, c, *_ in rows["groups"]}
    for c, g, m, d, n, v in rows["member_daily"]:
        s = gd[(c, g, d)]
        s[0] += n
        s[1] += v
        by_group_day[(g, d)].append(m)
        stats.append((c, g, m, d, n // 4, n // 3, n // 2))
    for (g, d), speakers in by_group_day.items():
        hubs = speakers[: max(1, len(speakers) // 10)]
        seen = set()
        for m in speakers:
            to = rng.choice(hubs)
            if to != m and (m, to) not in seen:
                seen.add((m, to))
                edges.append((community_of[g], g, d, m, to, 1))
    now = datetime.now(UTC).replace(tzinfo=None)
    tables: list[tuple[str, str, list[tuple[Any, ...]]]] = [
        ("communities", "id, slug, name, created_at", [(*r, now) for r in rows["communities"]]),
        (
            "groups",
            "id, community_id, platform, platform_group_id, name, created_at",
            [(*r, now) for r in rows["groups"]],
        ),
        (
            "members",
            "id, community_id, display_name, tags, protected, created_at",
            [(*r, "{}", False, now) for r in rows["members"]],
        ),
        (
            "memberships",
            "id, community_id, group_id, member_id, status, joined_at, join_via",
            rows["memberships"],
        ),
        (
            "member_daily",
            "community_id, group_id, member_id, day, messages, value, chars, "
            "replies_sent, check_ins, flagged",
            [(*r, 0, 0, 0, 0) for r in rows["member_daily"]],
        ),
        (
            "group_daily",
            "community_id, group_id, day, messages, value, joins, leaves, "
            "removals, check_ins, flagged, payments_cents",
            [(c, g, d, int(s[0]), s[1], 0, 0, 0, 0, 0, 0) for (c, g, d), s in gd.items()],
        ),
        (
            "member_day_stats",
            "community_id, group_id, member_id, day, questions, answers, "
            "valuable, replies_earned, reactions_earned, filler, duplicates, earned_value",
            [(*r, 0, 0, 0, 0, 0.0) for r in stats],
        ),
        (
            "reply_edges_daily",
            "community_id, group_id, day, from_member_id, to_member_id, replies",
            edges,
        ),
    ]
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        for name, columns, data in tables:
            _bulk(conn, raw, name, columns, data)
    timings["rollups_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    indexes = list(table_of(Message).indexes)
    with engine.begin() as conn:  # indexes built once after the load, not row by row
        for index in indexes:
            index.drop(conn)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        _bulk(
            conn,
            raw,
            "messages",
            "community_id, group_id, member_id, key, "
            "platform_message_id, occurred_at, kind, text, reply_inferred, reactions, "
            "forwarded, recalled, flagged",
            _message_rows(rows["member_daily"]),
        )
    with engine.begin() as conn:
        for index in indexes:
            index.create(conn)
    timings["messages_s"] = round(time.perf_counter() - started, 1)
    engine.dispose()
    return timings


def _message_rows(member_daily: list[tuple[Any, ...]]) -> Any:
    k = 0
    for c, g, m, d, n, _ in member_daily:
        base = datetime.combine(d, datetime.min.time())  # naive UTC, as the store keeps it
        for i in range(n):
            k += 1
            at = base + timedelta(seconds=(k * 7919 + i) % 86400)
            yield (c, g, m, f"k{k}", str(k), at, "text", "", False, 0, False, False, False)


def _bulk(conn: Any, raw: Any, table: str, columns: str, data: Any) -> None:
    width = columns.count(",") + 1
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
        return
    cur = raw.cursor()
    batch: list[tuple[Any, ...]] = []
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * width)})"
    for row in data:
        batch.append(tuple(x.isoformat(" ") if isinstance(x, datetime) else x for x in row))
        if len(batch) >= 50_000:
            cur.executemany(sql, batch)
            batch.clear()
    if batch:
        cur.executemany(sql, batch)
    cur.close()


def speed(url: str, rows: dict[str, list[tuple[Any, ...]]], end: date) -> dict[str, Any]:
    store = _store(url)  # the schema first, then the rows
    fill = _fill(url, rows)
    with store.engine.begin() as conn:
        # the history was scored as it arrived (the live scorer): the catch-up cursor stands
        # at the last message, as it would after yesterday's run
        conn.execute(
            text(
                "INSERT INTO score_cursors (community_id, scored_through_id, "
                "reactions_through_id, check_ins_through_id, updated_at) "
                "SELECT community_id, max(id), 0, 0, :now FROM messages GROUP BY community_id"
            ),
            {"now": datetime.now(UTC).replace(tzinfo=None)},
        )
        # ... and the messages the catch-up looks at again (CURSOR_LAG ids back) have
        # their score rows, as live-scored messages do
        day = "date(m.occurred_at)" if conn.dialect.name == "sqlite" else "m.occurred_at::date"
        conn.execute(
            text(
                "INSERT INTO message_scores (message_id, community_id, group_id, member_id, "
                f"day, value, text_hash, points, reply_inferred) SELECT m.id, m.community_id, "
                f"m.group_id, m.member_id, {day}, 1.0, '', '{{}}', false FROM messages m "
                "JOIN score_cursors c ON c.community_id = m.community_id "
                "WHERE m.id > c.scored_through_id - :lag"
            ),
            {"lag": CURSOR_LAG},
        )
    with store.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
        n_messages = conn.execute(select(func.count()).select_from(Message)).scalar()
        started = time.perf_counter()
        day_expr = "date(occurred_at)" if conn.dialect.name == "sqlite" else "occurred_at::date"
        groups = conn.execute(
            text(
                f"SELECT group_id, member_id, {day_expr}, count(*) FROM messages "
                "GROUP BY group_id, member_id, 3"
            )
        ).all()
        floor_s = time.perf_counter() - started
    # `qunzhu recompute` as the daily job runs it: catch-up from the cursor, then roles,
    # member value, tiers, health and alerts from the rollups
    started = time.perf_counter()
    alerts = scored = 0
    for community_id, _slug, _name in rows["communities"]:
        with store.engine.connect() as conn, conn.begin():
            report = recompute_community(conn, community_id, end, UTC)
            alerts += len(report.alerts)
            scored += report.scored.messages
    recompute_s = time.perf_counter() - started
    # the next day's run is the steady state: tiers exist, only changes are written
    started = time.perf_counter()
    for community_id, _slug, _name in rows["communities"]:
        with store.engine.connect() as conn, conn.begin():
            report = recompute_community(conn, community_id, end + timedelta(days=1), UTC)
            scored += report.scored.messages
    again_s = time.perf_counter() - started
    with store.engine.connect() as conn:
        roles = conn.execute(text("SELECT count(*) FROM role_assignments")).scalar()
        risky = conn.execute(text("SELECT count(*) FROM group_health WHERE death_risk >= 70"))
        dying = risky.scalar()
    store.dispose()
    return {
        "measured": (
            "recompute_s: the daily `qunzhu recompute` of every community, the day after a "
            "first run (catch-up from the cursor, roles, member value, tiers, health, "
            "alerts; all read from the daily rollups, none from messages); "
            "recompute_first_s: the very first run, which writes every role, tier state "
            "and history row; floor: one bare GROUP BY group, member, day over messages"
        ),
        "messages_scored_by_catch_up": scored,
        "messages": n_messages,
        "member_daily_rows": len(rows["member_daily"]),
        "fill": fill,
        "recompute_first_s": round(recompute_s, 2),
        "recompute_s": round(again_s, 2),
        "floor_group_by_s": round(floor_s, 2),
        "floor_rows": len(groups),
        "roles_written": roles,
        "groups_dying": dying,
        "alerts": alerts,
        "target_s": 60,
        "within_target": again_s <= 60,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--part", choices=("all", "quality", "speed"), default="all")
    parser.add_argument(
        "--split",
        choices=(*SPLITS, "both"),
        default="both",
        help="which split of the IRC sessions to measure (each on its held-out part)",
    )
    parser.add_argument(
        "--no-ablations",
        action="store_true",
        help="quality without the ablations (value with parts switched off)",
    )
    args = parser.parse_args()
    groups, members, messages = (
        (100, 20_000, 1_000_000) if args.quick else (1000, 200_000, 10_000_000)
    )
    result: dict[str, Any] = {"sizes": {"groups": groups, "members": members, "messages": messages}}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.part == "speed":
            result["quality"] = {"skipped": "--part speed"}
        elif IRC_DIR.is_dir():
            splits = SPLITS if args.split == "both" else (args.split,)
            run = {"at": datetime.now(UTC).isoformat(timespec="seconds")}
            run["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
            run.update(machine.speed())
            wall, cpu = time.perf_counter(), time.process_time()
            ablate = not args.no_ablations
            result["quality"] = {split: quality(tmp, split, ablate) for split in splits}
            run["wall_s"] = round(time.perf_counter() - wall, 1)
            run["cpu_s"] = round(time.process_time() - cpu, 1)
            run["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            result["quality"]["run"] = run
            print(json.dumps(result["quality"], indent=2), flush=True)
        else:
            result["quality"] = {"skipped": f"{IRC_DIR} not here"}
        if args.part == "quality":
            if args.out.exists():  # keep the speed part's figures: replace the quality only
                kept = json.loads(args.out.read_text())
                kept["quality"] = result["quality"]
                result = kept
            args.out.write_text(json.dumps(result, indent=2, default=str))
            return 0
        end = date(2026, 6, 30)
        rows = _synthetic_rows(groups, members, messages, 90, end)
        result["speed_sqlite"] = speed(f"sqlite:///{tmp / 'speed.db'}", rows, end)
        print(json.dumps(result["speed_sqlite"], indent=2), flush=True)
        if not args.skip_pg:
            result["speed_postgresql"] = _pg(rows, end)
            print(json.dumps(result["speed_postgresql"], indent=2), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str))
    return 0


def _pg(rows: dict[str, list[tuple[Any, ...]]], end: date) -> dict[str, Any]:
    schema = f"qz_bench_intel_{os.getpid()}"
    try:
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # no server here: say so in the results
        return {"skipped": f"PostgreSQL not available ({type(exc).__name__})"}
    try:
        sep = "&" if "?" in PG_URL else "?"
        return speed(f"{PG_URL}{sep}options=-csearch_path%3D{schema}", rows, end)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
