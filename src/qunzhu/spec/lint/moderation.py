"""Checks on group rules (群规) and the escalation ladder: QZ3xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePath

from qunzhu.spec.base import ACTION_ORDER
from qunzhu.spec.lint.core import Context, Hit, check

_HARSH = ("remove", "blacklist")


@check("QZ301", "warning", "Ads allowed with no rule", "广告放任无规则")
def ads_unruled(ctx: Context) -> Iterator[Hit]:
    spec = ctx.spec
    if spec.rules.ads.action == "allow" and spec.monetization.model not in ("ads", "hybrid"):
        yield Hit(
            "rules.ads.action",
            "ads are allowed and nothing in the spec earns from them; ad spam is what kills "
            "groups first: delete_warn them, or make ads part of monetization",
            "广告被放行而社群并不靠广告变现；广告是死群的头号原因，建议 delete_warn",
        )


@check("QZ302", "error", "Escalation ladder not increasing", "处罚阶梯不递增")
def ladder_not_increasing(ctx: Context) -> Iterator[Hit]:
    ladder = ctx.spec.escalation.ladder
    for index in range(1, len(ladder)):
        before, step = ladder[index - 1], ladder[index]
        if step.points <= before.points:
            yield Hit(
                f"escalation.ladder[{index}].points",
                f"rung {index} needs {step.points} points, not more than the rung before "
                f"({before.points}); list rungs by rising points",
                f"第 {index} 级所需积分 {step.points} 不高于上一级（{before.points}），"
                "请按积分递增排列",
            )
        elif ACTION_ORDER.index(step.action) < ACTION_ORDER.index(before.action):
            yield Hit(
                f"escalation.ladder[{index}].action",
                f"rung {index} ({step.action}) is milder than the rung before "
                f"({before.action}); more points should never mean a lighter step",
                f"第 {index} 级处罚（{step.action}）比上一级（{before.action}）更轻",
            )


@check("QZ303", "error", "Mute with no duration", "禁言没有时长")
def mute_without_duration(ctx: Context) -> Iterator[Hit]:
    for index, step in enumerate(ctx.spec.escalation.ladder):
        if step.action == "mute" and step.duration_minutes is None:
            yield Hit(
                f"escalation.ladder[{index}]",
                "a mute rung needs duration_minutes",
                "禁言这一级需要写 duration_minutes",
            )


@check("QZ304", "error", "Classifier thresholds inverted", "分类器阈值颠倒")
def classifier_inverted(ctx: Context) -> Iterator[Hit]:
    classifier = ctx.spec.rules.classifier
    if classifier.threshold_flag > classifier.threshold_act:
        yield Hit(
            "rules.classifier.threshold_flag",
            f"threshold_flag {classifier.threshold_flag} is above threshold_act "
            f"{classifier.threshold_act}: everything acted on should have been flagged first",
            f"threshold_flag（{classifier.threshold_flag}）高于 threshold_act"
            f"（{classifier.threshold_act}）",
        )
    if classifier.threshold_act_good_standing < classifier.threshold_act:
        yield Hit(
            "rules.classifier.threshold_act_good_standing",
            f"threshold_act_good_standing {classifier.threshold_act_good_standing} is below "
            f"threshold_act {classifier.threshold_act}: a member in good standing would be "
            "acted on sooner than anyone else; make it at least threshold_act",
            f"threshold_act_good_standing（{classifier.threshold_act_good_standing}）低于 "
            f"threshold_act（{classifier.threshold_act}）：信誉良好的成员反而更早被处罚",
        )


@check("QZ305", "warning", "One breach removes a member", "一次违规即被移出")
def one_strike_removal(ctx: Context) -> Iterator[Hit]:
    harsh = [s for s in ctx.spec.escalation.ladder if s.action in _HARSH]
    if not harsh:
        return
    first = min(harsh, key=lambda step: step.points)
    for rule, severity in ctx.spec.rules.severities().items():
        if severity >= first.points:
            yield Hit(
                f"rules.{rule}.severity",
                f"one {rule} breach ({severity} points) reaches {first.action} at once; "
                "if that is meant, set the rule's action to it instead",
                f"一次 {rule} 违规（{severity} 分）就直接 {first.action}；"
                "若是有意为之，请直接把该规则的 action 设为它",
            )


@check("QZ306", "warning", "Points slack for an unknown tier", "积分系数指向未知等级")
def slack_unknown_tier(ctx: Context) -> Iterator[Hit]:
    for tier_id in ctx.spec.escalation.tier_slack:
        if tier_id not in ctx.tier_ids:
            yield Hit(
                f"escalation.tier_slack.{tier_id}",
                f"tier_slack names {tier_id!r}, which is not a tier",
                f"tier_slack 中的 {tier_id!r} 不是已定义的等级",
            )


@check("QZ307", "warning", "Breaches add points that lead nowhere", "违规积分没有后果")
def ladder_missing(ctx: Context) -> Iterator[Hit]:
    if not ctx.spec.escalation.ladder and ctx.spec.rules.severities():
        yield Hit(
            "escalation.ladder",
            "rules give points but the escalation ladder is empty: repeat offenders "
            "are never muted or removed",
            "规则会记违规分，但处罚阶梯为空：屡犯者永远不会被禁言或移出",
        )


@check("QZ308", "warning", "Community model path not absolute", "社群模型路径不是绝对路径")
def community_model_relative(ctx: Context) -> Iterator[Hit]:
    path = ctx.spec.rules.classifier.model
    # workers start in directories of their own: a relative path means a different file
    # for each, or none, and the process's model then judges in silence
    if path is not None and not PurePath(path).is_absolute():
        yield Hit(
            "rules.classifier.model",
            f"model {path!r} is not an absolute path; the workers may not find it, and the "
            "default model then judges this community",
            f"模型 {path!r} 不是绝对路径，工作进程可能找不到，届时由默认模型判断",
        )
