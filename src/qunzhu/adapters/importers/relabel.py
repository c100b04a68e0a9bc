"""A group imported earlier under another id moves to the id the live connector knows.

Before Telegram imports stored the Bot API's ids, ``qunzhu import -g 1482056085`` made a
group ``1482056085``; the bot calls the same chat ``-1001482056085``. The first import that
maps the chat onto its Bot API id finds the old group and renames it in place, so its
history, rollups and memberships stay where they are, and re-keys what the importer keyed
by the group's id (each message, each join and leave), so re-importing the same export
adds nothing and a message the bot also saw is stored once. Only rows whose key is exactly
what the importer wrote are re-keyed. When the bot has already made a group of its own,
the two are not merged here: the import stops and says so.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, bindparam, select, update

from qunzhu.adapters.importers.common import message_key
from qunzhu.store.base import table_of
from qunzhu.store.models import Community, Group, MembershipEvent, Message

_groups, _messages, _events = table_of(Group), table_of(Message), table_of(MembershipEvent)
BATCH = 5000

# what a format's service events were keyed by: their stored raw, community, group → keys
EventKeys = Callable[[object, str, str], list[str]]


class GroupsToMerge(ValueError):
    """The old and the new id each have a group already."""


def _group(conn: Connection, community_id: int, platform: str, label: str) -> int | None:
    found = conn.execute(
        select(_groups.c.id).where(
            _groups.c.community_id == community_id,
            _groups.c.platform == platform,
            _groups.c.platform_group_id == label,
        )
    ).scalar()
    return None if found is None else int(found)


def relabel(
    conn: Connection,
    community: str,
    platform: str,
    old: str,
    new: str,
    event_keys: EventKeys | None = None,
) -> str | None:
    """Move group ``old`` of ``community`` to ``new``; what was done, in a sentence, or None
    when there is no group ``old`` (nothing to move)."""
    community_id = conn.execute(
        select(table_of(Community).c.id).where(table_of(Community).c.slug == community)
    ).scalar()
    if community_id is None:
        return None
    old_id = _group(conn, community_id, platform, old)
    if old_id is None:
        return None
    if _group(conn, community_id, platform, new) is not None:
        raise GroupsToMerge(
            f"group {old} holds an earlier import of this chat and group {new} what the "
            f"connected bot saw of it; they are not merged automatically. Import with "
            f"-g {new} after moving or removing group {old}, or keep importing into an own "
            "label that names no chat"
        )
    conn.execute(update(_groups).where(_groups.c.id == old_id).values(platform_group_id=new))
    messages = _rekey_messages(conn, old_id, platform, community, old, new)
    events = _rekey_events(conn, old_id, community, old, new, event_keys) if event_keys else 0
    return (
        f"group {old} (an earlier import) is now {new}, the id the live connector knows: "
        f"{messages:,} message(s) and {events:,} join/leave record(s) re-keyed"
    )


def _rekey_messages(
    conn: Connection, group_id: int, platform: str, community: str, old: str, new: str
) -> int:
    changes: list[dict[str, object]] = []
    last, done = 0, 0
    while True:
        rows = conn.execute(
            select(_messages.c.id, _messages.c.key, _messages.c.platform_message_id)
            .where(_messages.c.group_id == group_id, _messages.c.id > last)
            .order_by(_messages.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last = int(rows[-1][0])
        changes = [
            {"row": row_id, "new_key": message_key(platform, community, new, pmid)}
            for row_id, key, pmid in rows
            if key == message_key(platform, community, old, pmid)
        ]
        if changes:
            conn.execute(
                update(_messages)
                .where(_messages.c.id == bindparam("row"))
                .values(key=bindparam("new_key")),
                changes,
            )
            done += len(changes)
    return done


def _rekey_events(
    conn: Connection, group_id: int, community: str, old: str, new: str, event_keys: EventKeys
) -> int:
    changes = []
    rows = conn.execute(
        select(_events.c.id, _events.c.key, _events.c.raw).where(_events.c.group_id == group_id)
    ).all()
    for row_id, key, raw in rows:
        before, after = event_keys(raw, community, old), event_keys(raw, community, new)
        if key in before:
            changes.append({"row": row_id, "new_key": after[before.index(key)]})
    if changes:
        conn.execute(
            update(_events)
            .where(_events.c.id == bindparam("row"))
            .values(key=bindparam("new_key")),
            changes,
        )
    return len(changes)
