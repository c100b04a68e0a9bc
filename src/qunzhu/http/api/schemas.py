"""Request and response bodies of API v1 (they are also its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"


class GroupOut(BaseModel):
    id: int
    platform: str
    platform_group_id: str
    name: str
    segment: str | None = None
    cap: int | None = None
    members: int = Field(description="members whose membership is active")
    messages_7d: int = Field(description="messages in the last 7 days (daily rollups)")
    messages_total: int = Field(description="messages since the group was first seen")


class CommunityOut(BaseModel):
    slug: str
    name: str
    role: str | None = Field(
        description="the caller's role here; null for a superuser without a role"
    )
    capabilities: list[str] = Field(description="what the caller may do here")
    groups: int
    members: int = Field(
        description="people: distinct members with an active membership (counted once)"
    )
    memberships: int = Field(
        description="active group memberships added up over the groups (counted per group)"
    )
    created_at: datetime


class CommunityDetail(CommunityOut):
    has_spec: bool
    messages_7d: int
    messages_total: int


class CommunityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN, description="lowercase letters, digits and '-'")
    name: str = Field(min_length=1, max_length=200)
    owner: str | None = Field(
        default=None, description="username to make owner of the new community"
    )


class QuarantinedOut(BaseModel):
    index: int | None = Field(
        description="position of the event in the posted list "
        "(0-based); null if it could not be told"
    )
    reason: str
    field: str | None = None


class DecidedOut(BaseModel):
    """An action decided for the posted events, recorded in the outbox with them."""

    outbox_id: int | None = Field(
        description="the outbox row that carries it out (claim it with "
        "POST /communities/{slug}/outbox/claim and report with .../outbox/{id}/outcome)"
    )
    kind: str = Field(description="delete_message, warn, mute, remove, ban, decline_join, …")
    platform: str
    community: str
    group: str
    member: str | None = None
    message_id: str | None = None
    text: str | None = Field(None, description="what to send (a warning, a welcome)")
    duration_seconds: int | None = Field(None, description="of a mute")
    reason: str = ""


class IngestOut(BaseModel):
    received: int
    added: int
    duplicates: int
    new_members: int
    replies: int
    by_type: dict[str, int]
    quarantined: list[QuarantinedOut]
    actions: list[DecidedOut] = Field(
        description="what the pipeline decided for the new events, each with its outbox row"
    )


class QuarantineItem(BaseModel):
    id: int
    source: str
    location: str
    reason: str
    payload: str = Field(
        description="the rejected input; personal data masked unless the caller may see it"
    )
    created_at: datetime
    resolved: bool


class QuarantinePage(BaseModel):
    items: list[QuarantineItem]
    next_offset: int | None


class RoleOut(BaseModel):
    community: str
    name: str
    role: str
    capabilities: list[str]


class MeOut(BaseModel):
    username: str
    display_name: str
    superuser: bool
    via: str = Field(description="'token' or 'session'")
    language: str | None
    may_create_communities: bool
    roles: list[RoleOut]


class HealthOut(BaseModel):
    status: str
    database: str
    schema_revision: str | None
    schema_head: str | None
    detail: dict[str, Any] | None = None
