"""Checks on tiers (等级), paid plans, roles and the target role mix: QZ4xx."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import get_args

from qunzhu.spec.base import Platform
from qunzhu.spec.lint.core import Context, Hit, check

PLATFORMS = frozenset(get_args(Platform))


def _expiring_plan_tiers(ctx: Context) -> set[str]:
    # A tier held by a plan that lapses (downgrade or remove) is demoted by the expiry.
    return {
        plan.tier
        for plan in ctx.spec.monetization.plans
        if plan.tier and plan.expiry_action != "nothing"
    }


@check("QZ401", "warning", "Tier with no demotion rule", "等级没有降级规则")
def tier_without_demotion(ctx: Context) -> Iterator[Hit]:
    lapsing = _expiring_plan_tiers(ctx)
    for index, tier in enumerate(ctx.spec.tiers[1:], start=1):
        if tier.demote is None and tier.id not in lapsing:
            yield Hit(
                f"tiers[{index}].demote",
                f"tier {tier.id!r} says nothing about demotion: members who stop "
                "contributing keep it for ever; add demote {low_water, grace_days} "
                "or write demote: never",
                f"等级 {tier.id!r} 没有降级规则：不再贡献的人会永久保留；"
                "请写 demote（low_water、grace_days）或 demote: never",
            )


@check("QZ402", "warning", "Promotion criteria not increasing", "晋级条件不递增")
def promotion_not_increasing(ctx: Context) -> Iterator[Hit]:
    previous: dict[str, float] = {}
    previous_id = ""
    for index, tier in enumerate(ctx.spec.tiers):
        if tier.promote is None:
            continue
        current = tier.promote.thresholds()
        for name, value in current.items():
            if name in previous and value < previous[name]:
                yield Hit(
                    f"tiers[{index}].promote.{name}",
                    f"tier {tier.id!r} asks {name} {value:g}, less than the lower tier "
                    f"{previous_id!r} ({previous[name]:g})",
                    f"等级 {tier.id!r} 的 {name} 为 {value:g}，低于下一级 "
                    f"{previous_id!r} 的 {previous[name]:g}",
                )
        if current:
            previous, previous_id = {**previous, **current}, tier.id


@check("QZ403", "error", "Role targets that cannot all hold", "角色目标互相矛盾")
def role_targets_impossible(ctx: Context) -> Iterator[Hit]:
    ranges = ctx.spec.role_targets.ranges()
    for role, share in ranges.items():
        if share.min is not None and share.max is not None and share.min > share.max:
            yield Hit(
                f"role_targets.{role}",
                f"{role}: min {share.min:g} is above max {share.max:g}",
                f"{role} 的下限 {share.min:g} 高于上限 {share.max:g}",
            )
    total = sum(share.min or 0.0 for share in ranges.values())
    if total > 1.0 + 1e-9:
        yield Hit(
            "role_targets",
            f"the minimum shares add up to {total:.2f}, more than all members (1.0)",
            f"各角色下限之和为 {total:.2f}，超过全体成员（1.0）",
        )


@check("QZ404", "warning", "Role thresholds out of order", "角色门槛顺序错乱")
def role_thresholds_out_of_order(ctx: Context) -> Iterator[Hit]:
    roles = ctx.spec.roles
    ladder = (
        ("lurker_max_value", roles.lurker_max_value),
        ("active_min_value", roles.active_min_value),
        ("core_min_value", roles.core_min_value),
        ("kol_min_value", roles.kol_min_value),
    )
    for (low_name, low), (high_name, high) in pairwise(ladder):
        if high < low:
            yield Hit(
                f"roles.{high_name}",
                f"{high_name} ({high:g}) is below {low_name} ({low:g}): lurker < active "
                "< core < KOL by value",
                f"{high_name}（{high:g}）低于 {low_name}（{low:g}）；"
                "价值门槛应为 潜水 < 活跃 < 核心 < 大咖",
            )


@check("QZ405", "error", "Plan expires to an unknown tier", "方案到期降到未知等级")
def expiry_unknown_tier(ctx: Context) -> Iterator[Hit]:
    for index, plan in enumerate(ctx.spec.monetization.plans):
        target = plan.expiry_tier
        if target is not None and target not in ctx.tier_ids:
            yield Hit(
                f"monetization.plans[{index}].on_expiry",
                f"plan {plan.id!r} downgrades to {target!r} on expiry, which is not a tier",
                f"方案 {plan.id!r} 到期降级到 {target!r}，但没有这个等级",
            )


@check("QZ406", "error", "Unknown tier or plan referenced", "引用了不存在的等级或方案")
def unknown_tier_or_plan(ctx: Context) -> Iterator[Hit]:
    for index, plan in enumerate(ctx.spec.monetization.plans):
        if plan.tier is not None and plan.tier not in ctx.tier_ids:
            yield Hit(
                f"monetization.plans[{index}].tier",
                f"plan {plan.id!r} grants tier {plan.tier!r}, which is not a tier",
                f"方案 {plan.id!r} 授予等级 {plan.tier!r}，但没有这个等级",
            )
    for index, tier in enumerate(ctx.spec.tiers):
        wanted = tier.promote.plan if tier.promote else None
        if wanted is not None and wanted not in ctx.plan_ids:
            yield Hit(
                f"tiers[{index}].promote.plan",
                f"tier {tier.id!r} is granted by plan {wanted!r}, which is not a plan",
                f"等级 {tier.id!r} 由方案 {wanted!r} 授予，但没有这个方案",
            )


@check("QZ407", "warning", "Staff entry repeated or malformed", "工作人员条目重复或格式不对")
def staff_malformed(ctx: Context) -> Iterator[Hit]:
    seen: set[str] = set()
    for index, entry in enumerate(ctx.spec.staff):
        platform, sep, user = entry.partition(":")
        if entry in seen:
            yield Hit(
                f"staff[{index}]",
                f"staff entry {entry!r} is listed twice",
                f"工作人员 {entry!r} 重复列出",
            )
        elif sep and platform in PLATFORMS and not user.strip():
            yield Hit(
                f"staff[{index}]",
                f"staff entry {entry!r} names a platform but no account id after the colon",
                f"工作人员 {entry!r} 写了平台但冒号后没有账号 ID",
            )
        seen.add(entry)


@check("QZ408", "warning", "Staff entry names nobody", "工作人员条目找不到成员")
def staff_unknown(ctx: Context) -> Iterator[Hit]:
    if ctx.names_member is None:  # checked where the community's members are at hand
        return
    for index, entry in enumerate(ctx.spec.staff):
        if not ctx.names_member(entry):
            yield Hit(
                f"staff[{index}]",
                f"staff entry {entry!r} names no member of this community: write "
                "platform:user_id (e.g. telegram:123456) or a member's display name as shown",
                f"工作人员 {entry!r} 在本社群找不到成员：请写 平台:用户ID"
                "（如 telegram:123456）或成员显示的昵称",
            )
