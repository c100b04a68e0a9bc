"""Shared building blocks of the community spec models.

Every model forbids unknown keys and validates strictly: an operator who writes
``cap: "300"`` or ``must_speak: yes`` has made a mistake we want to name, not guess at.
Dates stay lax because YAML may give them quoted or unquoted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

Platform = Literal["telegram", "qq", "wecom", "wechat", "discord", "irc", "whatsapp"]
"""Platforms a community may run groups on (DESIGN §3)."""

Action = Literal["allow", "flag", "delete", "delete_warn", "warn", "mute", "remove", "blacklist"]
"""What moderation does about a breach, mildest first."""

ACTION_ORDER: tuple[Action, ...] = (
    "allow",
    "flag",
    "delete",
    "delete_warn",
    "warn",
    "mute",
    "remove",
    "blacklist",
)
"""Actions ranked by how hard they hit the member; the escalation lint compares ranks."""

Role = Literal["peripheral", "newcomer", "lurker", "active", "core", "kol", "disruptor"]
"""Roles derived from behaviour (DESIGN §1)."""

ROLES: tuple[Role, ...] = ("peripheral", "newcomer", "lurker", "active", "core", "kol", "disruptor")


def _number_to_text(value: Any) -> Any:
    # QQ numbers, member ids and some words are digits; YAML reads them as ints,
    # and the operator should not have to quote them.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank (不能为空)")
    return value


Ident = Annotated[str, BeforeValidator(_number_to_text), AfterValidator(_not_blank)]
"""An id the operator chooses (tier, plan, segment, question, member, group)."""

Word = Annotated[str, BeforeValidator(_number_to_text)]
"""A word or phrase in a list (banned words, allow words, tags)."""

Severity = Annotated[int, Field(ge=0, le=100)]
"""Points a breach adds to the member's record; the escalation ladder reads the total."""

Share = Annotated[float, Field(ge=0.0, le=1.0)]
"""A fraction of members, 0 to 1."""


class SpecModel(BaseModel):
    """Base for every section: strict, closed to unknown keys, immutable once loaded."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        validate_default=False,
    )


def stated(model: BaseModel, field: str) -> bool:
    """Whether ``field`` was written in the spec rather than left to its default."""
    return field in model.model_fields_set
