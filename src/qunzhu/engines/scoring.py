"""Scoring messages once, as they arrive (the pipeline's :class:`ValueScorer` reactor) or in
a catch-up over history (:mod:`qunzhu.engines.catchup`): the same function for both.

Each message's score row is inserted first, ``ON CONFLICT DO NOTHING``; only messages whose
row was really inserted add their value to the rollups, so a message is never counted
twice, whichever path sees it first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select, update

from qunzhu.engines.features import FILLER_KINDS, TextFeatures, text_features
from qunzhu.engines.replylink import MAX_CANDIDATES, WINDOW_MINUTES, Linker
from qunzhu.engines.specs import SpecCache
from qunzhu.engines.value import Context, MessageValue, score_message
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts, upsert_adding
from qunzhu.store.intelligence import MemberDayStats, MessageScore, Question, ReplyEdgeDaily
from qunzhu.store.models import GroupDaily, Member, MemberDaily, Message

STAT_COUNTERS = (
    "questions",
    "answers",
    "replies_earned",
    "reactions_earned",
    "filler",
    "duplicates",
    "valuable",
    "earned_value",
)
_IN = 500
# a question this soon after the author's previous one is the same question, reworded
ASKING_SPELL = timedelta(minutes=30)
# a credit on a day with no message yet makes the rollup row: its counters start at zero
_ZERO_MEMBER = dict.fromkeys(("messages", "chars", "replies_sent", "check_ins", "flagged"), 0)
_ZERO_GROUP = dict.fromkeys(
    ("messages", "joins", "leaves", "removals", "check_ins", "flagged", "payments_cents"), 0
)


@dataclass(slots=True)
class MsgRow:
    id: int
    community_id: int
    group_id: int
    member_id: int
    day: date
    occurred_at: datetime
    text: str
    kind: str
    flagged: bool
    reply_to_id: int | None
    recalled: bool = False
    reply_inferred: bool = False  # the importer guessed reply_to_id (from addressing)


def chunked(values: Iterable[Any], size: int = _IN) -> Iterable[list[Any]]:
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Credits:
    """Value and counters to add to the daily rollups, summed before one write each."""

    def __init__(self) -> None:
        self.member_value: dict[tuple[int, int, int, date], float] = defaultdict(float)
        self.group_value: dict[tuple[int, int, date], float] = defaultdict(float)
        self.stats: dict[tuple[int, int, int, date], dict[str, float]] = defaultdict(
            lambda: dict.fromkeys(STAT_COUNTERS, 0)
        )
        self.edges: dict[tuple[int, int, date, int, int], int] = defaultdict(int)

    def value(self, c: int, g: int, m: int, d: date, v: float) -> None:
        if v:
            self.member_value[(c, g, m, d)] += v
            self.group_value[(c, g, d)] += v

    def count(self, c: int, g: int, m: int, d: date, name: str, n: float = 1) -> None:
        self.stats[(c, g, m, d)][name] += n

    def write(self, conn: Connection) -> None:
        upsert_adding(
            conn,
            table_of(MemberDaily),
            [
                {
                    "community_id": c,
                    "group_id": g,
                    "member_id": m,
                    "day": d,
                    "value": v,
                    **_ZERO_MEMBER,
                }
                for (c, g, m, d), v in self.member_value.items()
            ],
            ("group_id", "member_id", "day"),
            ("value",),
        )
        upsert_adding(
            conn,
            table_of(GroupDaily),
            [
                {"community_id": c, "group_id": g, "day": d, "value": v, **_ZERO_GROUP}
                for (c, g, d), v in self.group_value.items()
            ],
            ("group_id", "day"),
            ("value",),
        )
        upsert_adding(
            conn,
            table_of(MemberDayStats),
            [
                {"community_id": c, "group_id": g, "member_id": m, "day": d, **counts}
                for (c, g, m, d), counts in self.stats.items()
            ],
            ("group_id", "member_id", "day"),
            STAT_COUNTERS,
        )
        upsert_adding(
            conn,
            table_of(ReplyEdgeDaily),
            [
                {
                    "community_id": c,
                    "group_id": g,
                    "day": d,
                    "from_member_id": f,
                    "to_member_id": t,
                    "replies": n,
                }
                for (c, g, d, f, t), n in self.edges.items()
            ],
            ("group_id", "day", "from_member_id", "to_member_id"),
            ("replies",),
        )


def _in(name: str) -> Any:
    return bindparam(name, expanding=True)


# The reads of every scored batch, built once: on the live path (a batch of one message)
# building a select and its cache key cost several times running it.
_m, _q, _s, _e, _mem = (
    table_of(Message),
    table_of(Question),
    table_of(MessageScore),
    table_of(ReplyEdgeDaily),
    table_of(Member),
)
_TARGETS = (
    select(_m.c.id, _m.c.member_id, _q.c.message_id)
    .select_from(_m.outerjoin(_q, _q.c.message_id == _m.c.id))
    .where(_m.c.id.in_(_in("ids")))
)
_RECENT_HASHES = (
    select(_s.c.group_id, _s.c.member_id, _s.c.text_hash, func.max(_s.c.day))
    .where(
        _s.c.group_id.in_(_in("groups")),
        _s.c.text_hash.in_(_in("hashes")),
        _s.c.day >= bindparam("first_day"),
    )
    .group_by(_s.c.group_id, _s.c.member_id, _s.c.text_hash)
)
_EARLIER_REPLIERS = select(_s.c.reply_to_id, _s.c.member_id).where(
    _s.c.reply_to_id.in_(_in("targets"))
)
_EARLIER_PAIRS = select(_e.c.group_id, _e.c.day, _e.c.from_member_id, _e.c.to_member_id).where(
    _e.c.group_id.in_(_in("groups")),
    _e.c.day.in_(_in("days")),
    _e.c.from_member_id.in_(_in("members")),
)
_LAST_ASKED = (
    select(_q.c.group_id, _q.c.member_id, func.max(_q.c.asked_at))
    .where(
        _q.c.group_id.in_(_in("groups")),
        _q.c.member_id.in_(_in("members")),
        _q.c.asked_at >= bindparam("since"),
    )
    .group_by(_q.c.group_id, _q.c.member_id)
)
# the author's display name comes along: the linker needs it, and a batch's own authors
# have mostly spoken in the window too, which spares _names' read
_CONTEXT = (
    select(
        _m.c.id, _m.c.member_id, _m.c.occurred_at, _m.c.text, _q.c.message_id, _mem.c.display_name
    )
    .select_from(
        _m.outerjoin(_q, _q.c.message_id == _m.c.id).outerjoin(_mem, _mem.c.id == _m.c.member_id)
    )
    .where(
        _m.c.group_id == bindparam("group"),
        _m.c.occurred_at < bindparam("first"),
        _m.c.occurred_at >= bindparam("since"),
    )
    .order_by(_m.c.occurred_at.desc())
    .limit(2 * MAX_CANDIDATES)
)
_NAMES = select(_mem.c.id, _mem.c.display_name).where(_mem.c.id.in_(_in("ids")))
_SET_VALUE = update(_m).where(_m.c.id == bindparam("b_id")).values(value=bindparam("b_value"))
_ANSWERED = (
    update(_q)
    .where(_q.c.message_id == bindparam("q"))
    .where(or_(_q.c.answered_at.is_(None), _q.c.answered_at > bindparam("t")))
    .values(answered_at=bindparam("t"), answer_member_id=bindparam("m"))
)


def _targets(
    conn: Connection, rows: list[MsgRow], feats: dict[int, TextFeatures]
) -> dict[int, tuple[int, bool]]:
    """Reply targets: id → (author, is a question), from this batch or the store."""
    found = {r.id: (r.member_id, feats[r.id].question) for r in rows}
    wanted = {r.reply_to_id for r in rows if r.reply_to_id and r.reply_to_id not in found}
    for part in chunked(sorted(wanted)):
        for mid, author, question in conn.execute(_TARGETS, {"ids": part}):
            found[mid] = (author, question is not None)
    return found


def _recent_hashes(
    conn: Connection, rows: list[MsgRow], feats: dict[int, TextFeatures]
) -> dict[tuple[int, int, str], date]:
    seen: dict[tuple[int, int, str], date] = {}
    hashes = {feats[r.id].text_hash for r in rows if not feats[r.id].filler}
    groups = sorted({r.group_id for r in rows})
    first_day = min((r.day for r in rows), default=None)
    for part in chunked(sorted(hashes)):
        params = {"groups": groups, "hashes": part, "first_day": first_day}
        for g, mem, h, d in conn.execute(_RECENT_HASHES, params):
            seen[(g, mem, h)] = d
    return seen


def _earlier_repliers(conn: Connection, targets: set[int]) -> set[tuple[int, int]]:
    """(target, replier) pairs already scored: a replier earns the author credit once."""
    pairs: set[tuple[int, int]] = set()
    for part in chunked(sorted(targets)):
        pairs.update((t, r) for t, r in conn.execute(_EARLIER_REPLIERS, {"targets": part}))
    return pairs


def _earlier_pairs(
    conn: Connection, pairs: set[tuple[int, date, int, int]]
) -> set[tuple[int, date, int, int]]:
    """(group, day, replier, author) pairs that already have a reply that day: the replier
    helped that member already (the edges rollup keeps them)."""
    if not pairs:
        return set()
    groups = sorted({g for g, _, _, _ in pairs})
    days = sorted({d for _, d, _, _ in pairs})
    found: set[tuple[int, date, int, int]] = set()
    for part in chunked(sorted({m for _, _, m, _ in pairs})):
        params = {"groups": groups, "days": days, "members": part}
        found.update((g, d, f, t) for g, d, f, t in conn.execute(_EARLIER_PAIRS, params))
    return found & pairs


def _last_asked(conn: Connection, rows: list[MsgRow]) -> dict[tuple[int, int], datetime]:
    """Each asker's latest question stored before, by (group, member), from the asking
    spell before the batch's first message on."""
    if not rows:
        return {}
    since = min(r.occurred_at for r in rows) - ASKING_SPELL
    groups = sorted({r.group_id for r in rows})
    found: dict[tuple[int, int], datetime] = {}
    for part in chunked(sorted({r.member_id for r in rows})):
        params = {"groups": groups, "members": part, "since": since}
        found.update({(g, m): at for g, m, at in conn.execute(_LAST_ASKED, params)})
    return found


