"""What every live connector shares: the error that tells the executor what to do next, the
connector interface, and the context a connector gets from the hub.

Errors carry what the caller needs to decide (DESIGN §5.5)::

    ConnectorError             transient: retry with backoff (5xx, network, dropped socket)
    ├── RateLimited            the platform said wait ``retry_after`` seconds (429)
    ├── PermanentError         retrying cannot help; ``scope`` is "group" (bot removed from
    │                          that chat, rights missing) or "connector" (token revoked)
    ├── Unsupported            the platform has no such operation: the action becomes an alert
    ├── Refused                this one call was refused (bad request): logged, not retried
    └── Migrated               the chat moved to a new id: the action is retried there
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from qunzhu.adapters.webhook import WebhookRoute
from qunzhu.events import Action, Event


class ConnectorError(Exception):
    permanent = False
    retry_after: float | None = None


class RateLimited(ConnectorError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    permanent = True

    def __init__(self, message: str, *, scope: Literal["group", "connector"] = "group") -> None:
        super().__init__(message)
        self.scope = scope


class Unsupported(ConnectorError):
    permanent = True


class Refused(ConnectorError):
    """The platform refused this one call (bad request, user not found): log it, no retry."""

    permanent = True


class Migrated(ConnectorError):
    """The chat moved (Telegram group → supergroup): retry the action at ``new_group``."""

    def __init__(self, old_group: str, new_group: str) -> None:
        super().__init__(f"chat {old_group} migrated to {new_group}")
        self.old_group = old_group
        self.new_group = new_group


def member_of(action: Action) -> str:
    """The member an action is about; an action that names none cannot be carried out."""
    if not action.member:
        raise Unsupported(f"{action.kind} needs a member")
    return action.member


def referral_of(action: Action) -> tuple[str | None, str | None, str]:
    """(referrer, code, name) of an invite link to make: unless the decision names it, the
    name says whose referral it is (``ref:<referrer>:<code>``; Telegram reads it back at a
    join through the link)."""
    d = action.detail
    referrer = str(d["referrer"]) if d.get("referrer") else None
    code = str(d["code"]) if d.get("code") else None
    name = str(d.get("name") or (f"ref:{referrer}:{code or ''}" if referrer else action.reason))
    return referrer, code, name


Deliver = Callable[[Sequence[Event]], object]
"""Hands events to the pipeline; returns once they are stored (raises if they are not)."""


@dataclass(frozen=True, slots=True)
class ConnectorInfo:
    """What a connector knows about its own configuration row."""

    id: int
    name: str
    platform: str
    community: str
    config: dict[str, Any]
    credentials: dict[str, str]


class Connector(Protocol):
    """One platform connection. ``routes`` are its webhook endpoints (may be empty);
    ``run_once`` is its long-running part (polling), returning or raising when the
    connection ends so the runner reconnects; ``perform`` carries out one action."""

    info: ConnectorInfo

    def routes(self) -> list[WebhookRoute]: ...

    def has_loop(self) -> bool: ...

    def run_once(self, stop: Any) -> None: ...

    def perform(self, action: Action) -> dict[str, Any]: ...

    def close(self) -> None: ...
