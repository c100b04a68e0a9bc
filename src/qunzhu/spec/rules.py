"""Group rules (群规), the escalation ladder and the texts members see when rules bite.

The shape of ``rules`` and ``escalation`` is a contract with qunzhu.moderation: each
rule says what to do (``action``) and how many points a breach adds (``severity``); the
ladder turns a member's unexpired points into the next step.
"""

from __future__ import annotations

import string
from typing import Literal

from pydantic import Field, field_validator

from qunzhu.spec.base import Action, Ident, Severity, SpecModel, Word


class ActionRule(SpecModel):
    """A content kind that is either allowed or acted on."""

    action: Action = "delete_warn"
    severity: Severity = 3


class LinkRule(SpecModel):
    allowed: bool = True
    allow_domains: list[Word] = Field(default_factory=list)
    newcomer_block_days: int = Field(1, ge=0)
    severity: Severity = 2


class BannedWordsRule(SpecModel):
    words: list[Word] = Field(default_factory=list)
    use_base_list: bool = True
    action: Action = "delete_warn"
    severity: Severity = 2


class FloodingRule(SpecModel):
    max_messages: int = Field(8, ge=1)
    per_seconds: int = Field(30, ge=1)
    action: Action = "mute"
    severity: Severity = 1


class DuplicateAcrossGroupsRule(SpecModel):
    max_groups: int = Field(3, ge=1)
    per_seconds: int = Field(600, ge=1)
    action: Action = "delete_warn"
    severity: Severity = 2


class MassMentionsRule(SpecModel):
    max_mentions: int = Field(5, ge=1)
    action: Action = "delete_warn"
    severity: Severity = 2


class ClassifierRule(SpecModel):
    """Scores are calibrated probabilities of spam (the shipped model's are)."""

    threshold_flag: float = Field(0.6, ge=0.0, le=1.0)
    threshold_act: float = Field(0.9, ge=0.0, le=1.0)
    # a classifier score alone acts on a member in good standing (no unexpired points, and
    # some value or good_standing_days of tenure) only from this probability; below it the
    # message waits for review
    threshold_act_good_standing: float = Field(0.98, ge=0.0, le=1.0)
    # and flags their message for review only from this one: members in good standing post
    # ads far more rarely than the senders the model learned from, so the same score means
    # a smaller chance of spam, and flags below it are mostly ordinary chat
    threshold_flag_good_standing: float = Field(0.8, ge=0.0, le=1.0)
    good_standing_days: int = Field(14, ge=0)
    # this community's model file (`qunzhu moderation train --community`), absolute path;
    # unset: the process's model (QUNZHU_MODERATION_MODEL, else the shipped one)
    model: str | None = None
    action: Action = "delete_warn"
    severity: Severity = 3


class Rules(SpecModel):
    """What is allowed in the groups (群规)."""

    ads: ActionRule = Field(default_factory=lambda: ActionRule(action="delete_warn", severity=3))
    links: LinkRule = Field(default_factory=LinkRule)
    qr_codes: ActionRule = Field(default_factory=lambda: ActionRule(severity=3))
    contact_cards: ActionRule = Field(default_factory=lambda: ActionRule(severity=2))
    contact_solicitation: ActionRule = Field(default_factory=lambda: ActionRule(severity=3))
    group_invites: ActionRule = Field(default_factory=lambda: ActionRule(severity=4))
    banned_words: BannedWordsRule = Field(default_factory=BannedWordsRule)
    flooding: FloodingRule = Field(default_factory=FloodingRule)
    duplicate_across_groups: DuplicateAcrossGroupsRule = Field(
        default_factory=DuplicateAcrossGroupsRule
    )
    mass_mentions: MassMentionsRule = Field(default_factory=MassMentionsRule)
    who_may_invite: Literal["all", "members", "operators"] = "all"
    # a join invited by someone who_may_invite leaves out: flag it for the operators, ask an
    # admin to decide (a task), or remove the person (the inviter is told in the group)
    uninvited_join: Literal["flag", "ask", "remove"] = "ask"
    classifier: ClassifierRule = Field(default_factory=ClassifierRule)

    def severities(self) -> dict[str, int]:
        """Severity of every rule that acts, by rule name (allowed kinds add no points)."""
        found: dict[str, int] = {}
        for name in type(self).model_fields:
            rule = getattr(self, name)
            if isinstance(rule, LinkRule):
                if not rule.allowed or rule.newcomer_block_days:
                    found[name] = rule.severity
            elif hasattr(rule, "severity") and getattr(rule, "action", "allow") != "allow":
                found[name] = rule.severity
        return found