def _context(conn: Connection, rows: list[MsgRow]) -> dict[int, list[Any]]:
    """The messages just before each group's first row: what the linker starts from."""
    firsts: dict[int, datetime] = {}
    for r in rows:
        if r.group_id not in firsts or r.occurred_at < firsts[r.group_id]:
            firsts[r.group_id] = r.occurred_at
    out: dict[int, list[Any]] = {}
    for g, first in firsts.items():
        since = first - timedelta(minutes=WINDOW_MINUTES)
        rows_before = conn.execute(_CONTEXT, {"group": g, "first": first, "since": since})
        out[g] = list(reversed(list(rows_before)))
    return out


def _names(conn: Connection, ids: set[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for part in chunked(sorted(ids)):
        names.update({i: n or "" for i, n in conn.execute(_NAMES, {"ids": part})})
    return names


def link_replies(
    conn: Connection,
    rows: list[MsgRow],
    feats: dict[int, TextFeatures],
    targets: dict[int, tuple[int, bool]],
) -> dict[int, tuple[int, bool, float]]:
    """Each row's reply target as id → (target id, inferred, probability); the inferred
    targets' authors are added to ``targets``.

    A platform's own reply link is kept (probability 1). Where there is none, or only an
    importer's guess from addressing, the learned model decides; the importer's guess
    stands (probability 0) only when the model has no candidate above its threshold —
    e.g. the addressed member's message is older than the model's window.
    """
    context = _context(conn, rows)
    named = {c[1]: c[5] or "" for cs in context.values() for c in cs}
    named.update(_names(conn, {r.member_id for r in rows} - named.keys()))
    # by id, as the one read by id gave them: of two members with one name, the later wins
    names = dict(sorted(named.items()))
    linkers: dict[int, Linker] = {}
    for g, seed in context.items():
        linker = linkers[g] = Linker(names=names)
        for mid, author, at, text, question, _name in seed:
            linker.remember(linker.prepare(mid, author, at, text or "", question is not None))
    out: dict[int, tuple[int, bool, float]] = {}
    for r in rows:
        linker = linkers[r.group_id]
        f = feats[r.id]
        said = linker.prepare(r.id, r.member_id, r.occurred_at, r.text, f.question)
        given = r.reply_to_id if not r.reply_inferred else None
        infer = given is None and r.kind not in FILLER_KINDS and not r.flagged
        found = linker.link(said, given, infer=infer)
        if found is not None:
            asked = found.question or linker.asked_recently(found.member_id, said.at)
            targets[found.id] = (found.member_id, asked)
        if given is not None:
            out[r.id] = (given, False, 1.0)
        elif found is not None:
            out[r.id] = (found.id, True, round(said.probability, 3))
        elif r.reply_to_id is not None:
            out[r.id] = (r.reply_to_id, True, 0.0)
    return out


def score_rows(conn: Connection, specs: SpecCache, rows: list[MsgRow]) -> dict[int, MessageValue]:
    """Score messages not scored before; add their value to the rollups. Returns the new
    scores by message id."""
    if not rows:
        return {}
    rows = sorted(rows, key=lambda r: (r.occurred_at, r.id))
    feats = {r.id: text_features(r.text, r.kind) for r in rows}
    targets = _targets(conn, rows, feats)
    links = link_replies(conn, rows, feats, targets)
    seen = _recent_hashes(conn, rows, feats)
    replied_before = _earlier_repliers(conn, {link[0] for link in links.values()})
    pairs = {
        (r.group_id, r.day, r.member_id, targets[links[r.id][0]][0])
        for r in rows
        if r.id in links and links[r.id][0] in targets
    }
    helped = _earlier_pairs(conn, pairs)
    asked = _last_asked(conn, [r for r in rows if feats[r.id].question])
    scores: dict[int, MessageValue] = {}
    score_rows_out: list[dict[str, Any]] = []
    for r in rows:
        f = feats[r.id]
        link = links.get(r.id)
        target = targets.get(link[0]) if link else None
        first = False
        if target is not None and target[0] != r.member_id and not f.filler and not r.flagged:
            pair = (r.group_id, r.day, r.member_id, target[0])
            first = pair not in helped
            helped.add(pair)
        # answer points once per member helped and day, like the helped credit: a long
        # back-and-forth with one person is not ten answers
        answer = first and target is not None and target[1]
        dup_key = (r.group_id, r.member_id, f.text_hash)
        last = seen.get(dup_key)
        duplicate = not f.filler and last is not None and (r.day - last).days <= 1
        if not f.filler:
            seen[dup_key] = r.day
        lately = False
        if f.question and not r.flagged:
            before = asked.get((r.group_id, r.member_id))
            lately = before is not None and timedelta(0) <= r.occurred_at - before <= ASKING_SPELL
            asked[(r.group_id, r.member_id)] = r.occurred_at
        ctx = Context(
            answer=answer,
            helped=first,
            asked_lately=lately,
            duplicate=duplicate,
            flagged=r.flagged,
            recalled=r.recalled,
        )
        scored = score_message(f, ctx, specs.get(conn, r.community_id).weights)
        scores[r.id] = scored
        score_rows_out.append(
            {
                "message_id": r.id,
                "community_id": r.community_id,
                "group_id": r.group_id,
                "member_id": r.member_id,
                "day": r.day,
                "value": scored.value,
                "text_hash": f.text_hash,
                "points": scored.points,
                "reply_to_id": link[0] if link else None,
                "reply_inferred": link[1] if link else False,
                "reply_probability": link[2] if link else None,
            }
        )
    s = table_of(MessageScore)
    new_ids: set[int] = set()
    for part in chunked(score_rows_out, 2000):
        new_ids.update(i for (i,) in insert_ignoring_conflicts(conn, s, part, s.c.message_id))
    fresh = [r for r in rows if r.id in new_ids]
    _apply(conn, specs, fresh, feats, scores, targets, links, replied_before)
    return {i: scores[i] for i in new_ids}


def _apply(
    conn: Connection,
    specs: SpecCache,
    rows: list[MsgRow],
    feats: dict[int, TextFeatures],
    scores: dict[int, MessageValue],
    targets: dict[int, tuple[int, bool]],
    links: dict[int, tuple[int, bool, float]],
    replied_before: set[tuple[int, int]],
) -> None:
    credits = Credits()
    questions: list[dict[str, Any]] = []
    answered: list[dict[str, Any]] = []
    for r in rows:
        f, sc = feats[r.id], scores[r.id]
        c, g, m, d = r.community_id, r.group_id, r.member_id, r.day
        credits.value(c, g, m, d, sc.value)
        if f.question and not r.flagged:
            credits.count(c, g, m, d, "questions")
            questions.append(
                {
                    "message_id": r.id,
                    "community_id": c,
                    "group_id": g,
                    "member_id": m,
                    "asked_at": r.occurred_at,
                    "answered_at": None,
                    "answer_member_id": None,
                }
            )
        credits.count(c, g, m, d, "filler", int(f.filler))
        credits.count(c, g, m, d, "duplicates", int("duplicate" in sc.points))
        credits.count(c, g, m, d, "valuable", int(sc.valuable))
        link = links.get(r.id)
        target = targets.get(link[0]) if link else None
        if link is None or target is None or target[0] == m:
            continue
        author, to = target[0], link[0]
        credits.edges[(c, g, d, m, author)] += 1
        if "answer" in sc.points:
            credits.count(c, g, m, d, "answers")
            answered.append({"q": to, "t": r.occurred_at, "m": m})
        if (to, m) not in replied_before and not r.flagged:
            # a "thanks" earns the author credit too: it says their message helped
            replied_before.add((to, m))
            earned = specs.get(conn, c).weights.reply_earned_per_member
            credits.value(c, g, author, d, earned)
            credits.count(c, g, author, d, "replies_earned")
            credits.count(c, g, author, d, "earned_value", earned)
    insert_ignoring_conflicts(conn, table_of(Question), questions)
    if answered:
        conn.execute(_ANSWERED, answered)
    values = [{"b_id": r.id, "b_value": scores[r.id].value} for r in rows]
    if values:
        conn.execute(_SET_VALUE, values)
    credits.write(conn)


ProgressFn = Callable[[int], None]
