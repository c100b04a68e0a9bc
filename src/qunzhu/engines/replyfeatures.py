"""The reply model's candidate features for many messages at once, as one array.

Row for row the same numbers as :meth:`qunzhu.engines.replylink.Linker.features` (the
features are defined there, one message at a time, and training replays through it):
here every "latest before this message" is a sorted search over the stream and every
"among the messages the linker holds" a comparison with :func:`~qunzhu.engines.replystream.held`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qunzhu.engines.replylink import ASK_MINUTES, TALK_MINUTES
from qunzhu.engines.replymodel import FEATURES
from qunzhu.engines.replystream import DEPTH, F64, I64, TAIL, Bools, Stream, held, pair_key


@dataclass
class Candidates:
    """Every (message, candidate) pair of some messages of a stream, by message then by
    position (the latest candidate first)."""

    queries: I64  # stream index of each message asked about
    row: I64  # per pair: index into ``queries``
    message: I64  # per pair: stream index of the message
    candidate: I64  # per pair: stream index of the candidate
    position: I64  # per pair: other members' messages between them
    busy: I64  # per message: how many candidates it has
    features: F64  # (pairs, len(FEATURES))


def latest_before(ev_key: I64, ev_at: I64, key: I64, before: I64) -> I64:
    """For each (key, before), the largest ``ev_at`` of an event with that key below
    ``before`` (-1 if none): "the latest time x did y before this message"."""
    if len(ev_key) == 0 or len(key) == 0:
        return np.full(len(key), -1, np.int64)
    # the events' keys made dense, and each query's key found among them: a sort of the
    # events only (a few per message), not of the queries (one per candidate pair)
    keys, dense = np.unique(ev_key, return_inverse=True)
    code = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
    # only the queries whose key has events are searched for one (of a pair of members,
    # most never named each other)
    known = np.flatnonzero(keys[code] == key)
    out = np.full(len(key), -1, np.int64)
    if len(known) == 0:
        return out
    span = int(max(ev_at.max(), before.max())) + 1
    events = np.sort(dense.reshape(-1) * span + ev_at)
    code = code[known]
    at = np.searchsorted(events, code * span + before[known], side="left") - 1
    found = events[np.maximum(at, 0)]
    out[known] = np.where((at >= 0) & (found // span == code), found % span, -1)
    return out


def latest_question_before(s: Stream, j: I64, k: I64) -> I64:
    """For each pair of messages j < k, the latest question of j's author before k (-1 if
    none): :func:`latest_before` of the stream's questions by member, which it equals,
    without a search. The author's latest message before k is j or one of theirs after it
    (a few steps along ``next_same`` for the few pairs where it is not j), and their latest
    question up to that message is ``asked_through``'s."""
    at = j.copy()
    after = s.next_same
    todo = np.flatnonzero(after[at] < k)
    while len(todo):
        at[todo] = after[at[todo]]
        todo = todo[after[at[todo]] < k[todo]]
    out: I64 = s.asked_through[at]
    return out


def within(s: Stream, seen: I64, at: I64, seconds: float) -> Bools:
    ok = seen >= 0
    return ok & ((s.at_us[at] - s.at_us[np.maximum(seen, 0)]) / 1e6 <= seconds)


def shared_words(s: Stream, message: I64, lag: I64) -> I64:
    """Content words each message shares with the one ``lag`` places before it."""
    if len(s.word_msg) == 0 or len(message) == 0:
        return np.zeros(len(message), np.int64)
    # only the words of these messages and of the ones within reach before them
    lo, hi = np.searchsorted(s.word_msg, [message.min() - DEPTH, message.max() + 1])
    order = np.lexsort((s.word_msg[lo:hi], s.word_code[lo:hi]))
    word, msg = s.word_code[lo:hi][order], s.word_msg[lo:hi][order]
    found: list[I64] = []
    # the occurrences whose word was said r occurrences back within reach: an occurrence
    # with none at r has none further back (a word's occurrences are consecutive, in
    # message order), so each step looks only at the ones the step before kept
    at = np.arange(1, len(word))
    r = 1
    while len(at):
        gap = msg[at] - msg[at - r]
        same = (word[at] == word[at - r]) & (gap <= DEPTH)
        at = at[same]
        if len(at):
            found.append(msg[at] * (DEPTH + 1) + gap[same])
        r += 1
        at = at[at >= r]
    if not found:
        return np.zeros(len(message), np.int64)
    # counted in a table by (message, lag) from the first message within reach: a few
    # hundred thousand cells, where a sort of the keys and a search of them cost more
    base = (message.min() - DEPTH) * (DEPTH + 1)
    size = (message.max() + 1) * (DEPTH + 1) - base
    counts = np.bincount(np.concatenate(found) - base, minlength=size)
    ok = (lag >= 1) & (lag <= DEPTH)
    cell = message * (DEPTH + 1) + np.where(ok, lag, 0) - base
    return np.where(ok, counts[cell], 0).astype(np.int64)


