"""telegram members by their Bot API ids

Telegram Desktop exports name a sender ``user509128351`` (or ``channel…`` for a chat posting
in its own name, ``chat…`` for a basic group); imports stored that form as the identity,
while the bot stores ``509128351`` (``-100…``, ``-…``) for the same account, so the person
was two members. From now on imports store the Bot API form; this revision moves the
identities imported before:

- an identity whose Bot API form no member has yet is renamed to it (its member, messages
  and history stay as they are);
- where the bot already made a member for the same account, the imported member is merged
  into it by pointer (``merged_into_id``, as ``qunzhu members merge`` does: nothing moves
  and ``members unmerge`` undoes it), and its old identity is kept, so neither is split.

Downgrade leaves the ids in the Bot API form (renaming them back would split them again).

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-06 19:10:00.000000
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

_PEER = re.compile(r"(user|channel|chat)(\d+)")
_identities = sa.table(
    "identities",
    sa.column("id", sa.BigInteger),
    sa.column("community_id", sa.BigInteger),
    sa.column("member_id", sa.BigInteger),
    sa.column("platform", sa.String),
    sa.column("platform_user_id", sa.String),
)
_members = sa.table(
    "members",
    sa.column("id", sa.BigInteger),
    sa.column("merged_into_id", sa.BigInteger),
)


def bot_api_id(exported: str) -> str | None:
    match = _PEER.fullmatch(exported)
    if match is None:
        return None
    kind, number = match.groups()
    return number if kind == "user" else (f"-100{number}" if kind == "channel" else f"-{number}")


def upgrade() -> None:
    conn = op.get_bind()
    i = _identities
    rows = conn.execute(
        sa.select(i.c.id, i.c.community_id, i.c.member_id, i.c.platform_user_id).where(
            i.c.platform == "telegram",
            sa.or_(*(i.c.platform_user_id.like(f"{p}%") for p in ("user", "channel", "chat"))),
        )
    ).all()
    for ident, community_id, member_id, exported in rows:
        target = bot_api_id(exported)
        if target is None:
            continue
        live = conn.execute(
            sa.select(i.c.member_id).where(
                i.c.community_id == community_id,
                i.c.platform == "telegram",
                i.c.platform_user_id == target,
            )
        ).scalar()
        if live is None:
            conn.execute(sa.update(i).where(i.c.id == ident).values(platform_user_id=target))
        elif live != member_id and conn.execute(
            sa.select(_members.c.merged_into_id).where(_members.c.id == live)
        ).scalar() in (None, live):  # never a cycle: the bot's member was not merged into it
            conn.execute(
                sa.update(_members)
                .where(_members.c.id == member_id, _members.c.merged_into_id.is_(None))
                .values(merged_into_id=live)
            )


def downgrade() -> None:
    pass  # the Bot API form is kept: the old form would split a person again
