"""`qunzhu members merge` and `unmerge`: one person's accounts across groups and platforms."""

from __future__ import annotations

import typer
from sqlalchemy import select

from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.store.merge import MergeError, find_member, merge_members, unmerge_member
from qunzhu.store.models import Community

app = typer.Typer(help="Members: merge one person's accounts, undo a merge.", no_args_is_help=True)

COMMUNITY = typer.Option(..., "--community", "-c", help="Community slug.")


@app.command()
def merge(
    keep: str = typer.Argument(..., help="Member that stays: id, platform:user_id or name."),
    other: str = typer.Argument(..., help="Member merged into it."),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Count OTHER as the same person as KEEP (undo with `members unmerge OTHER`)."""
    store = store_at_head(as_json)
    try:
        with store.unit_of_work() as session:
            community_id = session.scalar(select(Community.id).where(Community.slug == community))
            if community_id is None:
                raise MergeError(f"unknown community {community!r}")
            detail = merge_members(
                session,
                community_id,
                find_member(session, community_id, keep),
                find_member(session, community_id, other),
            )
    except MergeError as exc:
        raise fail(str(exc), as_json=as_json) from None
    emit(
        detail,
        as_json,
        lambda d: console.print(
            f"member {d['merged']} now counts as member {d['kept']} (undo: qunzhu members unmerge "
            f"{d['merged']} -c {community})"
        ),
    )


@app.command()
def unmerge(
    member: str = typer.Argument(..., help="The merged member: id or platform:user_id."),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Undo a merge: the member counts on its own again, with all its history."""
    store = store_at_head(as_json)
    try:
        with store.unit_of_work() as session:
            community_id = session.scalar(select(Community.id).where(Community.slug == community))
            if community_id is None:
                raise MergeError(f"unknown community {community!r}")
            detail = unmerge_member(
                session, community_id, find_member(session, community_id, member)
            )
    except MergeError as exc:
        raise fail(str(exc), as_json=as_json) from None
    emit(
        detail, as_json, lambda d: console.print(f"member {d['restored']} counts on its own again")
    )
