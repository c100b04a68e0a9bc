"""``qunzhu task``: the operators' tasks from the command line — make them now (as serve's
job does every few minutes), write one by hand, mark one done, snooze it, give it to another
operator. ``qunzhu today`` prints the plan. The command line acts as an admin would (who
can run it can open the database), and the audit log names the OS account."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer

from qunzhu.auth.permissions import Conflict, Forbidden, NotFound
from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.cli.words import say
from qunzhu.store.resolve import community_id_by_slug
from qunzhu.store.session import Store
from qunzhu.tasks import actions
from qunzhu.tasks.generate import run as generate_tasks
from qunzhu.tasks.plan import Actor, zone_of

app = typer.Typer(help="Operators' tasks: done, snooze, reassign, write one.", no_args_is_help=True)
COMMUNITY = typer.Option(..., "--community", "-c", help="Community slug.")
SHELL = Actor(operator_id=None, username="cli", every_task=True, some_tasks=True)


def _community(store: Store, slug: str, as_json: bool) -> int:
    with store.reading() as session:
        cid = community_id_by_slug(session, slug)
    if cid is None:
        raise fail(say("cli.unknown_community", community=slug), as_json=as_json)
    return cid


def _acting(as_json: bool, work: Any) -> Any:
    try:
        return work()
    except (NotFound, Forbidden, Conflict, ValueError) as exc:
        raise fail(str(exc), as_json=as_json) from None


def _say(data: dict[str, Any], key: str) -> None:
    console.print(say(key, **data), highlight=False)


@app.command("generate")
def generate(community: str = COMMUNITY, as_json: bool = JSON_OPTION) -> None:
    """Make the tasks of the queues, the health alerts and the deliveries that need a hand."""
    store = store_at_head(as_json)
    cid = _community(store, community, as_json)
    with store.engine.begin() as conn:
        report = generate_tasks(conn, cid, datetime.now(UTC), zone_of(conn, cid, store.settings.tz))
    made = report["review"] + report["applications"] + report["health"] + report["deliveries"]
    emit({**report, "n": made}, as_json, lambda d: _say(d, "cli.task.made"))


@app.command("add")
def add(
    text: str = typer.Argument(..., help="What to do."),
    community: str = COMMUNITY,
    due: datetime = typer.Option(..., "--due", help="When it is due, e.g. 2031-01-06T18:00"),
    group: str | None = typer.Option(None, "--group", help="The group (platform id or name)."),
    owner: str | None = typer.Option(None, "--owner", help="The operator who does it."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a task by hand."""
    store = store_at_head(as_json)
    cid = _community(store, community, as_json)

    def work() -> int:
        with store.unit_of_work() as session:
            tz = zone_of(session.connection(), cid, store.settings.tz)
            due_at = due if due.tzinfo is not None else due.replace(tzinfo=tz)
            return actions.create(session, cid, text=text, due_at=due_at, group=group,
                                  owner=owner, actor=SHELL, now=datetime.now(UTC),
                                  source="cli")  # fmt: skip

    task_id = _acting(as_json, work)
    emit({"id": task_id}, as_json, lambda d: _say(d, "cli.task.added"))


@app.command("done")
def done(task_id: int, community: str = COMMUNITY, as_json: bool = JSON_OPTION) -> None:
    """Mark a task done."""
    store = store_at_head(as_json)
    cid = _community(store, community, as_json)

    def work() -> None:
        with store.unit_of_work() as session:
            actions.done(session, cid, task_id, SHELL, datetime.now(UTC), "cli")

    _acting(as_json, work)
    emit({"id": task_id, "state": "done"}, as_json, lambda d: _say(d, "cli.task.done"))


@app.command("snooze")
def snooze(
    task_id: int,
    community: str = COMMUNITY,
    until: str = typer.Option("1h", "--until", help="1h, or tomorrow (09:00 local)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Put a task off for an hour or until tomorrow morning."""
    store = store_at_head(as_json)
    cid = _community(store, community, as_json)

    def work() -> datetime:
        with store.unit_of_work() as session:
            tz = zone_of(session.connection(), cid, store.settings.tz)
            moment = actions.snooze(session, cid, task_id, until, SHELL, datetime.now(UTC),
                                    tz, "cli")  # fmt: skip
            return moment.astimezone(tz)

    moment = _acting(as_json, work)
    data = {"id": task_id, "state": "snoozed", "until": moment.strftime("%Y-%m-%d %H:%M")}
    emit(data, as_json, lambda d: _say(d, "cli.task.snoozed"))


@app.command("reassign")
def reassign(
    task_id: int,
    operator: str = typer.Argument(..., help="The operator's username."),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Give a task to another operator of the community."""
    store = store_at_head(as_json)
    cid = _community(store, community, as_json)

    def work() -> int:
        with store.unit_of_work() as session:
            return actions.reassign(session, cid, task_id, operator, SHELL, datetime.now(UTC),
                                    "cli")  # fmt: skip

    owner = _acting(as_json, work)
    data = {"id": task_id, "operator": operator, "owner_id": owner}
    emit(data, as_json, lambda d: _say(d, "cli.task.reassigned"))
