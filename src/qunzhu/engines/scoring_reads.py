"""The reads of scoring a batch of messages: what the store already knows that the batch's
decisions depend on (reply targets, the linker's recent context, names, recent text hashes,
who replied to whom before, each asker's last question). Reads only; the statements are
built once, as on the live path (a batch of one message) building a select and its cache
key cost several times running it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from qunzhu.engines.features import TextFeatures
from qunzhu.engines.replylink import MAX_CANDIDATES, WINDOW_MINUTES
from qunzhu.spec.members import ValueWeights
from qunzhu.store.base import table_of
from qunzhu.store.intelligence import MessageScore, Question, ReplyEdgeDaily
from qunzhu.store.models import Member, Message

_IN = 500
# a question this soon after the author's previous one is the same question, reworded
ASKING_SPELL = timedelta(minutes=30)


@dataclass(slots=True)
class MsgRow:
    """A stored message to score, as the live scorer or the catch-up read it."""

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


def reply_targets(
    conn: Connection, rows: list[MsgRow], feats: dict[int, TextFeatures]
) -> dict[int, tuple[int, bool]]:
    """Reply targets: id → (author, is a question), from this batch or the store."""
    found = {r.id: (r.member_id, feats[r.id].question) for r in rows}
    wanted = {r.reply_to_id for r in rows if r.reply_to_id and r.reply_to_id not in found}
    for part in chunked(sorted(wanted)):
        for mid, author, question in conn.execute(_TARGETS, {"ids": part}):
            found[mid] = (author, question is not None)
    return found


@dataclass
class SaidThisRun:
    """The (group, member, text hash) → latest day of every message a catch-up scored so
    far, when the community had no scores before it (a first recompute): then the store
    holds nothing else, and a page need not look its hashes up. That look-up can only
    seek on the group (the index runs group, member, hash), so over a first catch-up it
    would read every score once per page."""

    days: dict[tuple[int, int, str], date] = field(default_factory=dict)
    # the same for :func:`earlier_repliers`: each message replied to → who replied
    repliers: dict[int, set[int]] = field(default_factory=dict)
    # and :func:`member_names`' answers so far (a catch-up changes no member)
    names: dict[int, str] = field(default_factory=dict)
    # every score of the run by all it depends on (see score_batch), and each score's
    # points as written (by the score's id: ``values`` keeps every score alive): a first
    # recompute has a few thousand distinct scores, and a page would make and encode
    # each of its own again (about 1,400 of 5,000 messages)
    values: dict[tuple[object, ...], Any] = field(default_factory=dict)
    points: dict[int, Any] = field(default_factory=dict)

    def replied(self, targets: set[int]) -> set[tuple[int, int]]:
        """What :func:`earlier_repliers` reads: the score rows written so far."""
        repliers = self.repliers
        return {(t, m) for t in targets if t in repliers for m in repliers[t]}

    def add_replies(self, rows: list[MsgRow], links: dict[int, Any]) -> None:
        """The (reply_to_id, member_id) of the score rows of ``rows`` just written."""
        repliers = self.repliers
        for r in rows:
            link = links.get(r.id)
            if link is not None:
                repliers.setdefault(link[0], set()).add(r.member_id)

    def seen(
        self, rows: list[MsgRow], feats: dict[int, TextFeatures]
    ) -> dict[tuple[int, int, str], date]:
        """What :func:`recent_hashes` reads, for the keys the batch looks up."""
        first_day = min(r.day for r in rows)
        out: dict[tuple[int, int, str], date] = {}
        for r in rows:
            key = (r.group_id, r.member_id, feats[r.id].text_hash)
            day = self.days.get(key)
            if day is not None and day >= first_day and not feats[r.id].filler:
                out[key] = day
        return out

    def add(self, rows: list[MsgRow], feats: dict[int, TextFeatures]) -> None:
        days = self.days
        for r in rows:
            key = (r.group_id, r.member_id, feats[r.id].text_hash)
            if key not in days or days[key] < r.day:
                days[key] = r.day


def recent_hashes(
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


def earlier_repliers(conn: Connection, targets: set[int]) -> set[tuple[int, int]]:
    """(target, replier) pairs already scored: a replier earns the author credit once."""
    pairs: set[tuple[int, int]] = set()
    for part in chunked(sorted(targets)):
        pairs.update((t, r) for t, r in conn.execute(_EARLIER_REPLIERS, {"targets": part}))
    return pairs


def earlier_pairs(
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


def last_asked(conn: Connection, rows: list[MsgRow]) -> dict[tuple[int, int], datetime]:
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


def linker_context(conn: Connection, rows: list[MsgRow]) -> dict[int, list[Any]]:
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


def member_names(conn: Connection, ids: set[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for part in chunked(sorted(ids)):
        names.update({i: n or "" for i, n in conn.execute(_NAMES, {"ids": part})})
    return names


@dataclass
class LinkSnapshot:
    """What reply linking starts from."""

    targets: dict[int, tuple[int, bool]]  # message id → (author, is a question)
    context: dict[int, list[Any]]  # group → (id, author, at, text, question, name) before
    names: dict[int, str]  # member id → display name


def load_links(
    conn: Connection,
    rows: list[MsgRow],
    feats: dict[int, TextFeatures],
    said: SaidThisRun | None = None,
) -> LinkSnapshot:
    context = linker_context(conn, rows)
    named = {c[1]: c[5] or "" for cs in context.values() for c in cs}
    missing = {r.member_id for r in rows} - named.keys()
    if said is not None:  # a first catch-up: names read by an earlier page kept
        known = said.names
        named.update({i: known[i] for i in missing if i in known})
        missing -= known.keys()
    found = member_names(conn, missing)
    named.update(found)
    if said is not None:
        said.names.update(found)
    # by id, as the one read by id gave them: of two members with one name, the later wins
    return LinkSnapshot(reply_targets(conn, rows, feats), context, dict(sorted(named.items())))


@dataclass
class ScoreSnapshot:
    """What scoring the batch needs once its reply links are known."""

    seen: dict[tuple[int, int, str], date]  # (group, member, text hash) → last day said
    replied_before: set[tuple[int, int]]  # (target, replier) already scored
    helped: set[tuple[int, date, int, int]]  # (group, day, replier, author) with a reply
    asked: dict[tuple[int, int], datetime]  # (group, member) → last question asked
    weights: dict[int, ValueWeights] = field(default_factory=dict)


def load_scoring(
    conn: Connection,
    rows: list[MsgRow],
    feats: dict[int, TextFeatures],
    links: dict[int, tuple[int, bool, float]],
    targets: dict[int, tuple[int, bool]],
    weights: dict[int, ValueWeights],
    said: SaidThisRun | None = None,
) -> ScoreSnapshot:
    pairs = {
        (r.group_id, r.day, r.member_id, targets[links[r.id][0]][0])
        for r in rows
        if r.id in links and links[r.id][0] in targets
    }
    replied_to = {link[0] for link in links.values()}
    return ScoreSnapshot(
        seen=said.seen(rows, feats) if said is not None else recent_hashes(conn, rows, feats),
        replied_before=said.replied(replied_to)
        if said is not None
        else earlier_repliers(conn, replied_to),
        helped=earlier_pairs(conn, pairs),
        asked=last_asked(conn, [r for r in rows if feats[r.id].question]),
        weights=weights,
    )
