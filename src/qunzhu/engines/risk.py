"""The word for a group's health (健康度), one definition for the API, the dashboard, the CLI
and the weekly report: ``high`` (at risk) from the engine's dying line, ``watch`` from
:data:`WATCH_RISK` — or when at least :data:`UNANSWERED_WATCH` of the last 14 days'
questions (:data:`UNANSWERED_MIN_QUESTIONS` or more) went unanswered: such a group is not
dying, but it is not healthy either, and its first reason then says so — else ``ok``."""

from __future__ import annotations

from typing import Any

from qunzhu.engines.health import HealthConfig

DYING_RISK = HealthConfig().dying_risk
WATCH_RISK = 40.0
UNANSWERED_WATCH = 0.5
UNANSWERED_MIN_QUESTIONS = 10


def unanswered_share(metrics: dict[str, Any] | None) -> float | None:
    """The share of the last 14 days' questions nobody answered; None when too few."""
    asked = int((metrics or {}).get("questions_14d") or 0)
    if asked < UNANSWERED_MIN_QUESTIONS:
        return None
    return round(int((metrics or {}).get("unanswered_14d") or 0) / asked, 3)


def risk_of(death_risk: float, unanswered: float | None = None) -> str:
    """high, watch or ok (see the module)."""
    if death_risk >= DYING_RISK:
        return "high"
    if death_risk >= WATCH_RISK or (unanswered is not None and unanswered >= UNANSWERED_WATCH):
        return "watch"
    return "ok"


def unanswered_first(death_risk: float, unanswered: float | None) -> bool:
    """Whether the unanswered questions are what makes the group "watch" (they are then
    the first reason shown)."""
    return death_risk < WATCH_RISK and unanswered is not None and unanswered >= UNANSWERED_WATCH
