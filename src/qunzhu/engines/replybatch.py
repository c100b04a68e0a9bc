"""Reply links of a batch of messages, one group at a time, with arrays: the same links and
probabilities as replaying the messages through :class:`~qunzhu.engines.replylink.Linker`
one by one (tests/engines/test_replybatch.py holds them to it), without a Python loop over
candidates. The live path's batch of one message goes through here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from qunzhu.engines.replyfeatures import (
    Candidates,
    candidates,
    latest_before,
    latest_question_before,
    within,
)
from qunzhu.engines.replylink import ASK_MINUTES
from qunzhu.engines.replymodel import ReplyModel
from qunzhu.engines.replystream import F64, I64, Bools, Entry, Lexicon, Stream, build_stream, held

CHUNK = 20_000  # messages whose candidates are held in memory at once


class Found(NamedTuple):
    """What a message replies to: the target's stream index (-1: nothing), whether the
    target asks something (itself, or its author lately), and the model's probability of
    the best candidate (0 when the link was not inferred). A named tuple: one is made for
    every message of a batch, and a tuple is made several times faster than a frozen
    dataclass."""

    target: int
    asked: bool
    probability: float
    asker_asked: bool = False  # the member named as ``askers`` asked something lately


def probabilities(model: ReplyModel, features: F64) -> F64:
    """:meth:`ReplyModel.probability` of each row, adding the terms in the same order."""
    z = np.zeros(len(features))
    for w, column in zip(model.weights, features.T, strict=True):
        z = z + w * column
    z = model.bias + z
    p: F64 = np.where(z < -30, 0.0, 1.0 / (1.0 + np.exp(-np.maximum(z, -30.0))))
    return p


def choose(s: Stream, c: Candidates, p: F64, model: ReplyModel) -> tuple[I64, F64]:
    """Each message's target (stream index, -1 none) and its best candidate's probability:
    the most likely candidate (the latest of equals) if it reaches the threshold; else,
    in a quiet group, the question just before a statement."""
    k = c.queries
    grid = np.full((len(k), model.max_candidates), -1.0)
    grid[c.row, c.position] = p
    cand = np.full((len(k), model.max_candidates), -1, np.int64)
    cand[c.row, c.position] = c.candidate
    if len(k) == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    best = grid.argmax(axis=1)
    best_p = np.maximum(grid.max(axis=1), 0.0)
    linked = (best_p > 0) & (best_p >= model.threshold)
    just_before = np.maximum(k - 1, 0)
    quiet = (
        (c.busy > 0)
        & (c.busy <= 2)
        & ~s.question[k]
        & (s.named[k] == 0)
        & (cand[:, 0] == k - 1)
        & s.question[just_before]
    )
    target = np.where(linked, cand[np.arange(len(k)), best], np.where(quiet, k - 1, -1))
    return target, best_p


def _given(s: Stream, at: I64, given: I64) -> I64:
    """The stream index of each explicit target among the messages the linker holds at
    ``at`` (-1: not there)."""
    order = np.argsort(s.ids, kind="stable")
    pos = np.minimum(np.searchsorted(s.ids[order], given), len(order) - 1)
    idx = order[pos]
    ok = (s.ids[idx] == given) & (idx < at) & (idx >= at - held(at))
    return np.where(ok, idx, -1)


def link_group(
    entries: Sequence[Entry],
    first: int,
    infer: Sequence[bool],
    given: Sequence[int | None],
    lex: Lexicon,
    model: ReplyModel,
    askers: Sequence[int | None] = (),
) -> list[Found]:
    """The targets of ``entries[first:]`` (the batch's messages of one group, in time order,
    after the group's context): the ``given`` one where there is one, else inferred where
    ``infer``. Where ``askers`` names a member for a message, whether that member asked
    something lately (the Linker's ``asked_recently`` once it has the message): the author
    of a message a platform or the importer links to, which the linker may not hold."""
    s = build_stream(entries, lex)
    n = len(entries) - first
    target = np.full(n, -1, np.int64)
    prob = np.zeros(n)
    wanted = np.flatnonzero(np.asarray(infer, np.bool_))
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        c = candidates(s, part + first, model.window_minutes, model.max_candidates)
        target[part], prob[part] = choose(s, c, probabilities(model, c.features), model)
    explicit = [i for i, g in enumerate(given) if g is not None]
    if explicit:
        ids = np.array([given[i] for i in explicit], np.int64)
        at = np.array(explicit, np.int64)
        target[at] = _given(s, at + first, ids)
    at = np.arange(first, len(entries))
    asked = _asked(s, target, at)
    by = _asked_by(s, lex, askers, at) if any(a is not None for a in askers) else np.zeros(n, bool)
    # tolist: Python ints, bools and floats at once, not one numpy scalar at a time
    found = zip(target.tolist(), asked.tolist(), prob.tolist(), by.tolist(), strict=True)
    return list(map(Found._make, found))


def _asked_by(s: Stream, lex: Lexicon, askers: Sequence[int | None], at: I64) -> Bools:
    """Each named member asked something lately, up to and including message ``at``."""
    # a member who never spoke in the batch has no code: -1 matches no question
    code = np.array([-1 if a is None else lex.member_codes.get(a, -1) for a in askers], np.int64)
    last = latest_before(s.members[s.question], np.flatnonzero(s.question), code, at + 1)
    return (code >= 0) & within(s, last, at, ASK_MINUTES * 60)


def _asked(s: Stream, target: I64, at: I64) -> Bools:
    """The target asks something, or its author asked something lately (this message
    included: the linker remembers it before it is asked)."""
    has = target >= 0
    t = np.maximum(target, 0)  # before ``at``, or the stream's first message
    last = latest_question_before(s, t, at + 1)
    return has & (s.question[t] | within(s, last, at, ASK_MINUTES * 60))
