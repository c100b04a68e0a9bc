"""One person, several accounts: merge members by pointer, so a merge can be undone exactly.

A merge sets ``merged_into_id`` on the merged member and moves nothing: messages, rollups and
identities keep their own member, and anything counted per person goes through
:func:`canonical_ids`. Undo clears the pointer, and every row is where it was.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from qunzhu.store.models import AuditEntry, Identity, Member


class MergeError(ValueError):
    """A merge or undo that cannot be done; the message says why."""


def canonical_ids(conn: Connection | Session, community_id: int) -> dict[int, int]:
    """For every merged member of the community, the member it now counts as (the root)."""
    rows = conn.execute(
        select(Member.id, Member.merged_into_id).where(
            Member.community_id == community_id, Member.merged_into_id.is_not(None)
        )
    )
    pointers: dict[int, int] = {m: into for m, into in rows if into is not None}
    roots: dict[int, int] = {}
    for member in pointers:
        seen = {member}
        root = pointers[member]
        while root in pointers:  # a chain: A merged into B, B later merged into C
            if root in seen:
                raise MergeError(f"merge cycle through member {root}")
            seen.add(root)
            root = pointers[root]
        roots[member] = root
    return roots


def find_member(session: Session, community_id: int, ref: str) -> Member:
    """A member by id (`42`), platform account (`wechat:wxid_abc`) or unique display name."""
    if ref.isdigit():
        member = session.get(Member, int(ref))
        if member is not None and member.community_id == community_id:
            return member
    elif ":" in ref:
        platform, _, user = ref.partition(":")
        member_id = session.scalar(
            select(Identity.member_id).where(
                Identity.community_id == community_id,
                Identity.platform == platform,
                Identity.platform_user_id == user,
            )
        )
        if member_id is not None:
            return session.get_one(Member, member_id)
    else:
        found = session.scalars(
            select(Member).where(Member.community_id == community_id, Member.display_name == ref)
        ).all()
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            ids = ", ".join(str(m.id) for m in found)
            raise MergeError(f"{ref!r} names {len(found)} members ({ids}): use an id")
    raise MergeError(
        f"no member {ref!r} in this community (use an id, platform:user_id or a display name)"
    )


def merge_members(
    session: Session,
    community_id: int,
    keep: Member,
    merged: Member,
    *,
    operator_id: int | None = None,
    source: str = "cli",
) -> dict[str, Any]:
    if keep.id == merged.id:
        raise MergeError("a member cannot be merged into itself")
    roots = canonical_ids(session, community_id)
    if roots.get(keep.id, keep.id) == merged.id:
        raise MergeError(f"member {keep.id} is already merged into {merged.id}: undo that first")
    if merged.merged_into_id is not None:
        raise MergeError(f"member {merged.id} is already merged into {merged.merged_into_id}")
    merged.merged_into_id = keep.id
    detail = {"kept": keep.id, "merged": merged.id}
    session.add(
        AuditEntry(
            community_id=community_id,
            operator_id=operator_id,
            action="members.merge",
            target=f"member:{merged.id}",
            detail=detail,
            source=source,
        )
    )
    return detail


def unmerge_member(
    session: Session,
    community_id: int,
    member: Member,
    *,
    operator_id: int | None = None,
    source: str = "cli",
) -> dict[str, Any]:
    if member.merged_into_id is None:
        raise MergeError(f"member {member.id} is not merged into anyone")
    detail = {"kept": member.merged_into_id, "restored": member.id}
    member.merged_into_id = None
    session.add(
        AuditEntry(
            community_id=community_id,
            operator_id=operator_id,
            action="members.unmerge",
            target=f"member:{member.id}",
            detail=detail,
            source=source,
        )
    )
    return detail
