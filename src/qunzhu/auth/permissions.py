"""Who may do what: the one table of roles and capabilities, and the one check.

Every API route and dashboard page asks :func:`authorize` (through the FastAPI dependency
``qunzhu.http.deps.require``), so the rules live here and nowhere else::

    capability   analyst  moderator  admin  owner  superuser
    read            ✓         ✓        ✓      ✓       ✓
    moderate                  ✓        ✓      ✓       ✓
    manage                             ✓      ✓       ✓
    personal_data                      ✓      ✓       ✓
    operators                                 ✓       ✓

A caller with no role in a community is told it does not exist (404), so slugs do not leak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunzhu.store.models import ROLES, Community

Action = Literal["read", "moderate", "manage", "personal_data", "operators"]
ACTIONS: tuple[str, ...] = get_args(Action)

CAPABILITIES: dict[str, frozenset[str]] = {
    "analyst": frozenset({"read"}),
    "moderator": frozenset({"read", "moderate"}),
    "admin": frozenset({"read", "moderate", "manage", "personal_data"}),
    "owner": frozenset(ACTIONS),
}
assert set(CAPABILITIES) == set(ROLES), "every stored role needs a row in the table above"


class NotAuthenticated(Exception):
    """Nobody is logged in, or the credentials presented are not valid."""

    def __init__(self, message: str = "authentication required") -> None:
        super().__init__(message)


class NotFound(LookupError):
    """The thing does not exist, or the caller may not know that it does."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Forbidden(PermissionError):
    """The caller sees the community but their role does not allow the action."""


class Conflict(ValueError):
    """The thing to create exists already."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: an operator, how they proved it, and their role per community id."""

    operator_id: int
    username: str
    is_superuser: bool
    roles: dict[int, str] = field(default_factory=dict)
    via: Literal["session", "token"] = "session"
    csrf: str = ""
    language: str | None = None

    def role_in(self, community_id: int) -> str | None:
        return self.roles.get(community_id)

    def can(self, community_id: int, action: Action) -> bool:
        if self.is_superuser:
            return True
        role = self.roles.get(community_id)
        return role is not None and action in CAPABILITIES[role]

    def sees(self, community_id: int) -> bool:
        return self.is_superuser or community_id in self.roles

    @property
    def may_create_communities(self) -> bool:
        # Creating a community makes a new tenant; only superusers do that (docs/security.md).
        return self.is_superuser


LOCAL_SHELL = Caller(operator_id=0, username="local shell", is_superuser=True)
"""Who the command line is: whoever can run it can open the database itself, so it sees
every community (the read models take a caller; the CLI passes this one)."""


@dataclass(frozen=True, slots=True)
class CommunityRef:
    """The community a checked request is about; plain data, safe to use after the session."""

    id: int
    slug: str
    name: str


def unknown_community(slug: str) -> NotFound:
    return NotFound(f"community {slug!r} not found", field="slug")


def visible_community(session: Session, caller: Caller, slug: str) -> CommunityRef:
    """The community ``slug`` if ``caller`` may know it exists; else NotFound."""
    row = session.execute(
        select(Community.id, Community.slug, Community.name).where(Community.slug == slug)
    ).first()
    if row is None or not caller.sees(row.id):
        raise unknown_community(slug)
    return CommunityRef(id=row.id, slug=row.slug, name=row.name)


def check_role(caller: Caller, community: CommunityRef, action: Action) -> None:
    """Forbidden unless ``caller``'s role in the (visible) community allows ``action``."""
    if not caller.can(community.id, action):
        role = caller.role_in(community.id)
        raise Forbidden(f"your role {role!r} in {community.slug!r} does not allow {action!r}")


def authorize(session: Session, caller: Caller, slug: str, action: Action) -> CommunityRef:
    """The community ``slug`` if ``caller`` may do ``action`` there; else NotFound/Forbidden."""
    community = visible_community(session, caller, slug)
    check_role(caller, community, action)
    return community


def capabilities_of(caller: Caller, community_id: int) -> list[str]:
    return [a for a in ACTIONS if caller.can(community_id, a)]  # type: ignore[arg-type]


# Personal data (phone numbers, real names) is shown whole only to callers with the
# ``personal_data`` capability; everyone else sees enough to tell records apart.
_PHONE_RE = re.compile(r"(?<!\d)(\+?\d{1,3}[ -]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_EMAIL_RE = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 7:
        return "*" * len(phone)
    if len(digits) > 11:  # drop a country code: the national number is what people read
        digits = digits[-11:]
    return "".join(digits[:3]) + "****" + "".join(digits[-4:])


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask_text(text: str) -> str:
    """Hide mainland mobile numbers and e-mail addresses inside free text."""
    text = _PHONE_RE.sub(lambda m: f"{m.group(2)}****{m.group(4)}", text)
    return _EMAIL_RE.sub(lambda m: f"{m.group(1)}***{m.group(2)}", text)
