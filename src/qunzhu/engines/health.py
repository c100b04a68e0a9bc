"""Group health (健康度) and death risk (死群预警), from a snapshot of daily rollups.

Death risk is a sum of named parts, each with its reason, capped at 100: value falling,
value below the living threshold, few members speaking, lurkers over target, questions
left unanswered, newcomers not activated, members leaving, and dependence on one member
(or the loss of the member the group depended on). The forecast fits the log of daily
value over the last four weeks and says in how many days the weekly average falls below
the living threshold (living threshold: a share of the group's own best week, at least a
floor).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from qunzhu.spec.members import RoleTargets


@dataclass(frozen=True)
class HealthConfig:
    living_share_of_peak: float = 0.2
    living_min_value_per_day: float = 1.0
    dying_risk: float = 70.0
    trend_days: int = 14
    forecast_days: int = 28


@dataclass
class GroupSnapshot:
    group_id: int
    name: str
    value: list[float]  # value per day, oldest first, the last item is the day computed
    joins_30d: int
    leaves_30d: int
    members: int
    speakers_7d: int
    speakers_30d: int
    role_counts: dict[str, int]
    member_values_30d: list[float]
    questions_14d: int
    unanswered_14d: int
    first_answer_minutes: list[float]
    newcomers: int  # joined 7 to 37 days ago
    newcomers_activated: int  # of those, a valuable message within 7 days of joining
    lost_top: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class HealthResult:
    death_risk: float
    value_per_day: float
    active_share: float
    metrics: dict[str, Any]
    reasons: list[dict[str, Any]]
    forecast_days: int | None
    living_threshold: float

    @property
    def below_living(self) -> bool:
        return self.value_per_day < self.living_threshold


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def concentration(values: list[float]) -> tuple[int, float]:
    """(fewest members producing half the value, the top member's share)."""
    ordered = sorted((v for v in values if v > 0), reverse=True)
    total = sum(ordered)
    if total <= 0:
        return 0, 0.0
    acc, n = 0.0, 0
    for v in ordered:
        acc += v
        n += 1
        if acc >= total / 2:
            break
    return n, ordered[0] / total


def forecast(values: list[float], threshold: float, days: int) -> int | None:
    """Days until the 7-day average falls below ``threshold`` at the recent exponential
    trend; 0 if it already is; None if it is not falling."""
    recent = values[-days:]
    if len(recent) < 14:
        return None
    weekly = [_mean(recent[max(0, i - 6) : i + 1]) for i in range(6, len(recent))]
    now = weekly[-1]
    if now < threshold:
        return 0
    ys = [math.log(w + 0.1) for w in weekly]
    n = len(ys)
    mx, my = (n - 1) / 2, _mean(ys)
    slope = sum((i - mx) * (y - my) for i, y in enumerate(ys)) / sum(
        (i - mx) ** 2 for i in range(n)
    )
    if slope >= -1e-3:
        return None
    return max(1, math.ceil((math.log(threshold + 0.1) - math.log(now + 0.1)) / slope))


def _reason(code: str, points: float, en: str, zh: str, **data: Any) -> dict[str, Any]:
    return {"code": code, "points": round(points, 1), "en": en, "zh": zh, "data": data}


def compute_health(s: GroupSnapshot, targets: RoleTargets, cfg: HealthConfig) -> HealthResult:
    t = cfg.trend_days
    last7 = _mean(s.value[-7:])
    recent, before = _mean(s.value[-t:]), _mean(s.value[-2 * t : -t])
    weekly = [_mean(s.value[max(0, i - 6) : i + 1]) for i in range(len(s.value))]
    peak = max(weekly, default=0.0)
    living = max(cfg.living_min_value_per_day, cfg.living_share_of_peak * peak)
    active_share = s.speakers_7d / s.members if s.members else 0.0
    in_roles = sum(s.role_counts.values())
    mix = {r: (n / in_roles if in_roles else 0.0) for r, n in s.role_counts.items()}
    n50, top_share = concentration(s.member_values_30d)
    ttfa = sorted(s.first_answer_minutes)
    median_ttfa = ttfa[len(ttfa) // 2] if ttfa else None
    activation = s.newcomers_activated / s.newcomers if s.newcomers else None
    churn = s.leaves_30d / max(1, s.members + s.leaves_30d)
    reasons: list[dict[str, Any]] = []
    if before > 0 and recent < before:
        drop = 1 - recent / before
        if drop >= 0.15:
            reasons.append(
                _reason(
                    "value_falling",
                    min(30.0, drop * 40),
                    f"value per day fell {drop:.0%} ({recent:.1f}/day in the last {t} days vs "
                    f"{before:.1f} before)",
                    f"日均价值下降 {drop:.0%}（近{t}天 {recent:.1f}/天，之前 {before:.1f}/天）",
                    drop=round(drop, 3),
                    recent=round(recent, 2),
                    before=round(before, 2),
                )
            )
    if last7 < living:
        reasons.append(
            _reason(
                "below_living",
                20.0,
                f"value {last7:.1f}/day over 7 days is below the living threshold {living:.1f}",
                f"近7天日均价值 {last7:.1f} 低于存活线 {living:.1f}",
                value_per_day=round(last7, 2),
                threshold=round(living, 2),
            )
        )
    if s.members and active_share < 0.1:
        reasons.append(
            _reason(
                "few_speakers",
                (0.1 - active_share) * 150,
                f"only {s.speakers_7d} of {s.members} members ({active_share:.0%}) spoke this week",
                f"本周仅 {s.speakers_7d}/{s.members} 人（{active_share:.0%}）发言",
                active_share=round(active_share, 3),
            )
        )
    lurk = targets.lurker.max if targets.lurker is not None else None
    if lurk is not None and mix.get("lurker", 0.0) > lurk:
        over = mix["lurker"] - lurk
        reasons.append(
            _reason(
                "lurkers_over_target",
                min(10.0, over * 40),
                f"lurkers {mix['lurker']:.0%} > target {lurk:.0%}",
                f"潜水党 {mix['lurker']:.0%} 高于目标 {lurk:.0%}",
                share=round(mix["lurker"], 3),
                target=lurk,
            )
        )
    if s.questions_14d >= 3 and s.unanswered_14d / s.questions_14d > 0.3:
        share = s.unanswered_14d / s.questions_14d
        reasons.append(
            _reason(
                "unanswered",
                min(10.0, share * 12),
                f"{s.unanswered_14d} of {s.questions_14d} questions in 14 days unanswered",
                f"近14天 {s.questions_14d} 个问题中 {s.unanswered_14d} 个无人回答",
                unanswered=s.unanswered_14d,
                questions=s.questions_14d,
            )
        )
    if activation is not None and s.newcomers >= 3 and activation < 0.3:
        reasons.append(
            _reason(
                "newcomers_silent",
                5.0,
                f"only {activation:.0%} of {s.newcomers} newcomers posted something valuable in "
                "their first week",
                f"{s.newcomers} 位新人中仅 {activation:.0%} 在第一周发过有价值的消息",
                activation=round(activation, 3),
            )
        )
    if s.leaves_30d and churn > 0.1:
        reasons.append(
            _reason(
                "churn",
                min(10.0, churn * 40),
                f"{s.leaves_30d} members left in 30 days ({churn:.0%})",
                f"30天内 {s.leaves_30d} 人退群（{churn:.0%}）",
                churn=round(churn, 3),
            )
        )
    for lost in s.lost_top[:1]:
        reasons.append(
            _reason(
                "top_contributor_gone",
                15.0,
                f"{lost['name']}, who produced {lost['share']:.0%} of the value before, has been "
                f"silent for {lost['silent_days']} days",
                f"此前贡献 {lost['share']:.0%} 价值的 {lost['name']} "
                f"已沉默 {lost['silent_days']} 天",
                **lost,
            )
        )
    if top_share > 0.4 and n50 <= 2 and sum(s.member_values_30d) > 0:
        reasons.append(
            _reason(
                "depends_on_few",
                min(10.0, (top_share - 0.4) * 30 + 4),
                f"the top member produces {top_share:.0%} of the value; {n50} member(s) make half",
                f"头部成员贡献 {top_share:.0%} 的价值；{n50} 人贡献一半",
                top_share=round(top_share, 3),
            )
        )
    risk = min(100.0, sum(r["points"] for r in reasons))
    days_left = forecast(s.value, living, cfg.forecast_days)
    metrics = {
        "value_per_day_7d": round(last7, 2),
        "value_trend": round(recent / before - 1, 3) if before > 0 else None,
        "living_threshold": round(living, 2),
        "active_share": round(active_share, 3),
        "speakers_7d": s.speakers_7d,
        "speakers_30d": s.speakers_30d,
        "members": s.members,
        "role_mix": {k: round(v, 3) for k, v in mix.items()},
        "role_counts": dict(s.role_counts),
        "questions_14d": s.questions_14d,
        "unanswered_14d": s.unanswered_14d,
        "median_first_answer_minutes": median_ttfa,
        "newcomer_activation": round(activation, 3) if activation is not None else None,
        "joins_30d": s.joins_30d,
        "leaves_30d": s.leaves_30d,
        "churn_30d": round(churn, 3),
        "members_for_half_value": n50,
        "top_member_share": round(top_share, 3),
        "forecast_days_to_below_living": days_left,
    }
    reasons.sort(key=lambda r: -r["points"])
    return HealthResult(
        round(risk, 1),
        round(last7, 2),
        round(active_share, 3),
        metrics,
        reasons,
        days_left,
        round(living, 2),
    )
