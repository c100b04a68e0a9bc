"""How often the community's flags were right (标记准确率): over the flags a moderator decided
in the last 30 days, approved (right) against undone (wrong), for all flags and for each
detector (the spam model, each rule detector), so the operator sees which one misfires —
what ``qunzhu moderation review --stats`` prints and the review page shows.

One figure, one definition (``flag_precision`` in docs/figures.md):

- a **flag** is a moderation item the live pipeline sent to review (``action = flag``);
  sanctions it carried out itself are not flags, and an escalation's own row is not one;
- it counts when its review fell in the window: ``reviewed_at`` within the last 30 days,
  status ``approved`` (an escalation approves it) or ``undone``; its latest decision counts;
- **precision** = approved / (approved + undone), with its 95% Wilson interval; none while
  nothing was decided.

Every query is scoped by the community.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from qunzhu.store.models import Community, ModerationAction

WINDOW_DAYS = 30
Z95 = 1.959964


def wilson(right: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The 95% Wilson score interval of ``right`` of ``n``; None for n = 0."""
    if n <= 0:
        return None
    p = right / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class Precision:
    detector: str  # "" for every flag
    approved: int
    undone: int

    @property
    def reviewed(self) -> int:
        return self.approved + self.undone

    @property
    def precision(self) -> float | None:
        return self.approved / self.reviewed if self.reviewed else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.approved, self.reviewed)

    def as_dict(self) -> dict[str, Any]:
        low_high = self.interval
        return {
            "detector": self.detector or None,
            "reviewed": self.reviewed,
            "approved": self.approved,
            "undone": self.undone,
            "precision": round(self.precision, 4) if self.precision is not None else None,
            "low": round(low_high[0], 4) if low_high else None,
            "high": round(low_high[1], 4) if low_high else None,
        }


@dataclass(frozen=True, slots=True)
class Layer:
    """The community's own classifier layer (``rules.classifier.model`` in its spec)."""

    path: str | None  # None: the process's model judges this community
    trained_at: datetime | None  # the file's modification time; None when it is not here

    def as_dict(self) -> dict[str, Any]:
        return {
            "in_use": self.path is not None,
            "path": self.path,
            "trained_at": self.trained_at.isoformat() if self.trained_at else None,
        }


@dataclass(frozen=True)
class FlagPrecision:
    since: datetime
    until: datetime
    total: Precision
    by_detector: list[Precision] = field(default_factory=list)  # most reviewed first
    pending: int = 0  # flags still waiting for review
    layer: Layer = field(default_factory=lambda: Layer(None, None))

    def as_dict(self) -> dict[str, Any]:
        return {
            "window_days": WINDOW_DAYS,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            **self.total.as_dict(),
            "pending": self.pending,
            "by_detector": [p.as_dict() for p in self.by_detector],
            "community_layer": self.layer.as_dict(),
        }


def flag_precision(
    conn: Connection, community_id: int, now: datetime | None = None
) -> FlagPrecision:
    now = now or datetime.now(UTC)
    since = now - timedelta(days=WINDOW_DAYS)
    a = ModerationAction
    counts: dict[str, list[int]] = {}
    for detector, status, n in conn.execute(
        select(a.detector, a.status, func.count())
        .where(
            a.community_id == community_id,
            a.action == "flag",
            a.status.in_(("approved", "undone")),
            a.reviewed_at >= since,
            a.reviewed_at <= now,
        )
        .group_by(a.detector, a.status)
    ):
        slot = counts.setdefault(str(detector or ""), [0, 0])
        slot[0 if status == "approved" else 1] += int(n)
    by_detector = sorted(
        (Precision(d, right, wrong) for d, (right, wrong) in counts.items()),
        key=lambda p: (-p.reviewed, p.detector),
    )
    total = Precision("", sum(p.approved for p in by_detector), sum(p.undone for p in by_detector))
    pending = conn.execute(
        select(func.count()).where(
            a.community_id == community_id, a.action == "flag", a.status == "pending_review"
        )
    ).scalar()
    return FlagPrecision(
        since, now, total, by_detector, int(pending or 0), _layer(conn, community_id)
    )


def _layer(conn: Connection, community_id: int) -> Layer:
    text = conn.execute(select(Community.spec_yaml).where(Community.id == community_id)).scalar()
    if not text:
        return Layer(None, None)
    from qunzhu.spec.loader import load_spec  # the loader pulls in YAML machinery: load late

    try:
        path = load_spec(text).rules.classifier.model
    except Exception:  # a spec that does not load: its lint says why; no layer is read
        return Layer(None, None)
    if not path:
        return Layer(None, None)
    try:
        trained = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
    except OSError:
        trained = None
    return Layer(path, trained)
