"""Behavioural roles (角色) from the spec's thresholds, each with the reason that decided it.

Checked in this order, the first that holds wins: disruptor (破坏分子), KOL (大咖), core
(忠实粉), newcomer (入门新手), active, lurker (潜水党). Peripheral members (applied or
waitlisted, not yet in a group) are counted at the community level only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qunzhu.spec.members import RoleThresholds

ROLES = ("peripheral", "newcomer", "lurker", "active", "core", "kol", "disruptor")
# When one member holds different roles in different groups, the community shows the
# strongest signal: a disruptor anywhere is a disruptor.
PRECEDENCE = ("disruptor", "kol", "core", "active", "newcomer", "lurker", "peripheral")

ROLE_NAMES: dict[str, tuple[str, str]] = {
    "peripheral": ("peripheral", "边缘（待入群）"),
    "newcomer": ("newcomer", "入门新手"),
    "lurker": ("lurker", "潜水党"),
    "active": ("active", "活跃成员"),
    "core": ("core", "忠实粉/老朋友"),
    "kol": ("KOL", "大咖"),
    "disruptor": ("disruptor", "破坏分子"),
}


@dataclass(frozen=True, slots=True)
class MemberWindow:
    """One member in one group over the spec's rolling window."""

    member_id: int
    tenure_days: int
    messages: int
    value: float
    distinct_repliers: int
    moderation_points: float = 0.0


@dataclass(frozen=True, slots=True)
class RoleDecision:
    role: str
    reason: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        return describe_reason(self.role, self.reason, lang)


def assign_role(m: MemberWindow, t: RoleThresholds) -> RoleDecision:
    facts: dict[str, Any] = {
        "window_days": t.window_days,
        "messages": m.messages,
        "value": round(m.value, 2),
        "distinct_repliers": m.distinct_repliers,
        "tenure_days": m.tenure_days,
    }

    def decided(role: str, rule: str, **limits: Any) -> RoleDecision:
        return RoleDecision(role, {**facts, "rule": rule, "limits": limits})

    if m.moderation_points >= t.disruptor_points:
        facts["moderation_points"] = m.moderation_points
        return decided(
            "disruptor", "moderation_points>=disruptor_points", disruptor_points=t.disruptor_points
        )
    if m.value >= t.kol_min_value and m.distinct_repliers >= t.kol_min_distinct_repliers:
        return decided(
            "kol",
            "value>=kol_min_value and distinct_repliers>=kol_min_distinct_repliers",
            kol_min_value=t.kol_min_value,
            kol_min_distinct_repliers=t.kol_min_distinct_repliers,
        )
    if m.value >= t.core_min_value and m.tenure_days >= t.core_min_tenure_days:
        return decided(
            "core",
            "value>=core_min_value and tenure_days>=core_min_tenure_days",
            core_min_value=t.core_min_value,
            core_min_tenure_days=t.core_min_tenure_days,
        )
    if m.tenure_days < t.newcomer_days:
        return decided("newcomer", "tenure_days<newcomer_days", newcomer_days=t.newcomer_days)
    if m.value >= t.active_min_value:
        return decided("active", "value>=active_min_value", active_min_value=t.active_min_value)
    if m.messages <= t.lurker_max_messages or m.value <= t.lurker_max_value:
        return decided(
            "lurker",
            "messages<=lurker_max_messages or value<=lurker_max_value",
            lurker_max_messages=t.lurker_max_messages,
            lurker_max_value=t.lurker_max_value,
        )
    # speaks more than a lurker but below the active minimum: still taking part
    return decided(
        "active",
        "above the lurker limits, below active_min_value",
        lurker_max_messages=t.lurker_max_messages,
        lurker_max_value=t.lurker_max_value,
        active_min_value=t.active_min_value,
    )


def strongest(roles: list[str]) -> str:
    return min(roles, key=PRECEDENCE.index) if roles else "peripheral"


def _count(n: Any, one: str, other: str) -> str:
    """``n`` with the English noun in the number that fits it (1 message, 2 messages)."""
    return f"{n} {one if n == 1 else other}"


def describe_reason(role: str, reason: dict[str, Any], lang: str = "en") -> str:
    """The reason as a sentence an operator reads."""
    zh = lang.startswith("zh")
    lim = reason.get("limits", {})
    w = reason.get("window_days", 30)
    v, msgs = reason.get("value", 0), reason.get("messages", 0)
    rep, ten = reason.get("distinct_repliers", 0), reason.get("tenure_days", 0)
    if role == "disruptor":
        pts = reason.get("moderation_points", 0)
        return (
            f"违规积分 {pts} ≥ {lim.get('disruptor_points')}"
            if zh
            else f"moderation points {pts} ≥ {lim.get('disruptor_points')}"
        )
    if role == "kol":
        return (
            f"近{w}天价值 {v} ≥ {lim.get('kol_min_value')}，{rep} 位不同成员回复过 ≥ "
            f"{lim.get('kol_min_distinct_repliers')}"
            if zh
            else f"value {v} in {_count(w, 'day', 'days')} ≥ {lim.get('kol_min_value')} and "
            f"replies from {_count(rep, 'distinct member', 'distinct members')} ≥ "
            f"{lim.get('kol_min_distinct_repliers')}"
        )
    if role == "core":
        return (
            f"近{w}天价值 {v} ≥ {lim.get('core_min_value')}，入群 {ten} 天 ≥ "
            f"{lim.get('core_min_tenure_days')}"
            if zh
            else f"value {v} in {_count(w, 'day', 'days')} ≥ {lim.get('core_min_value')} and "
            f"{_count(ten, 'day', 'days')} in the group ≥ {lim.get('core_min_tenure_days')}"
        )
    if role == "newcomer":
        return (
            f"入群 {ten} 天 < {lim.get('newcomer_days')}"
            if zh
            else f"joined {_count(ten, 'day', 'days')} ago < {lim.get('newcomer_days')}"
        )
    if role == "lurker":
        return (
            f"近{w}天 {msgs} 条消息、价值 {v}（潜水线：≤{lim.get('lurker_max_messages')} 条"
            f"或价值 ≤{lim.get('lurker_max_value')}）"
            if zh
            else f"{_count(msgs, 'message', 'messages')} and value {v} in "
            f"{_count(w, 'day', 'days')} (lurker: ≤ {lim.get('lurker_max_messages')} "
            f"messages or value ≤ {lim.get('lurker_max_value')})"
        )
    if role == "active":
        return (
            f"近{w}天价值 {v}，{msgs} 条消息"
            if zh
            else f"value {v} from {_count(msgs, 'message', 'messages')} in "
            f"{_count(w, 'day', 'days')}"
        )
    return "已申请或在候补，尚未入群" if zh else "applied or waitlisted, not in a group yet"
