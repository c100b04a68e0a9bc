"""Checks on referral (裂变), monetization (变现), segments and routing: QZ5xx–QZ6xx."""

from __future__ import annotations

from collections.abc import Iterator

from qunzhu.spec.lint.core import Context, Hit, check
from qunzhu.spec.schema import MonetizationModel, PlanKind

# The kinds of paid plan that give each model something to sell.
_MEANS: dict[MonetizationModel, tuple[PlanKind, ...]] = {
    "membership_fee": ("membership",),
    "product_sales": ("product",),
    "services": ("service",),
    "knowledge_paid": ("knowledge", "membership"),
}


@check("QZ501", "error", "Referral ladder with no qualification", "裂变奖励没有有效邀请规则")
def referral_unqualified(ctx: Context) -> Iterator[Hit]:
    referral = ctx.spec.referral
    if referral.ladder and referral.qualification is None:
        yield Hit(
            "referral.qualification",
            "the reward ladder pays for every join: add qualification (stay_days, "
            "must_speak, min_value) or it rewards bought and fake accounts",
            "奖励阶梯对每次入群都计数：请加 qualification（留存天数、是否发言），否则会被刷量",
        )


@check("QZ502", "error", "Referral ladder not increasing", "裂变阶梯不递增")
def referral_not_increasing(ctx: Context) -> Iterator[Hit]:
    ladder = ctx.spec.referral.ladder
    for index in range(1, len(ladder)):
        if ladder[index].invitees <= ladder[index - 1].invitees:
            yield Hit(
                f"referral.ladder[{index}].invitees",
                f"rung {index} asks {ladder[index].invitees} invitees, not more than the rung "
                f"before ({ladder[index - 1].invitees})",
                f"第 {index} 级要求邀请 {ladder[index].invitees} 人，不多于上一级",
            )


@check("QZ503", "error", "Referral reward names an unknown tier", "裂变奖励等级不存在")
def referral_unknown_tier(ctx: Context) -> Iterator[Hit]:
    for index, rung in enumerate(ctx.spec.referral.ladder):
        reward = rung.reward
        if reward.kind == "tier" and reward.value not in ctx.tier_ids:
            yield Hit(
                f"referral.ladder[{index}].reward.value",
                f"the reward tier {reward.value!r} is not a tier",
                f"奖励等级 {reward.value!r} 未定义",
            )


@check("QZ504", "warning", "Referral enabled with no rewards", "开启裂变却没有奖励")
def referral_without_ladder(ctx: Context) -> Iterator[Hit]:
    referral = ctx.spec.referral
    if referral.enabled and not referral.ladder:
        yield Hit(
            "referral.ladder",
            "referral is enabled but the ladder is empty: invites are tracked, never rewarded",
            "已开启裂变但奖励阶梯为空：只统计邀请，不发奖励",
        )


@check("QZ505", "warning", "Qualification counts anyone", "有效邀请条件过松")
def qualification_too_weak(ctx: Context) -> Iterator[Hit]:
    rule = ctx.spec.referral.qualification
    if rule is not None and rule.stay_days == 0 and not rule.must_speak and not rule.min_value:
        yield Hit(
            "referral.qualification",
            "an invitee counts the moment they join: ask them to stay some days or to speak",
            "被邀请人一入群就算有效：请要求留存天数或发言",
        )


@check("QZ601", "error", "Monetization model with no means", "变现模式没有对应手段")
def monetization_without_means(ctx: Context) -> Iterator[Hit]:
    monetization = ctx.spec.monetization
    model = monetization.model
    paid = [plan for plan in monetization.plans if plan.price_cents > 0]
    if model in _MEANS and not any(plan.kind in _MEANS[model] for plan in paid):
        kinds = " or ".join(_MEANS[model])
        yield Hit(
            "monetization.plans",
            f"the model is {model} but no paid plan of kind {kinds} exists to sell",
            f"变现模式为 {model}，却没有可售的 {kinds} 类付费方案",
        )
    elif model == "hybrid" and len({plan.kind for plan in paid}) < 2:
        yield Hit(
            "monetization.plans",
            "a hybrid model needs paid plans of at least two kinds",
            "混合变现至少需要两类付费方案",
        )


@check("QZ602", "warning", "Paid plans with monetization none", "有付费却写不变现")
def paid_but_model_none(ctx: Context) -> Iterator[Hit]:
    spec = ctx.spec
    charges = spec.threshold.kind == "paid" or any(p.price_cents for p in spec.monetization.plans)
    if spec.monetization.model == "none" and charges:
        yield Hit(
            "monetization.model",
            "members are charged but monetization.model is none; name the model",
            "有收费却把 monetization.model 写成 none，请写明变现模式",
        )


@check("QZ603", "error", "Routing to an unknown segment", "分流到不存在的分群")
def route_unknown_segment(ctx: Context) -> Iterator[Hit]:
    for index, rule in enumerate(ctx.spec.routing.rules):
        if rule.segment not in ctx.segment_ids:
            yield Hit(
                f"routing.rules[{index}].segment",
                f"routing sends people to segment {rule.segment!r}, which is not defined",
                f"分流规则指向分群 {rule.segment!r}，但它未定义",
            )


@check("QZ604", "warning", "Routing on an unknown question", "分流依据的问题不存在")
def route_unknown_question(ctx: Context) -> Iterator[Hit]:
    for index, rule in enumerate(ctx.spec.routing.rules):
        for question in rule.match.answers:
            if question not in ctx.question_ids:
                yield Hit(
                    f"routing.rules[{index}].match.answers.{question}",
                    f"routing reads the answer to {question!r}, which the threshold never asks",
                    f"分流读取问题 {question!r} 的回答，但门槛里没有这个问题",
                )


@check("QZ605", "warning", "Catch-all route before others", "兜底分流规则不在最后")
def catch_all_shadows(ctx: Context) -> Iterator[Hit]:
    rules = ctx.spec.routing.rules
    for index, rule in enumerate(rules[:-1]):
        if rule.match.is_catch_all:
            yield Hit(
                f"routing.rules[{index}]",
                f"rule {index} matches everyone, so the {len(rules) - index - 1} rule(s) "
                "after it never apply; move it last",
                f"第 {index} 条规则匹配所有人，后面的规则永远不会生效；请放到最后",
            )


@check("QZ606", "warning", "Segment with no groups", "分群没有群")
def segment_without_groups(ctx: Context) -> Iterator[Hit]:
    for index, segment in enumerate(ctx.spec.segments):
        if not segment.groups:
            yield Hit(
                f"segments[{index}].groups",
                f"segment {segment.id!r} has no groups; people routed there have nowhere to go",
                f"分群 {segment.id!r} 没有任何群，分流过去的人无处可去",
            )


@check("QZ607", "warning", "Group in more than one segment", "同一个群属于多个分群")
def group_in_two_segments(ctx: Context) -> Iterator[Hit]:
    first: dict[str, str] = {}
    for index, segment in enumerate(ctx.spec.segments):
        for position, group in enumerate(segment.groups):
            owner = first.setdefault(group, segment.id)
            if owner != segment.id:
                yield Hit(
                    f"segments[{index}].groups[{position}]",
                    f"group {group!r} is in segment {owner!r} already; a group serves one "
                    "segment, or routing and size policy cannot tell which applies",
                    f"群 {group!r} 已属于分群 {owner!r}；一个群只能属于一个分群",
                )
