"""``qunzhu operator sessions`` and ``qunzhu operator revoke-session``: where an operator is
signed in to the dashboard, and ending those sessions (one, or ``--all``); ``disable`` and
``enable`` (a disabled operator's sessions end at once). Addresses are shown whole here:
whoever runs the command line can read the database anyway."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from qunzhu.auth.operator_sessions import live_sessions, revoke_session, revoke_sessions
from qunzhu.auth.operators import find_operator, set_active
from qunzhu.auth.permissions import NotFound
from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail


def list_sessions(
    username: str = typer.Argument(..., metavar="USERNAME"), as_json: bool = JSON_OPTION
) -> None:
    """List an operator's open dashboard sessions."""
    store = store_at_head(as_json)
    try:
        with store.reading() as session:
            operator = find_operator(session, username)
            rows = [
                {
                    "id": r.id,
                    "created_at": r.created_at,
                    "last_seen_at": r.last_seen_at,
                    "user_agent": r.user_agent,
                    "address": r.address,
                }
                for r in live_sessions(session, [operator.id])
            ]
    except NotFound as exc:
        raise fail(str(exc), as_json=as_json) from None
    finally:
        store.dispose()

    def render(items: list[dict[str, Any]]) -> None:
        if not items:
            console.print(f"{username} has no open session", highlight=False)
            return
        table = Table("id", "signed in", "last active", "address", "browser")
        for s in items:
            table.add_row(
                str(s["id"]),
                s["created_at"].strftime("%Y-%m-%d %H:%M"),
                s["last_seen_at"].strftime("%Y-%m-%d %H:%M"),
                s["address"] or "-",
                s["user_agent"][:60] or "-",
            )
        console.print(table)

    emit(rows, as_json, render)


def revoke(
    username: str = typer.Argument(..., metavar="USERNAME"),
    session_id: int | None = typer.Argument(
        None, metavar="[ID]", min=1, help="The session (see `qunzhu operator sessions`)."
    ),
    every: bool = typer.Option(False, "--all", help="End all of the operator's sessions."),
    as_json: bool = JSON_OPTION,
) -> None:
    """End one of an operator's sessions, or all of them with --all (audited)."""
    if (session_id is not None) == every:  # exactly one of the two
        raise fail("give either a session ID or --all", as_json=as_json)
    store = store_at_head(as_json)
    try:
        with store.unit_of_work() as session:
            operator = find_operator(session, username)
            name = operator.username
            if session_id is not None:
                ended = int(
                    revoke_session(
                        session, operator.id, session_id, reason="revoked from CLI", source="cli"
                    )
                )
            else:
                ended = revoke_sessions(
                    session, operator.id, reason="revoked from CLI", source="cli"
                )
    except NotFound as exc:
        raise fail(str(exc), as_json=as_json) from None
    finally:
        store.dispose()
    data = {"username": name, "session": session_id, "ended": ended}
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"ended {d['ended']} session(s) of {d['username']}", highlight=False
        ),
    )


def _switch(username: str, active: bool, as_json: bool) -> None:
    store = store_at_head(as_json)
    try:
        with store.unit_of_work() as session:
            changed = set_active(session, username, active, source="cli")
    except NotFound as exc:
        raise fail(str(exc), as_json=as_json) from None
    finally:
        store.dispose()
    state = "enabled" if active else "disabled"
    data = {"username": username, "active": active, "changed": changed}
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"{d['username']} {'is now' if d['changed'] else 'was already'} {state}",
            highlight=False,
        ),
    )


def disable(
    username: str = typer.Argument(..., metavar="USERNAME"), as_json: bool = JSON_OPTION
) -> None:
    """Stop an operator from signing in; their sessions end and their tokens are refused."""
    _switch(username, False, as_json)


def enable(
    username: str = typer.Argument(..., metavar="USERNAME"), as_json: bool = JSON_OPTION
) -> None:
    """Let a disabled operator sign in again (ended sessions stay ended)."""
    _switch(username, True, as_json)


def register(app: typer.Typer) -> None:
    app.command("sessions")(list_sessions)
    app.command("revoke-session")(revoke)
    app.command("disable")(disable)
    app.command("enable")(enable)
