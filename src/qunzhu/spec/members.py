"""Member sections: tiers (等级), message-value weights (价值), role thresholds (角色)
and the role mix the operator aims for."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from qunzhu.spec.base import Ident, Share, SpecModel, Word


class PromoteCriteria(SpecModel):
    """All stated criteria must hold for a member to be promoted into the tier."""

    min_value: float | None = Field(None, ge=0)
    min_days_active: int | None = Field(None, ge=0)
    min_tenure_days: int | None = Field(None, ge=0)
    min_referrals: int | None = Field(None, ge=0)
    plan: Ident | None = Field(None, description="a paid plan id that grants the tier")
    max_moderation_points: int | None = Field(None, ge=0)

    def thresholds(self) -> dict[str, float]:
        """The numeric minimums that are stated, by name (for comparing tiers)."""
        names = ("min_value", "min_days_active", "min_tenure_days", "min_referrals")
        found: dict[str, float] = {}
        for name in names:
            value = getattr(self, name)
            if value is not None:
                found[name] = float(value)
        return found


class DemoteRule(SpecModel):
    """Hysteresis: a member falls back only after staying below ``low_water`` times the
    promotion minimums for ``grace_days``; ``never`` keeps the tier for good."""

    never: bool = False
    low_water: float = Field(0.9, gt=0.0, le=1.0)
    grace_days: int = Field(14, ge=0)


class Tier(SpecModel):
    """A membership level. ``promote`` None: granted by hand or by payment only.
    ``demote`` None: the spec does not say, and nobody is demoted automatically."""

    id: Ident
    name_zh: str
    name_en: str = ""
    perks: list[Word] = Field(default_factory=list)
    promote: PromoteCriteria | None = None
    demote: DemoteRule | None = None

    @field_validator("demote", mode="before")
    @classmethod
    def _never_as_word(cls, value: Any) -> Any:
        # Operators write `demote: never`; keep one model for engines to read.
        if value == "never":
            return {"never": True}
        if isinstance(value, str):
            raise ValueError(
                f"demote {value!r}: write never, or a mapping {{low_water, grace_days}} "
                "(降级写 never 或 low_water/grace_days)"
            )
        return value

    @property
    def demotes(self) -> bool:
        return self.demote is not None and not self.demote.never


def default_tiers() -> list[Tier]:
    return [Tier(id="member", name_zh="成员", name_en="Member")]


class ValueWeights(SpecModel):
    """What a message is worth (消息价值). Penalties are the share of a message's value
    taken away: a filler message ("+1", stickers, 抢红包) keeps 1 - filler_penalty."""

    substance: float = Field(1.0, ge=0)
    link: float = Field(0.5, ge=0)
    file: float = Field(1.0, ge=0)
    image: float = Field(0.3, ge=0)
    code: float = Field(1.5, ge=0)
    question: float = Field(0.8, ge=0)
    answer: float = Field(2.0, ge=0)
    helped_per_member: float = Field(1.5, ge=0)
    reply_earned_per_member: float = Field(0.5, ge=0)
    reaction: float = Field(0.1, ge=0)
    check_in: float = Field(0.5, ge=0)
    filler_penalty: Share = 0.9
    duplicate_penalty: Share = 1.0
    half_life_days: float = Field(30.0, gt=0)
    reply_credit: Literal["link", "probability"] = Field(
        "link",
        description="credit of an inferred reply link: all of it once linked (link), or its "
        "probability (probability)",
    )


class RoleThresholds(SpecModel):
    """Where the behavioural roles begin, over a rolling ``window_days``."""

    window_days: int = Field(30, ge=1)
    newcomer_days: int = Field(14, ge=0)
    lurker_max_messages: int = Field(3, ge=0)
    lurker_max_value: float = Field(1.0, ge=0)
    active_min_value: float = Field(5.0, ge=0)
    core_min_value: float = Field(30.0, ge=0)
    core_min_tenure_days: int = Field(60, ge=0)
    kol_min_value: float = Field(80.0, ge=0)
    kol_min_distinct_repliers: int = Field(10, ge=0)
    disruptor_points: int = Field(6, ge=1)


class ShareRange(SpecModel):
    """Target share of members in a role; either end may be left open."""

    min: Share | None = None
    max: Share | None = None


class RoleTargets(SpecModel):
    """The role mix a healthy group aims for (角色结构); health compares against it."""

    peripheral: ShareRange | None = None
    newcomer: ShareRange | None = None
    lurker: ShareRange | None = Field(default_factory=lambda: ShareRange(max=0.6))
    active: ShareRange | None = Field(default_factory=lambda: ShareRange(min=0.2))
    core: ShareRange | None = Field(default_factory=lambda: ShareRange(min=0.05))
    kol: ShareRange | None = Field(default_factory=lambda: ShareRange(min=0.01))
    disruptor: ShareRange | None = Field(default_factory=lambda: ShareRange(max=0.02))

    def ranges(self) -> dict[str, ShareRange]:
        """Stated ranges by role name."""
        found: dict[str, ShareRange] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, ShareRange):
                found[name] = value
        return found
