"""``qunzhu operator assign|unassign USER GROUP... -c SLUG``: which groups an operator looks
after. A group's new tasks go to its operator (the first assigned, if several); open tasks
of the group that had no owner become theirs at once. ``qunzhu operator contact USER
--email … --telegram …``: where their daily digest of tasks goes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qunzhu.auth.audit import record
from qunzhu.auth.permissions import Conflict, NotFound
from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.cli.words import say
from qunzhu.store import tasks
from qunzhu.store.admin import Operator
from qunzhu.store.community import Group
from qunzhu.store.resolve import community_id_by_slug
from qunzhu.tasks.actions import operator_of

COMMUNITY = typer.Option(..., "--community", "-c", help="Community slug.")
GROUPS = typer.Argument(..., help="Groups by platform id or name.")


def group_ids(session: Session, community_id: int, names: list[str]) -> list[int]:
    """The ids of the groups named (platform id or name); NotFound naming the first unknown."""
    found: list[int] = []
    for name in names:
        group_id = session.scalar(
            select(Group.id)
            .where(
                Group.community_id == community_id,
                (Group.platform_group_id == name) | (Group.name == name),
            )
            .order_by(Group.id)
            .limit(1)
        )
        if group_id is None:
            raise NotFound(f"no group {name!r} in this community", field="group")
        found.append(int(group_id))
    return found


def _looked_after(session: Session, community_id: int, operator_id: int) -> list[str]:
    ids = tasks.assignments(session.connection(), community_id).get(operator_id, [])
    if not ids:
        return []
    rows = session.execute(select(Group.name).where(Group.id.in_(ids)).order_by(Group.name))
    return [str(n) for (n,) in rows]


def _change(username: str, groups: list[str], community: str, as_json: bool, add: bool) -> None:
    store = store_at_head(as_json)
    try:
        with store.unit_of_work() as session:
            cid = community_id_by_slug(session, community)
            if cid is None:
                raise fail(say("cli.unknown_community", community=community), as_json=as_json)
            operator_id = operator_of(session, cid, username)
            ids = group_ids(session, cid, groups)
            conn = session.connection()
            if add:
                tasks.assign(conn, cid, operator_id, ids, datetime.now(UTC))
            else:
                tasks.unassign(conn, cid, operator_id, ids)
            record(session, "operator.assign" if add else "operator.unassign", source="cli",
                   community_id=cid, target=username, detail={"groups": ids})  # fmt: skip
            now_looks_after = _looked_after(session, cid, operator_id)
    except (NotFound, Conflict) as exc:
        raise fail(str(exc), as_json=as_json) from None
    finally:
        store.dispose()
    data: dict[str, Any] = {"operator": username, "groups": now_looks_after}

    def render(d: dict[str, Any]) -> None:
        if d["groups"]:
            console.print(
                say("cli.assign.done", operator=d["operator"], groups="、".join(d["groups"])),
                highlight=False,
            )
        else:
            console.print(say("cli.assign.none", operator=d["operator"]), highlight=False)

    emit(data, as_json, render)


def register(app: typer.Typer) -> None:
    @app.command("contact")
    def contact_command(
        username: str, email: str | None = EMAIL, telegram: str | None = TELEGRAM,
        as_json: bool = JSON_OPTION,
    ) -> None:  # fmt: skip
        """Where an operator's daily digest of tasks goes (e-mail, Telegram user id)."""
        contact(username, email, telegram, as_json)

    @app.command("assign")
    def assign(
        username: str, groups: list[str] = GROUPS, community: str = COMMUNITY,
        as_json: bool = JSON_OPTION,
    ) -> None:  # fmt: skip
        """The operator looks after these groups: their tasks go to them."""
        _change(username, groups, community, as_json, add=True)

    @app.command("unassign")
    def unassign(
        username: str, groups: list[str] = GROUPS, community: str = COMMUNITY,
        as_json: bool = JSON_OPTION,
    ) -> None:  # fmt: skip
        """The operator no longer looks after these groups."""
        _change(username, groups, community, as_json, add=False)


EMAIL = typer.Option(None, "--email", help="Address of the daily digest ('' to clear).")
TELEGRAM = typer.Option(
    None, "--telegram", help="Telegram user id for the digest by private message ('' to clear)."
)


def contact(username: str, email: str | None, telegram: str | None, as_json: bool) -> None:
    values: dict[str, str | None] = {}
    if email is not None:
        if email and ("@" not in email or len(email) > 254 or " " in email):
            raise fail(f"--email: {email!r} is not an e-mail address", as_json=as_json)
        values["email"] = email or None
    if telegram is not None:
        if telegram and not telegram.lstrip("-").isdigit():
            raise fail(
                f"--telegram: {telegram!r} is not a Telegram user id (digits, from @userinfobot)",
                as_json=as_json,
            )
        values["telegram_user"] = telegram or None
    store = store_at_head(as_json)
    try:
        with store.unit_of_work() as session:
            found = session.scalar(select(Operator.id).where(Operator.username == username))
            if found is None:
                raise fail(f"no operator {username!r}", as_json=as_json)
            if values:
                session.execute(update(Operator).where(Operator.id == found).values(**values))
                record(session, "operator.contact", source="cli", target=username,
                       detail={k: bool(v) for k, v in values.items()})  # fmt: skip
            row = session.execute(
                select(Operator.email, Operator.telegram_user).where(Operator.id == found)
            ).one()
    finally:
        store.dispose()
    data = {"operator": username, "email": row.email, "telegram": row.telegram_user}
    emit(data, as_json, lambda d: console.print(
        f"{d['operator']}: {d['email'] or '–'} · telegram {d['telegram'] or '–'}",
        highlight=False))  # fmt: skip
