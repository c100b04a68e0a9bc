"""``qunzhu operator``: the people who log in, their roles per community, API tokens and
dashboard sessions (:mod:`qunzhu.cli.operator_sessions`).

Passwords are read from standard input (``--password-stdin``) so they never appear in the
shell history or the process list; without it a random password is made and shown once.
Tokens are shown once, at creation. Every change is written to the audit log.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from qunzhu.auth.credentials import CredentialError, random_password
from qunzhu.auth.operators import (
    create_operator,
    create_token,
    grant,
    list_operators,
    revoke,
    revoke_token,
    set_password,
)
from qunzhu.auth.permissions import Conflict, NotFound
from qunzhu.cli.core import store_at_head
from qunzhu.cli.operator_2fa import app as two_factor_app
from qunzhu.cli.operator_groups import register as register_group_commands
from qunzhu.cli.operator_sessions import register as register_session_commands
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.store.models import utcnow

app = typer.Typer(
    name="operator",
    no_args_is_help=True,
    help="Operators (who log in to the dashboard and API), roles and tokens.",
)
token_app = typer.Typer(help="API tokens (shown once, stored as a hash).", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(two_factor_app, name="2fa")
register_session_commands(app)
register_group_commands(app)  # assign / unassign the groups an operator looks after

PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of standard input."
)


@contextmanager
def _changing(as_json: bool = False) -> Iterator[Session]:
    """One unit of work on the configured database; domain errors become clean exits."""
    store = store_at_head(as_json)
    try:
        with store.unit_of_work() as session:
            yield session
    except (CredentialError, Conflict, NotFound) as exc:
        raise fail(str(exc), as_json=as_json) from None
    finally:
        store.dispose()


def _password(from_stdin: bool, as_json: bool) -> tuple[str, bool]:
    """The password to set, and whether it was made here (and so must be shown)."""
    if not from_stdin:
        return random_password(), True
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise fail("--password-stdin: no password on standard input", as_json=as_json)
    return line, False


def _show_password(data: dict[str, Any]) -> None:
    if data.get("password"):
        console.print(f"password: [bold]{data['password']}[/] (shown only now)", highlight=False)


@app.command("create")
def create(
    username: str = typer.Argument(..., help="Login name (lowercase)."),
    password_stdin: bool = PASSWORD_STDIN,
    superuser: bool = typer.Option(False, "--superuser", help="May see and do everything."),
    display_name: str = typer.Option("", "--display-name", help="Name shown."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an operator."""
    password, generated = _password(password_stdin, as_json)
    with _changing(as_json) as session:
        operator = create_operator(
            session,
            username,
            password,
            superuser=superuser,
            display_name=display_name,
            source="cli",
        )
        data = {
            "id": operator.id,
            "username": operator.username,
            "superuser": superuser,
            "password": password if generated else None,
        }

    def render(d: dict[str, Any]) -> None:
        kind = "superuser" if d["superuser"] else "operator"
        console.print(f"created {kind} [bold]{d['username']}[/]", highlight=False)
        _show_password(d)

    emit(data, as_json, render)


@app.command("passwd")
def passwd(
    username: str, password_stdin: bool = PASSWORD_STDIN, as_json: bool = JSON_OPTION
) -> None:
    """Set an operator's password (their open sessions end)."""
    password, generated = _password(password_stdin, as_json)
    with _changing(as_json) as session:
        set_password(session, username, password, source="cli")
    data = {"username": username, "password": password if generated else None}

    def render(d: dict[str, Any]) -> None:
        console.print(f"password of [bold]{d['username']}[/] changed", highlight=False)
        _show_password(d)

    emit(data, as_json, render)


@app.command("grant")
def grant_role(
    username: str,
    community: str,
    role: str = typer.Argument(..., help="owner, admin, moderator or analyst"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Give an operator a role in a community (replacing the role they had there)."""
    with _changing(as_json) as session:
        previous = grant(session, username, community, role, source="cli")
    data = {"username": username, "community": community, "role": role, "previous": previous}
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"{d['username']} is now {d['role']} in {d['community']}"
            + (f" (was {d['previous']})" if d["previous"] else ""),
            highlight=False,
        ),
    )


@app.command("revoke")
def revoke_role(username: str, community: str, as_json: bool = JSON_OPTION) -> None:
    """Take away an operator's role in a community."""
    with _changing(as_json) as session:
        role = revoke(session, username, community, source="cli")
    data = {"username": username, "community": community, "removed": role}
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"{d['username']} no longer has a role ({d['removed']}) in {d['community']}",
            highlight=False,
        ),
    )


@app.command("list")
def list_all(as_json: bool = JSON_OPTION) -> None:
    """List operators with their roles."""
    store = store_at_head(as_json)
    try:
        with store.reading() as session:
            rows = list_operators(session)
    finally:
        store.dispose()

    def render(items: list[dict[str, Any]]) -> None:
        table = Table("username", "superuser", "active", "roles", "tokens", "last login")
        for o in items:
            roles = ", ".join(f"{r['community']}:{r['role']}" for r in o["roles"]) or "-"
            last = o["last_login_at"].strftime("%Y-%m-%d %H:%M") if o["last_login_at"] else "-"
            table.add_row(
                o["username"],
                "yes" if o["superuser"] else "",
                "yes" if o["active"] else "no",
                roles,
                str(o["tokens"]),
                last,
            )
        console.print(table)

    emit(rows, as_json, render)


@token_app.command("create")
def token_create(
    username: str,
    name: str = typer.Option(..., "--name", help="What will use the token."),
    expires_days: int | None = typer.Option(
        None, "--expires-days", min=1, help="Expire after this many days."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Make an API token for an operator; it is printed once and never again."""
    expires = utcnow() + timedelta(days=expires_days) if expires_days else None
    with _changing(as_json) as session:
        issued = create_token(session, username, name, expires_at=expires, source="cli")
    data = {
        "id": issued.id,
        "username": username,
        "name": issued.name,
        "prefix": issued.prefix,
        "token": issued.token,
        "expires_at": issued.expires_at,
    }

    def render(d: dict[str, Any]) -> None:
        console.print(f"token {d['id']} ({d['name']}) for {d['username']}:", highlight=False)
        # plain print: the token must be copied exactly, without rich's wrapping or markup
        print(d["token"])
        console.print(
            "it is shown only now; send it as `Authorization: Bearer <token>`", highlight=False
        )

    emit(data, as_json, render)


@token_app.command("revoke")
def token_revoke(
    token_id: int = typer.Argument(..., metavar="ID"), as_json: bool = JSON_OPTION
) -> None:
    """Revoke an API token; requests with it are refused from now on."""
    with _changing(as_json) as session:
        row = revoke_token(session, token_id, source="cli")
        data = {"id": row.id, "name": row.name, "revoked_at": row.revoked_at}
    emit(
        data,
        as_json,
        lambda d: console.print(f"token {d['id']} ({d['name']}) revoked", highlight=False),
    )
