"""Positioning (定位) sections: who the community is for, how long it lives, how it earns,
what it stands for, how people get in (门槛) and how big a group may grow (规模)."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from qunzhu.bounds import MAX_AMOUNT
from qunzhu.spec.base import Ident, SpecModel, Word

_AGE_BAND = re.compile(r"^(\d{1,3})\s*-\s*(\d{1,3})$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ON_EXPIRY = re.compile(r"^(nothing|remove|downgrade_to:\S+)$")


class Persona(SpecModel):
    """Who the community is for (用户画像)."""

    age_band: str | None = Field(None, description="e.g. 25-40")
    gender: Literal["any", "female", "male", "mostly_female", "mostly_male"] = "any"
    regions: list[Word] = Field(default_factory=list)
    occupations: list[Word] = Field(default_factory=list)
    needs: list[Word] = Field(default_factory=list)

    @field_validator("age_band")
    @classmethod
    def _band_reads_low_to_high(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = _AGE_BAND.match(value)
        if not match:
            raise ValueError("write the age band as LOW-HIGH, e.g. 25-40 (年龄段写成 25-40)")
        low, high = int(match.group(1)), int(match.group(2))
        if low > high:
            raise ValueError(
                f"age band {value!r} runs backwards; write {high}-{low} (年龄段应从小到大)"
            )
        return f"{low}-{high}"

    def is_empty(self) -> bool:
        return not (
            self.age_band or self.gender != "any" or self.regions or self.occupations or self.needs
        )


class Lifecycle(SpecModel):
    """Long-term (长期) or a campaign (活动群) that ends on a date."""

    kind: Literal["long_term", "campaign"] = "long_term"
    ends_on: date | None = Field(None, strict=False)


PlanKind = Literal["membership", "product", "service", "knowledge"]


class Plan(SpecModel):
    """Something a member pays for: a membership period, a product, a service, a course."""

    id: Ident
    name: str
    kind: PlanKind = "membership"
    price_cents: int = Field(0, ge=0, le=MAX_AMOUNT)  # what an order can hold (64-bit column)
    currency: str = "CNY"
    period_days: int | None = Field(None, ge=1, description="None: one-off, never expires")
    tier: Ident | None = Field(None, description="tier granted while the plan is paid")
    on_expiry: str = Field("nothing", description="nothing | remove | downgrade_to:<tier>")

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if not _CURRENCY.match(value):
            raise ValueError(
                f"currency {value!r}: use a three-letter code such as CNY or USD "
                "(币种写三位大写代码，如 CNY)"
            )
        return value

    @field_validator("on_expiry")
    @classmethod
    def _known_expiry(cls, value: str) -> str:
        if not _ON_EXPIRY.match(value):
            raise ValueError(
                f"on_expiry {value!r}: use nothing, remove or downgrade_to:<tier id> "
                "(到期：nothing / remove / downgrade_to:等级)"
            )
        return value

    @property
    def expiry_action(self) -> Literal["nothing", "remove", "downgrade"]:
        if self.on_expiry.startswith("downgrade_to:"):
            return "downgrade"
        return "remove" if self.on_expiry == "remove" else "nothing"

    @property
    def expiry_tier(self) -> str | None:
        """The tier a lapsed member falls to, for ``downgrade_to:<tier>``."""
        if self.on_expiry.startswith("downgrade_to:"):
            return self.on_expiry.split(":", 1)[1]
        return None


MonetizationModel = Literal[
    "none",
    "membership_fee",
    "product_sales",
    "ads",
    "services",
    "knowledge_paid",
    "hybrid",
]


class Monetization(SpecModel):
    """How the community earns (变现)."""

    model: MonetizationModel = "none"
    plans: list[Plan] = Field(default_factory=list)


CommunityType = Literal["product", "interest", "knowledge", "resource", "project", "hybrid"]


class Culture(SpecModel):
    """Slogan and values (社群文化): what we advocate (提倡) and oppose (反对)."""

    slogan: str | None = None
    advocate: list[Word] = Field(default_factory=list)
    oppose: list[Word] = Field(default_factory=list)


class Question(SpecModel):
    """One question of the application form (入群申请)."""

    id: Ident
    text_zh: str
    text_en: str = ""
    required: bool = True
    choices: list[Word] | None = None


class Threshold(SpecModel):
    """How people get in (门槛)."""

    kind: Literal["open", "application", "paid", "invite_only", "join_code"] = "open"
    questions: list[Question] = Field(default_factory=list)
    review: Literal["manual", "auto"] = Field(
        "manual", description="auto: admit by allow_words/deny_words and choices alone"
    )
    allow_words: list[Word] = Field(default_factory=list)
    deny_words: list[Word] = Field(default_factory=list)
    plans: list[Ident] = Field(default_factory=list, description="plan ids that admit")


class SizePolicy(SpecModel):
    """How big one group may grow (规模) and what happens at the cap."""

    cap: int = Field(300, ge=2, le=200_000)
    policy: Literal["new_group", "waitlist", "one_in_one_out"] = "new_group"
    auto: bool = Field(False, description="one_in_one_out without asking an operator")
    protected: list[Ident] = Field(default_factory=list)

    @model_validator(mode="after")
    def _auto_only_for_one_in_one_out(self) -> SizePolicy:
        if self.auto and self.policy != "one_in_one_out":
            raise ValueError("auto applies only to policy one_in_one_out (自动踢人仅用于一进一出)")
        return self