class EscalationStep(SpecModel):
    """One rung: reached when a member's unexpired points total at least ``points``."""

    points: int = Field(ge=1)
    action: Action
    duration_minutes: int | None = Field(None, ge=1)


def _default_ladder() -> list[EscalationStep]:
    return [
        EscalationStep(points=1, action="warn"),
        EscalationStep(points=6, action="mute", duration_minutes=60),
        EscalationStep(points=12, action="remove"),
        EscalationStep(points=20, action="blacklist"),
    ]


class Escalation(SpecModel):
    """Warn → mute → remove → blacklist, driven by points that expire."""

    points_expire_days: int = Field(30, ge=1)
    ladder: list[EscalationStep] = Field(default_factory=_default_ladder)
    tier_slack: dict[Ident, float] = Field(
        default_factory=dict, description="tier id -> points multiplier"
    )
    protected: list[Ident] = Field(default_factory=list)

    @field_validator("tier_slack")
    @classmethod
    def _multipliers_not_negative(cls, value: dict[str, float]) -> dict[str, float]:
        for tier, factor in value.items():
            if factor < 0:
                raise ValueError(f"multiplier for {tier!r} is negative: {factor} (系数不能为负)")
        return value

    def step_for(self, points: float) -> EscalationStep | None:
        """The highest rung a member with ``points`` has reached, if any."""
        reached = [step for step in self.ladder if points >= step.points]
        return max(reached, key=lambda step: step.points) if reached else None


PLACEHOLDERS = frozenset({"member", "rule", "duration", "group", "community"})
MessageKind = Literal["warn", "mute", "remove", "welcome"]


class MessageTemplate(SpecModel):
    """One text in Chinese (zh-CN) and English; placeholders in braces, e.g. {member}."""

    zh_cn: str = Field(alias="zh-CN")
    en: str

    @field_validator("zh_cn", "en")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            names = {field for _, field, _, _ in string.Formatter().parse(value) if field}
        except ValueError as exc:
            raise ValueError(f"unbalanced braces in template: {exc} (花括号不成对)") from None
        unknown = sorted(names - PLACEHOLDERS)
        if unknown:
            allowed = ", ".join("{" + name + "}" for name in sorted(PLACEHOLDERS))
            name = "{" + unknown[0] + "}"
            raise ValueError(f"unknown placeholder {name}; use {allowed} (未知占位符 {name})")
        return value

    def render(self, lang: str, **values: str) -> str:
        """The text in ``lang`` ("zh-CN"/"zh" or "en") with values filled in."""
        text = self.zh_cn if lang.lower().startswith("zh") else self.en
        return string.Formatter().vformat(text, (), _Blanks(values))


class _Blanks(dict[str, str]):
    # A template may leave out any placeholder; a missing value renders as nothing.
    def __missing__(self, key: str) -> str:
        return ""


def _template(zh: str, en: str) -> MessageTemplate:
    return MessageTemplate.model_validate({"zh-CN": zh, "en": en})


class Messages(SpecModel):
    """Texts sent when moderation acts and when someone joins."""

    warn: MessageTemplate = Field(
        default_factory=lambda: _template(
            "{member} 请注意群规：{rule}。再次违反将被禁言。",
            "{member}, please mind the group rules: {rule}. Doing it again gets you muted.",
        )
    )
    mute: MessageTemplate = Field(
        default_factory=lambda: _template(
            "{member} 因{rule}被禁言 {duration}。",
            "{member} is muted for {duration} ({rule}).",
        )
    )
    remove: MessageTemplate = Field(
        default_factory=lambda: _template(
            "{member} 多次违反群规（{rule}），已被移出本群。",
            "{member} has been removed after repeated breaches ({rule}).",
        )
    )
    welcome: MessageTemplate = Field(
        default_factory=lambda: _template(
            "欢迎 {member} 加入{group}！请先阅读群公告，再做个自我介绍吧。",
            "Welcome to {group}, {member}! Please read the pinned rules and introduce yourself.",
        )
    )

    def render(self, kind: MessageKind, lang: str, **values: str) -> str:
        """The text for ``kind`` in ``lang`` ("zh-CN"/"zh" or "en") with values filled in."""
        template: MessageTemplate = getattr(self, kind)
        return template.render(lang, **values)
