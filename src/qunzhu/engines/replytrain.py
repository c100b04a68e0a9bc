"""Training the reply-link model on annotated IRC sessions (``qunzhu intelligence
train-replies``).

The annotation format is the one of the #ubuntu reply-disentanglement data: beside each
``NAME.raw.txt`` log, ``NAME.annotation.txt`` holds lines ``i j -`` meaning raw line ``j``
(0-based) replies to raw line ``i`` (``i == j`` starts a conversation). Sessions are split
in two, by a hash of their name (``session-hash``, what the shipped model learned) or by
time (``time``: the sessions of the last ten dates are held out, as a new community's
chat comes after everything the model saw): the *train* part fits the model, the
*held-out* part measures it, so a figure never comes from data the model saw.

Every message is replayed through the same :class:`~qunzhu.engines.replylink.Linker` the
engine uses, so training sees exactly the features inference sees.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from qunzhu.engines.features import text_features
from qunzhu.engines.replylink import MAX_CANDIDATES, WINDOW_MINUTES, Linker
from qunzhu.engines.replymodel import FEATURES, ReplyModel

_LINE = re.compile(r"^\[(\d{1,2}):(\d{2})(?::(\d{2}))?\] <([^>]+)> ?(.*)$")
_T0 = datetime(2000, 1, 1)


SPLITS = ("session-hash", "time")
HELD_OUT_DATES = 10


def held_out(name: str) -> bool:
    """The half of the sessions kept for evaluation (by a hash of the session's name)."""
    return zlib.crc32(name.encode()) % 2 == 1


def held_out_names(names: Iterable[str], split: str = "session-hash") -> set[str]:
    """The sessions ``split`` keeps for evaluation. Session names begin with their date
    (``2015-02-04.train-b``), which the time split reads."""
    names = list(names)
    if split == "session-hash":
        return {n for n in names if held_out(n)}
    if split == "time":
        last = set(sorted({n[:10] for n in names})[-HELD_OUT_DATES:])
        return {n for n in names if n[:10] in last}
    raise ValueError(f"unknown split {split!r}: one of {', '.join(SPLITS)}")


@dataclass
class Line:
    index: int  # 0-based raw line number
    nick: str
    at: datetime
    text: str


@dataclass
class Session:
    name: str
    lines: list[Line] = field(default_factory=list)
    parents: dict[int, set[int]] = field(default_factory=dict)  # line -> lines it answers


def read_sessions(directory: Path) -> Iterator[Session]:
    """Annotated sessions of ``directory`` in name order (message lines of the annotated
    stretch only; joins, parts and actions are left out, as the importer leaves them)."""
    files = sorted(directory.glob("*.annotation.txt"))
    if not files:
        raise ValueError(f"{directory}: no *.annotation.txt files (annotated IRC sessions)")
    for ann in files:
        name = ann.name.removesuffix(".annotation.txt")
        raw = ann.with_name(f"{name}.raw.txt")
        if not raw.is_file():
            raise ValueError(f"{ann}: its log {raw.name} is missing")
        session = Session(name)
        for n, line in enumerate(ann.read_text(encoding="utf-8").splitlines()):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
                raise ValueError(f"{ann}:{n + 1}: expected 'i j -', got {line!r}")
            i, j = int(parts[0]), int(parts[1])
            session.parents.setdefault(max(i, j), set())
            if i != j:
                session.parents[max(i, j)].add(min(i, j))
        if not session.parents:
            continue
        lo = min(min(p, default=c) for c, p in session.parents.items())
        hi = max(session.parents)
        minutes, last = 0, -1
        for n, raw_line in enumerate(raw.read_bytes().splitlines()):
            if n < lo or n > hi:
                continue
            found = _LINE.match(raw_line.decode("utf-8", "replace"))
            if found is None:
                continue
            clock = int(found[1]) * 60 + int(found[2])
            if last >= 0 and clock < last:  # past midnight
                minutes += 24 * 60
            last = clock
            at = _T0 + timedelta(minutes=minutes + clock, seconds=int(found[3] or 0))
            session.lines.append(Line(n, found[4], at, found[5]))
        yield session


def _neutral() -> ReplyModel:
    return ReplyModel(
        weights=(0.0,) * len(FEATURES),
        bias=0.0,
        threshold=0.5,
        window_minutes=WINDOW_MINUTES,
        max_candidates=MAX_CANDIDATES,
        trained_on={},
    )


@dataclass
class Examples:
    """Candidate pairs: features, whether the pair is a true reply, and the message."""

    x: list[tuple[float, ...]] = field(default_factory=list)
    y: list[int] = field(default_factory=list)
    message: list[int] = field(default_factory=list)
    # per annotated message: does it answer another member at all (for recall)
    answers: list[bool] = field(default_factory=list)


def examples(sessions: list[Session]) -> Examples:
    out = Examples()
    neutral = _neutral()
    for session in sessions:
        ids = {nick.lower(): k for k, nick in enumerate(sorted({ln.nick for ln in session.lines}))}
        linker = Linker(names={k: n for n, k in ids.items()}, model=neutral)
        author = {ln.index: ids[ln.nick.lower()] for ln in session.lines}
        for ln in session.lines:
            me = ids[ln.nick.lower()]
            said = linker.prepare(ln.index, me, ln.at, ln.text, text_features(ln.text).question)
            parents = session.parents.get(ln.index)
            if parents is not None:
                gold = {p for p in parents if author.get(p, me) != me}
                number = len(out.answers)
                out.answers.append(bool(gold))
                for cand, feats in linker.scored(said):
                    out.x.append(feats)
                    out.y.append(int(cand.id in gold))
                    out.message.append(number)
            linker.remember(said)
    return out


def decide(ex: Examples, probabilities: Any, threshold: float) -> tuple[int, int, int]:
    """(links made, links right, messages that answer someone) at ``threshold``: each
    message links its most likely candidate when that reaches the threshold."""
    best: dict[int, tuple[float, int]] = {}
    for k, (m, p) in enumerate(zip(ex.message, probabilities, strict=True)):
        if m not in best or p > best[m][0]:
            best[m] = (float(p), ex.y[k])
    made = [(p, y) for p, y in best.values() if p >= threshold]
    return len(made), sum(y for _, y in made), sum(ex.answers)


def _scores(made: int, right: int, total: int) -> dict[str, float]:
    precision = right / made if made else 0.0
    recall = right / total if total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def fit(sessions: list[Session]) -> tuple[ReplyModel, Examples, Any]:
    """A model fitted on ``sessions`` (threshold maximising the F1 of their links), with
    its examples and probabilities for reporting."""
    from sklearn.linear_model import LogisticRegression

    ex = examples(sessions)
    lr = LogisticRegression(C=1.0, max_iter=2000)
    lr.fit(np.asarray(ex.x), np.asarray(ex.y))
    probabilities = lr.predict_proba(np.asarray(ex.x))[:, 1]
    best_t, best_f1 = 0.5, -1.0
    for t in np.arange(0.05, 0.95, 0.01):
        f1 = _scores(*decide(ex, probabilities, float(t)))["f1"]
        if f1 > best_f1:
            best_t, best_f1 = float(t), f1
    model = ReplyModel(
        weights=tuple(float(w) for w in lr.coef_[0]),
        bias=float(lr.intercept_[0]),
        threshold=round(best_t, 2),
        window_minutes=WINDOW_MINUTES,
        max_candidates=MAX_CANDIDATES,
        trained_on={"sessions": len(sessions)},
    )
    return model, ex, probabilities


def train(directory: Path, split: str = "session-hash") -> tuple[ReplyModel, dict[str, Any]]:
    """Fit on the train part of ``split``; the report gives both parts' precision and
    recall at the threshold chosen on the train part."""
    sessions = list(read_sessions(directory))
    kept = held_out_names((s.name for s in sessions), split)
    train_s = [s for s in sessions if s.name not in kept]
    test_s = [s for s in sessions if s.name in kept]
    if not train_s or not test_s:
        raise ValueError(f"{directory}: too few annotated sessions to split in two")
    model, ex_train, p_train = fit(train_s)
    ex_test = examples(test_s)
    p_test = np.asarray([model.probability(x) for x in ex_test.x])
    report = {
        "sessions_train": len(train_s),
        "sessions_held_out": len(test_s),
        "pairs_train": len(ex_train.y),
        "train": _scores(*decide(ex_train, p_train, model.threshold)),
        "held_out": _scores(*decide(ex_test, p_test, model.threshold)),
        "split": split,
    }
    model = replace(model, trained_on={"data": directory.name, **report})
    return model, report
