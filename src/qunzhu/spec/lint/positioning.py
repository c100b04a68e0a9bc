"""Checks on positioning (定位), admission (门槛) and size (规模): QZ0xx–QZ2xx."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qunzhu.spec.lint.core import Context, Hit, check

LONG_TERM_CAP = 500
CORE_GROUP_CAP = 100


def _duplicates(section: str, ids: Sequence[str]) -> Iterator[Hit]:
    seen: set[str] = set()
    for index, item_id in enumerate(ids):
        if item_id in seen:
            yield Hit(
                f"{section}[{index}].id",
                f"{section}: id {item_id!r} is used twice; ids must be unique",
                f"{section}：id {item_id!r} 重复，id 必须唯一",
            )
        seen.add(item_id)


@check("QZ001", "error", "Duplicate ids", "id 重复")
def duplicate_ids(ctx: Context) -> Iterator[Hit]:
    spec = ctx.spec
    yield from _duplicates("tiers", [t.id for t in spec.tiers])
    yield from _duplicates("monetization.plans", [p.id for p in spec.monetization.plans])
    yield from _duplicates("threshold.questions", [q.id for q in spec.threshold.questions])
    yield from _duplicates("segments", [s.id for s in spec.segments])


@check("QZ008", "error", "Unknown time zone", "未知时区")
def unknown_zone(ctx: Context) -> Iterator[Hit]:
    named = [("timezone", ctx.spec.timezone)]
    named += [(f"groups.{key}.timezone", g.timezone) for key, g in ctx.spec.groups.items()]
    for path, name in named:
        if name is not None and not _is_zone(name):
            yield Hit(
                path,
                f"{path}: {name!r} is not an IANA time zone (e.g. Asia/Shanghai, Europe/Berlin)",
                f"{path}：{name!r} 不是 IANA 时区（例如 Asia/Shanghai、Europe/Berlin）",
            )


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@check("QZ101", "error", "Campaign with no end date", "活动群没有结束日期")
def campaign_without_end(ctx: Context) -> Iterator[Hit]:
    lifecycle = ctx.spec.lifecycle
    if lifecycle.kind == "campaign" and lifecycle.ends_on is None:
        yield Hit(
            "lifecycle.ends_on",
            "a campaign community needs an end date (ends_on); without one it never closes",
            "活动型社群需要结束日期（ends_on），否则永远不会收尾",
        )


@check("QZ102", "warning", "Campaign already ended", "活动已结束")
def campaign_ended(ctx: Context) -> Iterator[Hit]:
    lifecycle = ctx.spec.lifecycle
    if lifecycle.kind == "campaign" and lifecycle.ends_on and lifecycle.ends_on < ctx.today:
        yield Hit(
            "lifecycle.ends_on",
            f"the campaign ended on {lifecycle.ends_on}; close the groups or move the date",
            f"活动已于 {lifecycle.ends_on} 结束；请解散群或调整日期",
        )


@check("QZ103", "warning", "Long-term community with an end date", "长期社群却有结束日期")
def long_term_with_end(ctx: Context) -> Iterator[Hit]:
    lifecycle = ctx.spec.lifecycle
    if lifecycle.kind == "long_term" and lifecycle.ends_on is not None:
        yield Hit(
            "lifecycle.ends_on",
            "a long-term community has an end date; make it a campaign or drop ends_on",
            "长期社群写了结束日期：改为 campaign 或删去 ends_on",
        )


@check("QZ104", "warning", "No persona", "未描述用户画像")
def persona_empty(ctx: Context) -> Iterator[Hit]:
    if ctx.spec.persona.is_empty():
        yield Hit(
            "persona",
            "persona is empty: say who the community is for (age band, region, "
            "occupation, needs) so admission and content can aim at them",
            "用户画像为空：写明年龄段、地区、职业、需求，门槛和内容才有方向",
        )


@check("QZ105", "info", "Culture without slogan or values", "社群文化缺口号或倡导")
def culture_thin(ctx: Context) -> Iterator[Hit]:
    culture = ctx.spec.culture
    if not culture.slogan or not culture.advocate:
        missing = [
            name
            for name, v in (("slogan", culture.slogan), ("advocate", culture.advocate))
            if not v
        ]
        yield Hit(
            "culture",
            f"culture has no {' and no '.join(missing)}: members take their cue from them",
            "社群文化缺少" + "和".join({"slogan": "口号", "advocate": "倡导"}[m] for m in missing),
        )


@check("QZ106", "warning", "No stated member value", "未说明成员价值")
def member_value_missing(ctx: Context) -> Iterator[Hit]:
    # A paid threshold raises the stronger QZ203 instead.
    if not ctx.spec.member_value and ctx.spec.threshold.kind != "paid":
        yield Hit(
            "member_value",
            "member_value is empty: say what members get, or they will not stay",
            "member_value 为空：写明成员能得到什么，否则留不住人",
        )


@check("QZ107", "info", "No platforms", "未指定平台")
def platforms_missing(ctx: Context) -> Iterator[Hit]:
    if not ctx.spec.platforms:
        yield Hit(
            "platforms",
            "no platforms listed: name where the groups live (wechat, qq, telegram, …)",
            "未列出平台：写明群在哪里（wechat、qq、telegram …）",
        )


@check("QZ201", "warning", "Long-term group capped above 500", "长期群上限超过 500")
def long_term_cap(ctx: Context) -> Iterator[Hit]:
    spec = ctx.spec
    if spec.lifecycle.kind == "long_term" and spec.size.cap > LONG_TERM_CAP:
        yield Hit(
            "size.cap",
            f"a long-term service group capped at {spec.size.cap}: above {LONG_TERM_CAP} "
            "people stop knowing each other; 200–300 keeps it alive",
            f"长期服务群上限 {spec.size.cap} 过大：超过 {LONG_TERM_CAP} 人互相不认识，建议 200–300",
        )


@check("QZ202", "warning", "Core group that splits into new groups", "核心小群却开新群")
def core_group_new_group(ctx: Context) -> Iterator[Hit]:
    size = ctx.spec.size
    if size.cap < CORE_GROUP_CAP and size.policy == "new_group":
        yield Hit(
            "size.policy",
            f"a core group of {size.cap} opens new groups when full, which dilutes it; "
            "use waitlist or one_in_one_out",
            f"{size.cap} 人核心群满员就开新群会稀释核心；建议 waitlist 或 one_in_one_out",
        )


@check("QZ203", "error", "Paid threshold with no stated member value", "付费门槛未说明价值")
def paid_without_value(ctx: Context) -> Iterator[Hit]:
    if ctx.spec.threshold.kind == "paid" and not ctx.spec.member_value:
        yield Hit(
            "member_value",
            "people are asked to pay but member_value does not say what they get",
            "要求付费入群，但 member_value 没写成员能得到什么",
        )


@check("QZ204", "error", "Paid threshold with no plan", "付费门槛没有方案")
def paid_without_plan(ctx: Context) -> Iterator[Hit]:
    if ctx.spec.threshold.kind == "paid" and not ctx.spec.threshold.plans:
        yield Hit(
            "threshold.plans",
            "a paid threshold lists no plan (threshold.plans); nobody can pay to get in",
            "付费门槛未列出方案（threshold.plans），无法付费入群",
        )


@check("QZ205", "error", "Threshold names an unknown plan", "门槛引用了不存在的方案")
def threshold_unknown_plan(ctx: Context) -> Iterator[Hit]:
    for index, plan_id in enumerate(ctx.spec.threshold.plans):
        if plan_id not in ctx.plan_ids:
            yield Hit(
                f"threshold.plans[{index}]",
                f"plan {plan_id!r} is not among monetization.plans",
                f"方案 {plan_id!r} 不在 monetization.plans 中",
            )


@check("QZ206", "warning", "Application with no questions", "申请入群却没有问题")
def application_without_questions(ctx: Context) -> Iterator[Hit]:
    threshold = ctx.spec.threshold
    if threshold.kind == "application" and not threshold.questions:
        yield Hit(
            "threshold.questions",
            "an application threshold asks no questions; reviewers have nothing to judge by",
            "申请制门槛没有问题，审核无从判断",
        )


@check("QZ207", "warning", "Automatic review with nothing to judge", "自动审核没有依据")
def auto_review_blind(ctx: Context) -> Iterator[Hit]:
    threshold = ctx.spec.threshold
    has_choices = any(q.choices for q in threshold.questions)
    if threshold.review == "auto" and not (
        threshold.allow_words or threshold.deny_words or has_choices
    ):
        yield Hit(
            "threshold.review",
            "automatic review with no allow_words, deny_words or choice questions admits everyone",
            "自动审核既无 allow_words/deny_words 也无选择题，等于谁都放行",
        )


@check("QZ208", "error", "One-in-one-out with nobody protected", "一进一出却无人受保护")
def one_in_one_out_unprotected(ctx: Context) -> Iterator[Hit]:
    size = ctx.spec.size
    if size.policy == "one_in_one_out" and not size.protected:
        yield Hit(
            "size.protected",
            "one-in-one-out with nobody protected could remove the owner, staff or KOLs; "
            "list roles, tiers or member ids under size.protected",
            "一进一出却没有受保护名单，群主、管理员或大咖也可能被移出；请填写 size.protected",
        )


@check("QZ209", "warning", "Anyone may invite past the threshold", "人人可拉人，门槛形同虚设")
def invites_bypass_threshold(ctx: Context) -> Iterator[Hit]:
    spec = ctx.spec
    if spec.threshold.kind != "open" and spec.rules.who_may_invite == "all":
        yield Hit(
            "rules.who_may_invite",
            f"the threshold is {spec.threshold.kind}, but anyone in a group may pull people "
            "in and skip it; let only members or operators invite",
            f"门槛为 {spec.threshold.kind}，但群里任何人都能直接拉人进群绕过门槛；"
            "请改为 members 或 operators",
        )
