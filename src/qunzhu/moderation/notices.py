"""What the member is told and what the platform is asked to do for a decision.

The member hears which rule, in the spec's zh-CN / en template. Where the platform cannot
delete, mute or remove (WeCom, IRC, WhatsApp: DESIGN §3), the decision becomes one ``alert``
action for an operator carrying everything that would have been done. A platform that can do
part of it (a WeChat personal account: post, and remove where it is the group's owner or
admin) does that part, and the rest becomes the alert.
"""

from __future__ import annotations

from typing import Any

from qunzhu import events as ev
from qunzhu.events import make_key
from qunzhu.moderation.decide import Decision
from qunzhu.spec.schema import CommunitySpec

CAN_ACT = frozenset({"telegram", "qq", "discord", "api", "test"})
PARTLY: dict[str, frozenset[str]] = {"wechat": frozenset({"warn", "send_message", "remove", "ban"})}


def warns_early(platform: str) -> bool:
    """A platform whose account can warn but not delete (WeChat through any bridge): its
    first answer to an ad is the warning, sent at receipt (moderation.early_warn)."""
    can = PARTLY.get(platform, frozenset())
    return platform not in CAN_ACT and "warn" in can and "delete_message" not in can


RULE_NAMES: dict[str, tuple[str, str]] = {
    "ads": ("禁止发广告", "no ads"),
    "classifier": ("禁止发广告和垃圾信息", "no ads or spam"),
    "links": ("禁止发链接", "no links"),
    "qr_codes": ("禁止发二维码", "no QR codes"),
    "contact_cards": ("禁止发名片", "no contact cards"),
    "contact_solicitation": ("禁止留联系方式拉人", "no contact details for solicitation"),
    "group_invites": ("禁止拉人进其他群", "no invitations to other groups"),
    "banned_words": ("禁止使用违禁词", "no banned words"),
    "flooding": ("禁止刷屏", "no flooding"),
    "duplicate_across_groups": ("禁止多群重复发送", "no posting the same text in many groups"),
    "mass_mentions": ("禁止群发@", "no mass mentions"),
}


def rule_name(rule: str, lang: str) -> str:
    zh, en = RULE_NAMES.get(rule, (rule, rule))
    return zh if lang.lower().startswith("zh") else en


def _duration(minutes: int | None, lang: str) -> str:
    if not minutes:
        return ""
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} 天" if lang.startswith("zh") else f"{days} day{'s' * (days != 1)}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} 小时" if lang.startswith("zh") else f"{hours} hour{'s' * (hours != 1)}"
    return f"{minutes} 分钟" if lang.startswith("zh") else f"{minutes} minutes"


def notice(decision: Decision, spec: CommunitySpec, lang: str, member: str, group: str) -> str:
    """The text the member is sent for the decision's sanction ('' when there is none)."""
    if decision.sanction is None or decision.main is None:
        return ""
    kind = {"warn": "warn", "mute": "mute", "remove": "remove", "blacklist": "remove"}[
        decision.sanction
    ]
    return spec.messages.render(
        kind,  # type: ignore[arg-type]
        lang,
        member=member,
        rule=rule_name(decision.main.rule, lang),
        duration=_duration(decision.duration_minutes, lang),
        group=group,
        community=spec.name,
    )


def actions_for(
    decision: Decision, event: ev.MessagePosted, spec: CommunitySpec, lang: str
) -> list[ev.Action]:
    """Platform actions that carry a decision out (none for allow and flag)."""
    if decision.action in ("allow", "flag") or decision.main is None:
        return []
    main = decision.main
    detail: dict[str, Any] = {
        "event": event.key,
        "rule": main.rule,
        "detector": main.detector,
        "evidence": main.as_dict()["evidence"],
        "score": round(main.score, 4),
        "points": decision.points,
        "total_points": decision.total_points,
        "decision": decision.action,
    }
    where: dict[str, Any] = {
        "platform": event.platform,
        "community": event.community,
        "group": event.group,
    }
    reason = f"{main.rule}: {main.detector}"
    text = notice(decision, spec, lang, event.member_name or event.member, event.group)
    # a sanction is one per message, as its delete (whose key holds the message id): a
    # member's second warning in a group is a second action, not the first one again, and
    # an early warning (moderation.early) claims the key of its own message's warning
    key = make_key("sanction", event.key, decision.sanction, text)
    planned: list[ev.Action] = []
    if decision.delete:
        planned.append(
            ev.Action(
                kind="delete_message",
                message_id=event.message_id,
                member=event.member,
                reason=reason,
                detail=detail,
                **where,
            )
        )
    if decision.sanction == "warn":
        planned.append(
            ev.Action(
                kind="warn",
                member=event.member,
                text=text,
                reason=reason,
                detail=detail,
                key=key,
                **where,
            )
        )
    elif decision.sanction == "mute":
        seconds = (decision.duration_minutes or 10) * 60
        planned.append(
            ev.Action(
                kind="mute",
                member=event.member,
                text=text,
                reason=reason,
                duration_seconds=seconds,
                detail=detail,
                key=key,
                **where,
            )
        )
    elif decision.sanction == "remove":
        planned.append(
            ev.Action(
                kind="remove",
                member=event.member,
                text=text,
                reason=reason,
                detail=detail,
                key=key,
                **where,
            )
        )
    elif decision.sanction == "blacklist":
        planned.append(
            ev.Action(
                kind="ban",
                member=event.member,
                text=text,
                reason=reason,
                detail={**detail, "scope": "community"},
                key=key,
                **where,
            )
        )
    if event.platform in CAN_ACT:
        return planned
    can = PARTLY.get(event.platform, frozenset())
    kept = [a for a in planned if a.kind in can]
    would = [a.kind for a in planned if a.kind not in can]
    if not would:
        return kept
    alert = (
        f"{event.platform} cannot act: {', '.join(would)} {event.member} in {event.group} "
        f"({reason}; evidence: {detail['evidence'][:80]})"
    )
    return [
        *kept,
        ev.Action(
            kind="alert",
            member=event.member,
            message_id=event.message_id,
            text=alert,
            reason=reason,
            detail={**detail, "would": would},
            **where,
        ),
    ]
