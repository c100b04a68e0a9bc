"""`qunzhu backup FILE` and `qunzhu restore FILE` (docs/operations-security.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from qunzhu.cli.core import settings_or_exit
from qunzhu.cli.output import JSON_OPTION, console, emit, err_console, fail
from qunzhu.store.backup import BackupError, BackupReport
from qunzhu.store.backup import backup as backup_database
from qunzhu.store.backup import restore as restore_database


@contextmanager
def _spinner(as_json: bool, doing: str) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr naming the phase under way; none for --json (scripts)."""
    if as_json:
        yield lambda _phase: None
        return
    with err_console.status(doing) as status:
        yield lambda phase: status.update(f"{doing}: {phase}")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{n} B"  # not reached


def _render(verb: str) -> Callable[[dict[str, Any]], None]:
    def render(data: dict[str, Any]) -> None:
        console.print(
            f"{verb} {data['path']} ({_size(data['bytes'])}, {data['backend']}): "
            f"{len(data['tables'])} tables, {data['rows']:,} rows, schema {data['revision']}",
            highlight=False,
            soft_wrap=True,
        )
        if data.get("migrated_from"):
            console.print(f"migrated from schema {data['migrated_from']} to {data['revision']}")
        table = Table("table", "rows")
        for name, rows in data["tables"].items():
            table.add_row(name, f"{rows:,}")
        console.print(table)

    return render


def _report(report: BackupReport, verb: str, as_json: bool) -> None:
    emit(report.as_dict(), as_json, _render(verb))


def backup(
    file: Path = typer.Argument(..., help="The backup file to write.", dir_okay=False),
    force: bool = typer.Option(False, "--force", help="Replace FILE if it exists."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Back up the database into FILE while qunzhu keeps running (SQLite: a copy of the
    file; PostgreSQL: a pg_dump archive, -Fc)."""
    settings = settings_or_exit()
    if file.exists() and not force:
        raise fail(f"{file} exists already (use --force to replace it)", as_json=as_json)
    if not file.parent.is_dir():
        raise fail(f"no directory {file.parent} to write {file.name} into", as_json=as_json)
    try:
        with _spinner(as_json, "backing up") as step:
            report = backup_database(settings.database_url, file, step=step)
    except BackupError as exc:
        raise fail(str(exc), as_json=as_json) from None
    _report(report, "wrote", as_json)


def restore(
    file: Path = typer.Argument(..., help="A file written by `qunzhu backup`.", dir_okay=False),
    force: bool = typer.Option(
        False, "--force", help="Replace a database that holds data (it is lost)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Restore the database from FILE, then migrate it to this version's schema. Stop
    `qunzhu serve` and workers first."""
    settings = settings_or_exit()
    try:
        with _spinner(as_json, "restoring") as step:
            report = restore_database(settings.database_url, file, force=force, step=step)
    except BackupError as exc:
        raise fail(str(exc), as_json=as_json) from None
    _report(report, "restored", as_json)
