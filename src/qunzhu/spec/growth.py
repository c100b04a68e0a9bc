"""Growth sections: the referral programme (裂变), segments (分群) and routing of
newcomers to the right segment."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from qunzhu.spec.base import Ident, Share, SpecModel, Word


class Reward(SpecModel):
    """What a referrer earns at a rung. ``value``: points (a whole number) for ``points``,
    a tier id for ``tier``, the coupon or prize as text for ``coupon`` and ``prize``."""

    kind: Literal["points", "tier", "coupon", "prize"]
    value: int | str

    @model_validator(mode="after")
    def _value_fits_kind(self) -> Reward:
        if self.kind == "points" and (not isinstance(self.value, int) or self.value <= 0):
            raise ValueError(
                "a points reward needs a positive whole number as value (积分奖励应为正整数)"
            )
        if self.kind != "points" and not isinstance(self.value, str):
            raise ValueError(
                f"a {self.kind} reward needs text as value, a tier id or a code (奖励值应为文本)"
            )
        return self


class ReferralRung(SpecModel):
    """Reached when a referrer has ``invitees`` qualified invitees."""

    invitees: int = Field(ge=1)
    reward: Reward


class Qualification(SpecModel):
    """When an invitee counts for the referrer (有效邀请)."""

    stay_days: int = Field(7, ge=0)
    must_speak: bool = True
    min_value: float = Field(0.0, ge=0)


class FraudThresholds(SpecModel):
    """Above these a referrer's rewards are held for an operator to look at."""

    max_invites_per_day: int = Field(30, ge=1)
    max_quick_leave_share: Share = Field(0.5, description="share of invitees gone before stay_days")
    max_silent_share: Share = Field(0.8, description="share of invitees who never speak")


class Referral(SpecModel):
    """Personal invite links or codes, a reward ladder and its qualification rule."""

    enabled: bool = False
    ladder: list[ReferralRung] = Field(default_factory=list)
    qualification: Qualification | None = Field(
        None, description="None: every join counts, which the lint flags"
    )
    clawback_days: int = Field(30, ge=0)
    fraud: FraudThresholds = Field(default_factory=FraudThresholds)


class Segment(SpecModel):
    """A set of groups serving one kind of member (e.g. beginners, one city)."""

    id: Ident
    name: str
    groups: list[Ident] = Field(default_factory=list)


class RouteMatch(SpecModel):
    """All stated conditions must hold; an empty match takes everyone."""

    tags: list[Word] = Field(default_factory=list)
    answers: dict[Ident, list[Word]] = Field(
        default_factory=dict, description="question id -> accepted answers"
    )

    @field_validator("answers", mode="before")
    @classmethod
    def _one_answer_as_list(cls, value: Any) -> Any:
        # `level: beginner` reads more naturally than `level: [beginner]`.
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str | int) else v for k, v in value.items()}
        return value

    @property
    def is_catch_all(self) -> bool:
        return not self.tags and not self.answers


class RouteRule(SpecModel):
    match: RouteMatch = Field(default_factory=RouteMatch)
    segment: Ident


class Routing(SpecModel):
    """First matching rule wins; nobody matched waits in ``holding_group``."""

    rules: list[RouteRule] = Field(default_factory=list)
    holding_group: Ident | None = None

    def segment_for(self, tags: set[str], answers: dict[str, str]) -> str | None:
        """The segment id for a newcomer with these tags and application answers."""
        for rule in self.rules:
            if not set(rule.match.tags) <= tags:
                continue
            if all(answers.get(q) in accepted for q, accepted in rule.match.answers.items()):
                return rule.segment
        return None
