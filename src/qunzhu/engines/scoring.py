"""Scoring messages once, as they arrive (the pipeline's :class:`ValueScorer` reactor) or in
a catch-up over history (:mod:`qunzhu.engines.catchup`): the same function for both.

:func:`score_rows` loads what the batch depends on (:mod:`qunzhu.engines.scoring_reads`),
links replies and scores each message (:func:`link_replies`, :func:`score_batch`: pure),
and writes the score rows. Each message's score row is inserted ``ON CONFLICT DO
NOTHING``; only messages whose row was really inserted add their value to the rollups
(:func:`credit_batch`, pure, then :func:`~qunzhu.engines.score_writes.write_batch_credits`),
so a message is never counted twice, whichever path sees it first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter

from sqlalchemy import Connection

from qunzhu.engines.answered import OpenQuestions
from qunzhu.engines.credits import Credits, WeightsOf
from qunzhu.engines.features import FILLER_KINDS, TextFeatures, features_normal_words
from qunzhu.engines.replybatch import Found, link_group
from qunzhu.engines.replymodel import default_model
from qunzhu.engines.replystream import Entry, Lexicon
from qunzhu.engines.score_writes import write_batch_credits, write_scores
from qunzhu.engines.scoring_reads import (
    ASKING_SPELL,
    LinkSnapshot,
    MsgRow,
    SaidThisRun,
    ScoreSnapshot,
    chunked,
    load_links,
    load_scoring,
)
from qunzhu.engines.specs import SpecCache
from qunzhu.engines.value import Context, MessageValue, score_message
from qunzhu.spec.members import ValueWeights

__all__ = ["MsgRow", "chunked", "credit_batch", "link_replies", "score_batch", "score_rows"]

_TIME_ORDER = attrgetter("occurred_at", "id")  # a row's (time, id), without a lambda a row

Link = tuple[int, bool, float]
"""A reply link: (target message id, inferred, probability)."""


def link_replies(
    rows: list[MsgRow],
    feats: dict[int, TextFeatures],
    snap: LinkSnapshot,
    normal: dict[str, str] | None = None,
    words: dict[str, list[str]] | None = None,
) -> dict[int, Link]:
    """Each row's reply target as id → (target id, inferred, probability); the inferred
    targets' authors are added to ``snap.targets``.

    A platform's own reply link is kept (probability 1). Where there is none, or only an
    importer's guess from addressing, the learned model decides; the importer's guess
    stands (probability 0) only when the model has no candidate above its threshold —
    e.g. the addressed member's message is older than the model's window. ``normal``: the
    rows' texts normalized, where the caller has them, ``words`` their words (ASCII ones).
    """
    model = default_model()
    lex = Lexicon(snap.names, normal=normal or {}, words=words or {})
    by_group: dict[int, list[MsgRow]] = {}
    for r in rows:
        by_group.setdefault(r.group_id, []).append(r)
    found: dict[int, tuple[Found, list[Entry]]] = {}
    for g, mine in by_group.items():
        entries: list[Entry] = [
            (mid, author, at, text or "", question is not None)
            for mid, author, at, text, question, _name in snap.context.get(g, [])
        ]
        first = len(entries)
        entries += [(r.id, r.member_id, r.occurred_at, r.text, feats[r.id].question) for r in mine]
        given = [r.reply_to_id if not r.reply_inferred else None for r in mine]
        infer = [
            gv is None and r.kind not in FILLER_KINDS and not r.flagged
            for r, gv in zip(mine, given, strict=True)
        ]
        # the author of the message a platform or the importer links to: whether they
        # asked lately decides if the link answers (below); authors never change in targets
        askers = [_asker(r, snap.targets) for r in mine]
        linked = link_group(entries, first, infer, given, lex, model, askers)
        for r, f in zip(mine, linked, strict=True):
            found[r.id] = (f, entries)
    targets = snap.targets
    out: dict[int, Link] = {}
    for r in rows:  # in time order, as the later of two replies to one message wins
        f, entries = found[r.id]
        given_id = r.reply_to_id if not r.reply_inferred else None
        if f.target >= 0:
            target = entries[f.target]
            targets[target[0]] = (target[1], target[4] or f.asked)
        elif r.reply_to_id is not None and r.reply_to_id in targets:
            # a platform's link or the importer's guess from addressing ("ann: try this"):
            # it answers when the target's author asked lately, whichever line it names
            author, asked = targets[r.reply_to_id]
            if not asked and author != r.member_id:
                targets[r.reply_to_id] = (author, f.asker_asked)
        if given_id is not None:
            out[r.id] = (given_id, False, 1.0)
        elif f.target >= 0:
            out[r.id] = (entries[f.target][0], True, round(f.probability, 3))
        elif r.reply_to_id is not None:
            out[r.id] = (r.reply_to_id, True, 0.0)
    return out


def link_weight(link: Link | None, w: ValueWeights) -> float:
    """The share of reply credit a link carries: all of it, or with ``reply_credit:
    probability`` an inferred link's probability (a link the importer guessed from
    addressing has none, 0, and keeps all)."""
    if link is None or w.reply_credit != "probability" or not link[1] or link[2] <= 0:
        return 1.0
    return link[2]


def _asker(r: MsgRow, targets: dict[int, tuple[int, bool]]) -> int | None:
    """The author of the message ``r`` names as its target, if another member."""
    known = targets.get(r.reply_to_id) if r.reply_to_id is not None else None
    return known[0] if known is not None and known[0] != r.member_id else None


def score_batch(
    rows: list[MsgRow],
    feats: dict[int, TextFeatures],
    links: dict[int, Link],
    targets: dict[int, tuple[int, bool]],
    snap: ScoreSnapshot,
    known: dict[tuple[object, ...], MessageValue] | None = None,
) -> dict[int, MessageValue]:
    """Each message's value, in time order: a message sees the ones before it in the batch
    (a duplicate, a second question, a second reply to the same member that day).
    ``known``: the scores made before, by all they depend on, to add to and reuse (a
    catch-up's pages share one)."""
    helped = set(snap.helped)
    seen = dict(snap.seen)
    asked = dict(snap.asked)
    scores: dict[int, MessageValue] = {}
    if known is None:
        known = {}
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
        weight = link_weight(link, snap.weights[r.community_id]) if first else 1.0
        lately = False
        if f.question and not r.flagged:
            before = asked.get((r.group_id, r.member_id))
            lately = before is not None and timedelta(0) <= r.occurred_at - before <= ASKING_SPELL
            asked[(r.group_id, r.member_id)] = r.occurred_at
        # all a message's value depends on (score_message is pure, its results never change)
        key = (
            r.community_id,
            f.substance,
            f.link,
            f.file,
            f.image,
            f.code,
            f.question,
            f.filler,
            answer,
            first,
            lately,
            duplicate,
            r.flagged,
            r.recalled,
            weight,
        )
        scored = known.get(key)
        if scored is None:
            ctx = Context(
                answer=answer,
                helped=first,
                asked_lately=lately,
                duplicate=duplicate,
                flagged=r.flagged,
                recalled=r.recalled,
                link_weight=weight,
            )
            scored = known[key] = score_message(f, ctx, snap.weights[r.community_id])
        scores[r.id] = scored
    return scores


@dataclass(slots=True)
class Asked:
    """A question to keep, answered or not later."""

    message_id: int
    community_id: int
    group_id: int
    member_id: int
    asked_at: datetime


@dataclass(slots=True)
class Answer:
    """A reply from another member to an asker's message: it answers the asker's questions
    from shortly before that message up to the reply (see
    :func:`~qunzhu.engines.score_writes.write_batch_credits`)."""

    question_id: int  # the message replied to
    at: datetime
    member_id: int
    group_id: int = 0
    asker_id: int = 0


@dataclass
class BatchCredits:
    credits: Credits = field(default_factory=Credits)
    questions: list[Asked] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    values: dict[int, float] = field(default_factory=dict)  # message id → its value


def credit_batch(
    rows: list[MsgRow],
    feats: dict[int, TextFeatures],
    scores: dict[int, MessageValue],
    targets: dict[int, tuple[int, bool]],
    links: dict[int, Link],
    replied_before: set[tuple[int, int]],
    weights: WeightsOf,
    *,
    values: bool = True,
) -> BatchCredits:
    """What the newly scored ``rows`` add: their value, the questions they ask, the
    answers they give, the counters, and the credit a reply earns its target's author
    (once per replier and message). ``values=False``: the caller writes no message's value
    (a first catch-up copies them at its end), so ``BatchCredits.values`` stays empty."""
    out = BatchCredits()
    credits = out.credits
    replied = set(replied_before)
    answered: set[tuple[int, int]] = set()
    stats, member_value, group_value = credits.stats, credits.member_value, credits.group_value
    for r in rows:
        f, sc = feats[r.id], scores[r.id]
        c, g, m, d = r.community_id, r.group_id, r.member_id, r.day
        # Credits.value and Credits.count inline: the row's counters looked up once
        key = (c, g, m, d)
        if sc.value:
            member_value[key] += sc.value
            group_value[(c, g, d)] += sc.value
        counts = stats[key]
        if f.question and not r.flagged:
            counts["questions"] += 1
            out.questions.append(Asked(r.id, c, g, m, r.occurred_at))
        # a counter is added to only where the row counts (adding 0 changes nothing)
        if f.filler:
            counts["filler"] += 1
        if "duplicate" in sc.points:
            counts["duplicates"] += 1
        if sc.valuable:
            counts["valuable"] += 1
        link = links.get(r.id)
        target = targets.get(link[0]) if link else None
        if link is None or target is None or target[0] == m:
            continue
        author, to = target[0], link[0]
        credits.edges[(c, g, d, m, author)] += 1
        if "answer" in sc.points:
            counts["answers"] += 1
        # the question is answered by any written reply from another member, not only the
        # one that earned answer points (once a day per pair of members); a short one
        # counts ("yes", "I did"), a sticker does not
        if target[1] and r.kind not in FILLER_KINDS and not r.flagged and (to, m) not in answered:
            answered.add((to, m))
            out.answers.append(Answer(to, r.occurred_at, m, g, author))
        if (to, m) not in replied and not r.flagged:
            # a "thanks" earns the author credit too: it says their message helped
            replied.add((to, m))
            earned = weights[c].reply_earned_per_member * link_weight(link, weights[c])
            # Credits.value and Credits.count inline, as above: the author's key made once
            earner = (c, g, author, d)
            if earned:
                member_value[earner] += earned
                group_value[(c, g, d)] += earned
            earned_counts = stats[earner]
            earned_counts["replies_earned"] += 1
            earned_counts["earned_value"] += earned
    if values:
        out.values = {r.id: scores[r.id].value for r in rows}
    return out


def score_rows(
    conn: Connection,
    specs: SpecCache,
    rows: list[MsgRow],
    said: SaidThisRun | None = None,
    open_questions: OpenQuestions | None = None,
) -> dict[int, MessageValue]:
    """Score messages not scored before; add their value to the rollups. Returns the new
    scores by message id. A catch-up of a community with no scores before passes
    ``said``, what it scored so far (see :class:`SaidThisRun`), and, with no questions
    before either, ``open_questions`` to answer them in memory (the caller writes them)."""
    if not rows:
        return {}
    rows = sorted(rows, key=_TIME_ORDER)
    feats: dict[int, TextFeatures] = {}
    normal: dict[str, str] = {}
    words: dict[str, list[str]] = {}
    # pure; about one chat line in twelve repeats an earlier one ("thanks", "ok")
    done: dict[tuple[str, str], tuple[TextFeatures, str, list[str] | None]] = {}
    for r in rows:
        made = done.get((r.text, r.kind))
        if made is None:
            made = done[(r.text, r.kind)] = features_normal_words(r.text, r.kind)
        feats[r.id], normal[r.text], said_words = made
        if said_words is not None:
            words[r.text] = said_words
    linking = load_links(conn, rows, feats, said)
    links = link_replies(rows, feats, linking, normal, words)
    targets = linking.targets
    weights = {c: specs.get(conn, c).weights for c in {r.community_id for r in rows}}
    snap = load_scoring(conn, rows, feats, links, targets, weights, said)
    # a first catch-up keeps its scores and their points from one page to the next
    known, encoded = (said.values, said.points) if said is not None else (None, None)
    scores = score_batch(rows, feats, links, targets, snap, known)
    # a first catch-up read its rows as unscored in this transaction: no score row to skip
    new_ids = write_scores(
        conn, rows, feats, scores, links, absent=said is not None, encoded=encoded
    )
    # a first catch-up inserted every row (``absent``): no row to leave out
    fresh = rows if said is not None else [r for r in rows if r.id in new_ids]
    if said is not None:
        said.add(fresh, feats)
        said.add_replies(fresh, links)
    # a first catch-up copies the values from the score rows once, at its end
    values = said is None
    write_batch_credits(
        conn,
        credit_batch(
            fresh, feats, scores, targets, links, snap.replied_before, weights, values=values
        ),
        fresh,
        open_questions,
        values=values,
    )
    # a first catch-up's scores are all new (``fresh`` is every row)
    return scores if said is not None else {i: scores[i] for i in new_ids}
