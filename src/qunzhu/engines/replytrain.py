"""Training the reply-link model on annotated IRC sessions (``qunzhu intelligence
train-replies``).

The annotation format is the one of the #ubuntu reply-disentanglement data: beside each
``NAME.raw.txt`` log, ``NAME.annotation.txt`` holds lines ``i j -`` meaning raw line ``j``
(0-based) replies to raw line ``i`` (``i == j`` starts a conversation). Sessions are split
in two by a hash of their name: the *train* half fits the model, the *held-out* half
measures it (the bench measures value on the held-out half only), so a figure never
comes from data the model saw.

Every message is replayed through the same :class:`~qunzhu.engines.replylink.Linker` the
engine uses, so training sees exactly the features inference sees.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from qunzhu.engines.features import text_features
from qunzhu.engines.replylink import MAX_CANDIDATES, WINDOW_MINUTES, Linker
from qunzhu.engines.replymodel import FEATURES, ReplyModel

_LINE = re.compile(r"^\[(\d{1,2}):(\d{2})(?::(\d{2}))?\] <([^>]+)> ?(.*)$")
_T0 = datetime(2000, 1, 1)


def held_out(name: str) -> bool:
    """The half of the sessions kept for evaluation (by a hash of the session's name)."""
    return zlib.crc32(name.encode()) % 2 == 1


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


def train(directory: Path) -> tuple[ReplyModel, dict[str, Any]]:
    """Fit on the train half; the threshold maximises F1 of the train half's links; the
    report gives the held-out half's precision and recall."""
    from sklearn.linear_model import LogisticRegression

    sessions = list(read_sessions(directory))
    train_s = [s for s in sessions if not held_out(s.name)]
    test_s = [s for s in sessions if held_out(s.name)]
    if not train_s or not test_s:
        raise ValueError(f"{directory}: too few annotated sessions to split in two")
    ex_train, ex_test = examples(train_s), examples(test_s)
    fit = LogisticRegression(C=1.0, max_iter=2000)
    fit.fit(np.asarray(ex_train.x), np.asarray(ex_train.y))
    p_train = fit.predict_proba(np.asarray(ex_train.x))[:, 1]
    best_t, best_f1 = 0.5, -1.0
    for t in np.arange(0.05, 0.95, 0.01):
        f1 = _scores(*decide(ex_train, p_train, float(t)))["f1"]
        if f1 > best_f1:
            best_t, best_f1 = float(t), f1
    p_test = fit.predict_proba(np.asarray(ex_test.x))[:, 1]
    report = {
        "sessions_train": len(train_s),
        "sessions_held_out": len(test_s),
        "pairs_train": len(ex_train.y),
        "train": _scores(*decide(ex_train, p_train, best_t)),
        "held_out": _scores(*decide(ex_test, p_test, best_t)),
        "split": "crc32(session name) % 2 == 1 is held out",
    }
    model = ReplyModel(
        weights=tuple(float(w) for w in fit.coef_[0]),
        bias=float(fit.intercept_[0]),
        threshold=round(best_t, 2),
        window_minutes=WINDOW_MINUTES,
        max_candidates=MAX_CANDIDATES,
        trained_on={"data": directory.name, **report},
    )
    return model, report
