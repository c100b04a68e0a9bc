"""`qunzhu members merge|unmerge|mark-bot|unmark-bot|export|forget`: one person's accounts,
whether an account is a bot, and their personal data."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from sqlalchemy.orm import Session

from qunzhu.auth.audit import record
from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.store.merge import MergeError, find_member, merge_members, unmerge_member
from qunzhu.store.privacy import PrivacyError, erase_member, export_member
from qunzhu.store.resolve import community_id_by_slug
from qunzhu.store.uncounted import set_bot

app = typer.Typer(
    help="Members: merge one person's accounts; mark bots; export or erase personal data.",
    no_args_is_help=True,
)


def _community_id(session: Session, slug: str) -> int:
    community_id = community_id_by_slug(session, slug)
    if community_id is None:
        raise MergeError(f"unknown community {slug!r}")
    return community_id


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
            community_id = _community_id(session, community)
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
            community_id = _community_id(session, community)
            detail = unmerge_member(
                session, community_id, find_member(session, community_id, member)
            )
    except MergeError as exc:
        raise fail(str(exc), as_json=as_json) from None
    emit(
        detail, as_json, lambda d: console.print(f"member {d['restored']} counts on its own again")
    )


def _mark(member: str, community: str, is_bot: bool, as_json: bool) -> None:
    store = store_at_head(as_json)
    try:
        with store.unit_of_work() as session:
            community_id = _community_id(session, community)
            found = find_member(session, community_id, member).id
            detail = set_bot(session, community_id, found, is_bot)
            record(
                session,
                "member.mark_bot" if is_bot else "member.unmark_bot",
                source="cli",
                community_id=community_id,
                target=str(found),
            )
    except MergeError as exc:
        raise fail(str(exc), as_json=as_json) from None
    said = "is marked as a bot" if is_bot else "is no longer marked as a bot"
    emit(
        detail,
        as_json,
        lambda d: console.print(
            f"member {found} {said}: rankings and leaderboards now; roles and tiers at the next "
            f"recompute (qunzhu recompute -c {community})"
        ),
    )


@app.command("mark-bot")
def mark_bot(
    member: str = typer.Argument(..., help="Member: id, platform:user_id or name."),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Mark a member as a bot: kept out of rankings, roles, tiers and referral rewards."""
    _mark(member, community, True, as_json)


@app.command("unmark-bot")
def unmark_bot(
    member: str = typer.Argument(..., help="Member: id, platform:user_id or name."),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Count a member as a person again, even if their platform says bot."""
    _mark(member, community, False, as_json)


@app.command("export")
def export(
    member: str = typer.Argument(..., help="Member: id, platform:user_id or name."),
    community: str = COMMUNITY,
    out: Path = typer.Option(..., "--out", "-o", help="JSON file to write."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write everything stored about a member to a JSON file (a data-subject request)."""
    store = store_at_head(as_json)
    try:
        with store.unit_of_work() as session:
            community_id = _community_id(session, community)
            found = find_member(session, community_id, member).id
            data = export_member(session, community_id, found)
            record(
                session,
                "member.export",
                source="cli",
                community_id=community_id,
                target=str(found),
                detail={"file": str(out)},
            )
    except (MergeError, PrivacyError) as exc:
        raise fail(str(exc), as_json=as_json) from None
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    counts = {name: len(rows) for name, rows in data.items()}
    emit(
        {"member": found, "file": str(out), "rows": counts},
        as_json,
        lambda d: console.print(f"wrote {sum(counts.values())} rows about member {found} to {out}"),
    )


@app.command("forget")
def forget(
    member: str = typer.Argument(..., help="Member: id or platform:user_id."),
    community: str = COMMUNITY,
    yes: bool = typer.Option(False, "--yes", help="Confirm: this cannot be undone."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Erase a member's personal data (names, phone, account ids, message texts)."""
    if not yes:
        raise fail("erasing personal data cannot be undone: add --yes to confirm", as_json=as_json)
    store = store_at_head(as_json)
    try:
        with store.unit_of_work() as session:
            community_id = _community_id(session, community)
            found = find_member(session, community_id, member).id
            counts = erase_member(session, community_id, found)
            record(
                session,
                "member.erase",
                source="cli",
                community_id=community_id,
                target=str(found),
                detail=counts,
            )
    except (MergeError, PrivacyError) as exc:
        raise fail(str(exc), as_json=as_json) from None
    emit(
        {"member": found, "erased": counts},
        as_json,
        lambda d: console.print(f"erased the personal data of member {found}: {counts}"),
    )
