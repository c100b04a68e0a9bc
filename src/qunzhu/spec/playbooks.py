"""``playbooks`` (群SOP): sequences of steps relative to a trigger, for every member it
happens to — a member joined (day 0 the rules, day 1 "introduce yourself", day 3 a nudge
only if they have not spoken, day 7 "ask your first question"), or a paid membership is
about to end (reminders 7, 3 and 1 days before).

A step sends a message (to the member privately where the platform allows, else in the
group naming them) or makes a task for an operator. ``unless: spoke`` skips the step for a
member who has spoken in the group since the trigger. Steps are checked when the spec is
read: their days in order, none after ``ends_after_days``, texts with known variables.
"""

from __future__ import annotations

import string
from typing import Literal

from pydantic import Field, field_validator, model_validator

from qunzhu.spec.base import Ident, SpecModel

Trigger = Literal["member_joined", "before_expiry"]
VARIABLES = frozenset({"name", "group", "community", "tier", "days_left"})


class StepText(SpecModel):
    zh_cn: str = Field(alias="zh-CN", min_length=1, max_length=4000)
    en: str = Field("", max_length=4000)

    @field_validator("zh_cn", "en")
    @classmethod
    def _variables(cls, value: str) -> str:
        try:
            names = {n for _, n, _, _ in string.Formatter().parse(value) if n is not None}
        except ValueError as exc:
            raise ValueError(f"unbalanced braces: {exc} (花括号不成对)") from None
        unknown = sorted(n for n in names if n not in VARIABLES)
        if unknown:
            known = ", ".join("{" + v + "}" for v in sorted(VARIABLES))
            raise ValueError(f"unknown variable {{{unknown[0]}}}; known: {known} (未知变量)")
        return value


class Step(SpecModel):
    day: int = Field(
        ge=0, le=365, description="days after the trigger (before the expiry, for before_expiry)"
    )
    kind: Literal["message", "task"] = "message"
    to: Literal["member", "group"] = "member"
    text: StepText
    unless: Literal["spoke"] | None = None


class Playbook(SpecModel):
    name: Ident
    trigger: Trigger
    ends_after_days: int = Field(30, ge=1, le=365)
    steps: list[Step] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _order(self) -> Playbook:
        days = [s.day for s in self.steps]
        if self.trigger == "before_expiry":
            if days != sorted(days, reverse=True):
                raise ValueError("before_expiry steps go from the most days before to the fewest")
        elif days != sorted(days):
            raise ValueError("steps go in the order of their days (步骤须按天数排列)")
        late = [d for d in days if d > self.ends_after_days]
        if late:
            raise ValueError(
                f"a step on day {late[0]} comes after the playbook ends "
                f"(ends_after_days {self.ends_after_days}) (步骤在结束之后)"
            )
        return self


def check_names(playbooks: list[Playbook]) -> list[Playbook]:
    seen: set[str] = set()
    for p in playbooks:
        if p.name in seen:
            raise ValueError(f"two playbooks are named {p.name!r} (剧本重名)")
        seen.add(p.name)
    return playbooks
