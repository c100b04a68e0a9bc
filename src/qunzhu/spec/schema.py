"""The community spec ``community.yaml`` (定位): one pydantic model per section.

Engines, moderation and the API import their section models from here; the names below
are the stable surface. A spec with only ``name`` and ``purpose`` is valid: every other
section has the defaults an operator would start from.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, PrivateAttr, field_validator

from qunzhu.spec.base import (
    ACTION_ORDER,
    ROLES,
    Action,
    Ident,
    Platform,
    Role,
    SpecModel,
    Word,
)
from qunzhu.spec.growth import (
    FraudThresholds,
    Qualification,
    Referral,
    ReferralRung,
    Reward,
    RouteMatch,
    RouteRule,
    Routing,
    Segment,
)
from qunzhu.spec.members import (
    DemoteRule,
    PromoteCriteria,
    RoleTargets,
    RoleThresholds,
    ShareRange,
    Tier,
    ValueWeights,
    default_tiers,
)
from qunzhu.spec.messaging import Messaging
from qunzhu.spec.playbooks import Playbook, check_names
from qunzhu.spec.positioning import (
    CommunityType,
    Culture,
    Lifecycle,
    Monetization,
    MonetizationModel,
    Persona,
    Plan,
    PlanKind,
    Question,
    SizePolicy,
    Threshold,
)
from qunzhu.spec.rules import (
    PLACEHOLDERS,
    ActionRule,
    BannedWordsRule,
    ClassifierRule,
    DuplicateAcrossGroupsRule,
    Escalation,
    EscalationStep,
    FloodingRule,
    LinkRule,
    MassMentionsRule,
    MessageKind,
    Messages,
    MessageTemplate,
    Rules,
)


class GroupSettings(SpecModel):
    """What one group (by its platform id, as `qunzhu import -g` names it) sets apart from
    the community."""

    timezone: str | None = Field(
        None, description="IANA zone of this group's times (default: the community's)"
    )
    welcome: MessageTemplate | None = Field(
        None,
        description="this group's welcome (入群欢迎语), in place of messages.welcome; "
        "placeholders {member} {group} {community}",
    )


_PATH_TAIL = re.compile(r"(\.[^.\[]+|\[\d+\])$")


def parent_path(path: str) -> str | None:
    """``tiers[1].promote`` → ``tiers[1]`` → ``tiers`` → ``""`` (the root) → None."""
    if not path:
        return None
    match = _PATH_TAIL.search(path)
    if match and match.start() > 0:
        return path[: match.start()]
    return ""


class CommunitySpec(SpecModel):
    """Everything an operator decides about one community, in one file."""

    version: int = Field(1, ge=1, le=1, description="format of this file")
    name: str = Field(min_length=1)
    purpose: str = Field(min_length=1, description="why the community exists")
    member_value: list[Word] = Field(default_factory=list, description="what members get")
    platforms: list[Platform] = Field(default_factory=list)
    persona: Persona = Field(default_factory=Persona)
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    monetization: Monetization = Field(default_factory=Monetization)
    type: CommunityType = "interest"
    culture: Culture = Field(default_factory=Culture)
    threshold: Threshold = Field(default_factory=Threshold)
    size: SizePolicy = Field(default_factory=SizePolicy)
    rules: Rules = Field(default_factory=Rules)
    escalation: Escalation = Field(default_factory=Escalation)
    messages: Messages = Field(default_factory=Messages)
    messaging: Messaging = Field(default_factory=Messaging)
    tiers: list[Tier] = Field(default_factory=default_tiers, description="lowest first")
    value: ValueWeights = Field(default_factory=ValueWeights)
    roles: RoleThresholds = Field(default_factory=RoleThresholds)
    role_targets: RoleTargets = Field(default_factory=RoleTargets)
    referral: Referral = Field(default_factory=Referral)
    segments: list[Segment] = Field(default_factory=list)
    routing: Routing = Field(default_factory=Routing)
    timezone: str | None = Field(
        None,
        description="IANA zone (时区) the community's times are shown and imported in "
        "(default: QUNZHU_TIMEZONE)",
    )
    groups: dict[Ident, GroupSettings] = Field(
        default_factory=dict,
        description="per group (platform id): its own time zone and welcome",
    )
    playbooks: list[Playbook] = Field(
        default_factory=list, description="SOP sequences per member after a trigger (群SOP)"
    )
    staff: list[Ident] = Field(
        default_factory=list,
        description="accounts that are staff, not members (platform:user_id or display name): "
        "kept out of rankings, roles, tiers and referral rewards",
    )

    # Where each field sat in the YAML file, filled by the loader so the lint can
    # point at lines; empty for a spec built in code.
    _locations: dict[str, tuple[int, int]] = PrivateAttr(default_factory=dict)

    @field_validator("playbooks")
    @classmethod
    def _unique_playbooks(cls, value: list[Playbook]) -> list[Playbook]:
        return check_names(value)

    @field_validator("value", mode="before")
    @classmethod
    def _value_is_weights(cls, value: Any) -> Any:
        if isinstance(value, list):
            raise ValueError(
                "value holds the message-value weights; list what members get under "
                "member_value (成员获得的价值写在 member_value)"
            )
        return value

    def location(self, path: str) -> tuple[int, int] | None:
        """(line, column), 1-based, of ``path`` or of its nearest parent the file had."""
        current: str | None = path
        while current is not None:
            if current in self._locations:
                return self._locations[current]
            current = parent_path(current)
        return None

    def tier(self, tier_id: str) -> Tier | None:
        return next((t for t in self.tiers if t.id == tier_id), None)

    def plan(self, plan_id: str) -> Plan | None:
        return next((p for p in self.monetization.plans if p.id == plan_id), None)

    def segment(self, segment_id: str) -> Segment | None:
        return next((s for s in self.segments if s.id == segment_id), None)


__all__ = [
    "ACTION_ORDER",
    "PLACEHOLDERS",
    "ROLES",
    "Action",
    "ActionRule",
    "BannedWordsRule",
    "ClassifierRule",
    "CommunitySpec",
    "CommunityType",
    "Culture",
    "DemoteRule",
    "DuplicateAcrossGroupsRule",
    "Escalation",
    "EscalationStep",
    "FloodingRule",
    "FraudThresholds",
    "GroupSettings",
    "Ident",
    "Lifecycle",
    "LinkRule",
    "MassMentionsRule",
    "MessageKind",
    "MessageTemplate",
    "Messages",
    "Messaging",
    "Monetization",
    "MonetizationModel",
    "Persona",
    "Plan",
    "PlanKind",
    "Platform",
    "PromoteCriteria",
    "Qualification",
    "Question",
    "Referral",
    "ReferralRung",
    "Reward",
    "Role",
    "RoleTargets",
    "RoleThresholds",
    "RouteMatch",
    "RouteRule",
    "Routing",
    "Rules",
    "Segment",
    "ShareRange",
    "SizePolicy",
    "Threshold",
    "Tier",
    "ValueWeights",
    "parent_path",
]