def adjacent(s: Stream, message: I64, candidate: I64) -> I64:
    """How often the two authors spoke back to back among the message's last
    ``TAIL`` predecessors: the pairs (i, i + 1) with i from ``message - TAIL`` to
    ``message - 2``, each of those TAIL - 1 places compared in turn (a sorted search
    per pair of members took twice as long)."""
    out = np.zeros(len(message), np.int64)
    if len(s.members) < 2 or len(message) == 0:
        return out
    # each back-to-back pair of the stream by one key whichever spoke first, after TAIL
    # places no key equals (so no place is before the stream's start); the message's author
    # and a candidate's are never one member, so a pair of one member speaking twice
    # matches none of them
    pairs = np.concatenate((np.full(TAIL, -1, np.int64), pair_key(s.members[:-1], s.members[1:])))
    wanted = pair_key(s.members[message], s.members[candidate])
    at = message + TAIL
    for back in range(2, TAIL + 1):
        out += pairs[at - back] == wanted
    return out


def candidates(s: Stream, queries: I64, window_minutes: float, limit: int) -> Candidates:
    """The candidates of each message of ``queries`` (stream indices) and their features."""
    window = window_minutes * 60
    lag = np.arange(1, DEPTH + 1)
    earlier = np.maximum(queries[:, None] - lag[None, :], 0)
    gap = (s.at_us[queries][:, None] - s.at_us[earlier]) / 1e6
    # the linker walks back from the latest and stops at the first message out of the window
    reach = np.logical_and.accumulate((lag[None, :] <= held(queries)[:, None]) & ~(gap > window), 1)
    wanted = reach & (s.members[earlier] != s.members[queries][:, None])
    position = np.cumsum(wanted, axis=1) - 1
    wanted &= position < limit
    row, col = np.nonzero(wanted)
    k, j, pos = queries[row], earlier[row, col], position[row, col]
    busy = wanted.sum(axis=1)
    return Candidates(queries, row, k, j, pos, busy, _features(s, k, j, pos, busy[row], window))


def _names_hold(names: I64, rows: I64, code: I64) -> Bools:
    """Whether the names matrix's row ``rows[i]`` holds ``code[i]``: ``(names[rows] ==
    code[:, None]).any(axis=1)`` a column at a time (a row holds a few names), about four
    times faster than the 2-D comparison and its ``any``."""
    found: Bools = names[rows, 0] == code
    for column in range(1, names.shape[1]):
        found |= names[rows, column] == code
    return found


def _features(s: Stream, k: I64, j: I64, pos: I64, busy: I64, window: float) -> F64:
    author, me = s.author[j], s.author[k]
    names_author = _names_hold(s.names, k, author)
    named_me = _names_hold(s.names, j, me)
    holds_from = k - held(k)
    asked = latest_question_before(s, j, k)
    named = latest_before(s.naming[1], s.naming[0], pair_key(s.members[k], s.members[j]), k)
    mine = s.prev_same[k]
    mine_named = _names_hold(s.names, np.maximum(mine, 0), author) & (mine >= 0)
    spoke = (mine >= holds_from) & within(s, mine, k, window)
    earlier = s.prev_earlier[j]
    not_first = (earlier >= holds_from) & within(s, earlier, j, window)
    shared = shared_words(s, k, k - j)
    union = s.words[k] + s.words[j] - shared
    gap = (s.at_us[k] - s.at_us[j]) / 1e6
    columns: dict[str, F64 | Bools] = {
        "addressed": names_author,
        "addressed_back": named_me,
        "names_another": (s.named[k] > 0) & ~names_author,
        "cand_names_another": (s.named[j] > 0) & ~named_me,
        "log_gap": np.log1p(np.maximum(0.0, gap / 60)),
        "log_position": np.log1p(pos),
        "previous": pos == 0,
        "author_latest": s.next_same[j] >= k,
        "cand_question": s.question[j],
        "cand_asker": within(s, asked, k, ASK_MINUTES * 60),
        "own_question": s.question[k] & (s.named[k] == 0),
        "shared": np.divide(shared, union, out=np.zeros(len(k)), where=union > 0),
        "shared_any": shared > 0,
        "talked": within(s, named, k, TALK_MINUTES * 60),
        "last_addressed": mine_named,
        "adjacent": np.log1p(adjacent(s, k, j)),
        "author_new": ~spoke,
        "cand_first": ~not_first,
        "short": s.short[k],
        "log_busy": np.log1p(busy),
    }
    out = np.empty((len(k), len(FEATURES)), np.float64, order="F")
    for i, f in enumerate(FEATURES):
        out[:, i] = columns[f]
    return out
