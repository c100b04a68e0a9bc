"""Suggested actions drawn from the method, one per problem the health metrics show, each
naming the number behind it ("lurkers 82% > target 60%: start a topic, run a check-in")."""

from __future__ import annotations

from typing import Any

from qunzhu.engines.roles import ROLE_NAMES
from qunzhu.spec.members import RoleTargets

_ACTIONS: dict[str, tuple[str, str]] = {
    "lurkers_over_target": (
        "start a topic members can answer from experience, run a daily check-in (打卡), "
        "@-mention quiet members with a question they can answer",
        "发起一个大家能凭经验回答的话题，组织每日打卡，@潜水成员问一个他们能答的问题",
    ),
    "value_falling": (
        "post a valuable piece (干货) this week and schedule a live Q&A; ask core members to "
        "share what they are working on",
        "本周发一篇干货，安排一次直播答疑；请核心成员分享近况",
    ),
    "below_living": (
        "revive or merge: announce an event with a date, invite the core members personally; "
        "if nothing moves in two weeks, merge the group into a livelier one",
        "唤醒或合并：公布一次有日期的活动，逐个邀请核心成员；两周仍无起色就并入活跃群",
    ),
    "few_speakers": (
        "ask one easy question a day and reply to every answer within the hour",
        "每天抛一个简单问题，一小时内回应每条回答",
    ),
    "unanswered": (
        "answer the open questions (see the list) and name a responder for each topic",
        "回答列表中的待答问题，并为每个主题指定答疑人",
    ),
    "newcomers_silent": (
        "welcome each newcomer by name with a first task (introduce yourself, first check-in)",
        "点名欢迎每位新人，并给一个入门任务（自我介绍、第一次打卡）",
    ),
    "churn": (
        "ask leavers why (one question), and check the group for ads or flooding",
        "询问退群者原因，检查群内是否有广告或刷屏",
    ),
    "top_contributor_gone": (
        "the group leaned on one member who went quiet: ask them back for one session and "
        "grow two or three core members to share the load",
        "群依赖的大咖已沉默：请其回来做一次分享，同时培养两三位核心成员分担",
    ),
    "depends_on_few": (
        "grow core members: give active members a role (topic host, answerer) and credit them",
        "培养核心成员：给活跃成员一个角色（话题主持、答疑人）并公开致谢",
    ),
}


def suggest(group: str, reasons: list[dict[str, Any]], lang: str = "en") -> list[dict[str, Any]]:
    i = 1 if lang.startswith("zh") else 0
    out: list[dict[str, Any]] = []
    for r in reasons:
        action = _ACTIONS.get(r["code"])
        if action is None:
            continue
        finding = r["zh"] if i else r["en"]
        out.append(
            {
                "group": group,
                "code": r["code"],
                "finding": finding,
                "action": action[i],
                "text": f"{finding}: {action[i]}",
            }
        )
    return out


def role_mix_findings(mix: dict[str, float], targets: RoleTargets, lang: str = "en") -> list[str]:
    """Each role outside its target range, as one line."""
    zh = lang.startswith("zh")
    out: list[str] = []
    for role, rng in targets.ranges().items():
        share = mix.get(role, 0.0)
        name = ROLE_NAMES.get(role, (role, role))[1 if zh else 0]
        if rng.max is not None and share > rng.max:
            out.append(f"{name} {share:.0%} > {'目标' if zh else 'target'} {rng.max:.0%}")
        if rng.min is not None and share < rng.min:
            out.append(f"{name} {share:.0%} < {'目标' if zh else 'target'} {rng.min:.0%}")
    return out
