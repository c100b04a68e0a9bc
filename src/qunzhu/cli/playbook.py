"""`qunzhu playbook list|run`: the spec's SOP playbooks (群SOP), how many members are in each
and at which step; run them now (as serve's schedule does every minute)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from qunzhu.cli import words
from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.cli.words import column, say
from qunzhu.growth.common import spec_of
from qunzhu.messaging.playbooks import run as run_playbooks
from qunzhu.readmodels.playbooks import overview
from qunzhu.store.resolve import community_id_by_slug

app = typer.Typer(
    help="SOP playbooks: members walked through steps after a trigger.", no_args_is_help=True
)
COMMUNITY = typer.Option(..., "--community", "-c", help="Community slug.")


@app.command("list")
def list_(community: str = COMMUNITY, as_json: bool = JSON_OPTION) -> None:
    """Each playbook of the spec: its trigger, its steps, members at each step, finished."""
    store = store_at_head(as_json)
    with store.engine.connect() as conn:
        cid = community_id_by_slug(conn, community)
        if cid is None:
            raise fail(say("cli.unknown_community", community=community), as_json=as_json)
        data = overview(conn, cid, spec_of(conn, cid))

    def show(d: list[dict[str, Any]]) -> None:
        for book in d:
            trigger = words.code("playbook_trigger", book["trigger"])
            title = say(
                "cli.playbook.title", name=book["name"], trigger=trigger, n=book["finished"]
            )
            table = Table(title=title)
            for name in ("step", "day", "kind", "to", "unless", "waiting"):
                table.add_column(column(name))
            for n, s in enumerate(book["steps"]):
                table.add_row(
                    str(n + 1),
                    str(s["day"]),
                    s["kind"],
                    s["to"],
                    s["unless"] or "",
                    str(s["waiting"]),
                )
            console.print(table)

    emit(data, as_json, show)


@app.command("run")
def run_(community: str = COMMUNITY, as_json: bool = JSON_OPTION) -> None:
    """Enrol and advance the playbooks now; their messages go to the outbox for serve."""
    store = store_at_head(as_json)
    with store.engine.begin() as conn:
        cid = community_id_by_slug(conn, community)
        if cid is None:
            raise fail(say("cli.unknown_community", community=community), as_json=as_json)
        report = run_playbooks(
            conn, cid, spec_of(conn, cid), datetime.now(UTC), store.settings.language
        )
    emit(
        report,
        as_json,
        lambda d: console.print(
            f"enrolled {d['enrolled']}, acted {d['acted']}, skipped {d['skipped']}"
        ),
    )
