"""Object ids in paths: how they are typed, and whose they are.

A route under ``/communities/{slug}/…`` or ``/c/{slug}/…`` that names an object declares its
id as :data:`ObjectId` (so an id beyond 64 bits answers 422, not a database error), and the
route's ``require`` dependency checks, before the caller's role, that the object belongs to
the community in the path: another community's object answers 404 exactly like one that
does not exist, whatever the caller's role.

Which table an id names comes from the parameter's name (:data:`OWNERS`), or from the route
when one name means different things there (``require("moderate", ids={"item_id":
rows_of(OutboxAction)})``). A path parameter that is neither an id known here nor listed in
:data:`NOT_IDS` stops every request to its route with an error, so a new route cannot
forget the check (tests/http/test_cross_community_ids.py calls every such route with the
ids of another community).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Path, Request
from pydantic import Field
from sqlalchemy.orm import Session

from qunzhu.auth.permissions import Caller
from qunzhu.store.base import Base
from qunzhu.store.connectors import Connector, ConnectorAlert
from qunzhu.store.growth import EvictionProposal, ReferralReward
from qunzhu.store.models import Application, Group, Member
from qunzhu.store.scoped import (
    MAX_ID,
    NotInCommunity,
    campaign_in,
    operator_in,
    owns,
    parse_id,
    token_in,
)
from qunzhu.store.tasks import OperatorTask

ObjectId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="Id of an object of this community (64-bit)")
]
# the same bound for ids in a JSON body
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]

# path parameters that name no object: the community itself, verbs, chart names
NOT_IDS = frozenset({"slug", "operation", "decision", "name"})


@dataclass(frozen=True, slots=True)
class IdScope:
    """Who asks about which community, for the owners below."""

    request: Request
    community_id: int
    caller: Caller


# (session, scope, the raw path value) -> whether the object is the community's; None when
# the value cannot be an id at all (the route's parameter validation answers 422 for it)
Owner = Callable[[Session, IdScope, str], bool | None]


def rows_of(model: type[Base]) -> Owner:
    """An owner for ids of ``model``, a table with a ``community_id`` column."""

    def owner(session: Session, scope: IdScope, raw: str) -> bool | None:
        object_id = parse_id(raw)
        if object_id is None:
            return None
        return owns(session, model, scope.community_id, object_id)

    return owner


def _operator(session: Session, scope: IdScope, raw: str) -> bool | None:
    object_id = parse_id(raw)
    return None if object_id is None else operator_in(session, scope.community_id, object_id)


def _token(session: Session, scope: IdScope, raw: str) -> bool | None:
    object_id = parse_id(raw)
    if object_id is None:
        return None
    caller_id = getattr(scope.caller, "operator_id", None)
    return token_in(session, scope.community_id, object_id, caller_id)


def _campaign(session: Session, scope: IdScope, raw: str) -> bool | None:
    return campaign_in(session, scope.community_id, raw)


OWNERS: Mapping[str, Owner] = {
    "member_id": rows_of(Member),
    "group_id": rows_of(Group),
    "application_id": rows_of(Application),
    "reward_id": rows_of(ReferralReward),
    "proposal_id": rows_of(EvictionProposal),
    "alert_id": rows_of(ConnectorAlert),
    "connector_id": rows_of(Connector),
    "operator_id": _operator,
    "token_id": _token,
    "campaign": _campaign,
    "task_id": rows_of(OperatorTask),
}


class UndeclaredId(RuntimeError):
    """A route has a path parameter nobody said how to check: a bug, found by the tests."""


def check_path_ids(
    session: Session,
    scope: IdScope,
    path_params: Mapping[str, str],
    ids: Mapping[str, Owner] | None = None,
) -> None:
    """Raise :class:`NotInCommunity` for the first path id that is not the community's."""
    for name, raw in path_params.items():
        if name in NOT_IDS:
            continue
        owner = (ids or {}).get(name) or OWNERS.get(name)
        if owner is None:
            raise UndeclaredId(
                f"path parameter {name!r} of {scope.request.url.path!r} names no known "
                "object: add it to qunzhu.http.ownership.OWNERS or pass ids= to require()"
            )
        if owner(session, scope, str(raw)) is False:
            raise NotInCommunity(name.removesuffix("_id"), raw, field=name)
