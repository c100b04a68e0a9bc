"""One community's rows by id: every lookup here takes the community, so a row of another
community is indistinguishable from one that does not exist.

Routes, pages and domain code fetch a community's object by its id through these functions
rather than ``session.get(Model, id)`` followed by a check that is easy to forget::

    item = row_in(session, ModerationAction, community_id, item_id)  # None if not ours

Ids arrive from URLs and forms: :data:`MAX_ID` is the largest id either database stores
(a signed 64-bit integer), and :func:`valid_id` tells whether a value can be one at all.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from qunzhu.store.admin import ApiToken, OperatorRole
from qunzhu.store.base import Base, table_of
from qunzhu.store.growth import Campaign

MAX_ID = 2**63 - 1  # BIGINT on PostgreSQL, INTEGER PRIMARY KEY on SQLite
M = TypeVar("M", bound=Base)


class NotInCommunity(LookupError):
    """No such object in this community (it may exist in another: we do not say)."""

    def __init__(self, what: str, object_id: object, *, field: str) -> None:
        super().__init__(f"no {what} {object_id} in this community")
        self.field = field


def valid_id(value: object) -> bool:
    """Whether ``value`` is an int both databases can compare with an id column."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def parse_id(raw: str) -> int | None:
    """The id written in ``raw`` (a path or form value), or None if it cannot be one."""
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if valid_id(value) else None


def row_in(session: Session, model: type[M], community_id: int, object_id: int) -> M | None:
    """The ``model`` row ``object_id`` if it belongs to ``community_id``."""
    if not valid_id(object_id):
        return None
    t = table_of(model)
    return session.scalar(
        select(model).where(t.c.id == object_id, t.c.community_id == community_id)
    )


def one_in(session: Session, model: type[M], community_id: int, object_id: int, *, field: str) -> M:
    """Like :func:`row_in`, raising :class:`NotInCommunity` (a 404) when it is not ours."""
    row = row_in(session, model, community_id, object_id)
    if row is None:
        raise NotInCommunity(model.__tablename__.removesuffix("s"), object_id, field=field)
    return row


def owns(conn: Session | Connection, model: type[Base], community_id: int, object_id: int) -> bool:
    """Whether the ``model`` row ``object_id`` exists and belongs to ``community_id``."""
    if not valid_id(object_id):
        return False
    t = table_of(model)
    found = conn.execute(
        select(t.c.id).where(t.c.id == object_id, t.c.community_id == community_id)
    ).first()
    return found is not None


def operator_in(session: Session, community_id: int, operator_id: int) -> bool:
    """Whether the operator holds a role in the community."""
    if not valid_id(operator_id):
        return False
    found = session.scalar(
        select(OperatorRole.operator_id).where(
            OperatorRole.operator_id == operator_id, OperatorRole.community_id == community_id
        )
    )
    return found is not None


def token_in(session: Session, community_id: int, token_id: int, caller_id: int | None) -> bool:
    """Whether the API token is the caller's own or belongs to an operator of the community."""
    if not valid_id(token_id):
        return False
    owner = session.scalar(select(ApiToken.operator_id).where(ApiToken.id == token_id))
    if owner is None:
        return False
    return owner == caller_id or operator_in(session, community_id, owner)


def campaign_in(session: Session, community_id: int, slug: str) -> bool:
    """Whether the community has a campaign with this slug."""
    found = session.scalar(
        select(Campaign.id).where(Campaign.community_id == community_id, Campaign.slug == slug)
    )
    return found is not None
