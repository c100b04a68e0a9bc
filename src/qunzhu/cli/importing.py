"""`qunzhu import`: chat exports into a community's group."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from qunzhu.cli.core import progress_bar, store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail

FORMAT_HELP = "auto | wechat-csv | telegram-json | qq-txt | whatsapp-txt | discord-json | irc"


def import_(
    files: list[Path] = typer.Argument(..., help="Export files (one format per call or auto)."),
    community: str = typer.Option(..., "--community", "-c", help="Community slug."),
    group: str = typer.Option(..., "--group", "-g", help="Group id inside the community."),
    fmt: str = typer.Option("auto", "--format", "-f", help=FORMAT_HELP),
    tz: str | None = typer.Option(None, help="Zone of times the export writes without one."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import chat exports; a second run of the same files adds nothing."""
    from qunzhu.adapters.importers import FORMATS, ImportFormatError
    from qunzhu.importing import import_file

    if fmt != "auto" and fmt not in FORMATS:
        raise fail(f"--format {fmt!r}: expected one of {FORMAT_HELP}", as_json=as_json)
    store = store_at_head(as_json)
    results: list[dict[str, Any]] = []
    for path in files:
        if not path.is_file():
            raise fail(f"{path}: no such file", as_json=as_json)
        try:
            with progress_bar() as bar:
                task = bar.add_task(f"import {path.name}", total=None)
                results.append(
                    import_file(
                        store,
                        path,
                        community=community,
                        group=group,
                        fmt=fmt,
                        tz=tz,
                        progress=partial(bar.advance, task),
                    )
                )
        except ImportFormatError as exc:
            raise fail(str(exc), as_json=as_json, file=str(path)) from None
    emit(
        results[0] if len(results) == 1 else results,
        as_json,
        lambda d: _render(d if isinstance(d, list) else [d]),
    )


def _render(results: list[dict[str, Any]]) -> None:
    table = Table(
        "file",
        "format",
        "messages",
        "added",
        "members",
        "joins",
        "leaves",
        "invites",
        "replies",
        "quarantined",
    )
    for r in results:
        table.add_row(
            Path(r["file"]).name,
            r["format"],
            f"{r['messages']:,}",
            f"{r['added']:,}",
            f"{r['members']:,}",
            str(r["joins"]),
            str(r["leaves"]),
            str(r["invites"]),
            f"{r['replies']:,}",
            str(r["quarantined"]),
        )
    console.print(table)
    for r in results:
        for q in r["quarantined_records"][:20]:
            console.print(f"  {Path(r['file']).name}:{q['line']}: {q['reason']}", highlight=False)
