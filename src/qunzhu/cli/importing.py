"""`qunzhu import`: chat exports into a community's group."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from qunzhu.cli.core import store_at_head
from qunzhu.cli.intelligence import print_recompute, recompute_one
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.cli.words import column, say

# exit status of an import that stored what it could read but skipped part of a file
UNREAD_EXIT = 3
# days of health a recompute after an import fills in: the four weeks the report and the
# dashboard's trends look back on
BACKFILL_DAYS = 28
DATE_ORDERS = ("dmy", "mdy", "ymd")
FORMAT_HELP = "auto | wechat-csv | telegram-json | qq-txt | whatsapp-txt | discord-json | irc"


def _bytes_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def import_(
    files: list[Path] = typer.Argument(..., help="Export files (one format per call or auto)."),
    community: str = typer.Option(..., "--community", "-c", help="Community slug."),
    group: str = typer.Option(..., "--group", "-g", help="Group id inside the community."),
    fmt: str = typer.Option("auto", "--format", "-f", help=FORMAT_HELP),
    tz: str | None = typer.Option(
        None,
        help="IANA zone of times the export writes without one (default: the group's "
        "timezone in the spec, else the community's, else QUNZHU_TIMEZONE).",
    ),
    date_order: str | None = typer.Option(
        None,
        "--date-order",
        help="dmy | mdy | ymd: the order of WhatsApp dates, when the file cannot tell "
        "(the import says so and stops); otherwise decided from the file.",
    ),
    no_recompute: bool = typer.Option(
        False,
        "--no-recompute",
        help="Do not recompute afterwards (batch loads: run `qunzhu recompute -c C "
        f"--backfill {BACKFILL_DAYS}` once after the last).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import chat exports, then score them and recompute roles, value, tiers and group
    health (as `qunzhu recompute --backfill 28`); a second run of the same files adds
    nothing."""
    from qunzhu.adapters.importers import FORMATS, ImportFormatError
    from qunzhu.importing import ImportBatch

    if fmt != "auto" and fmt not in FORMATS:
        raise fail(f"--format {fmt!r}: expected one of {FORMAT_HELP}", as_json=as_json)
    if date_order is not None and date_order not in DATE_ORDERS:
        raise fail(f"--date-order {date_order!r}: expected dmy, mdy or ymd", as_json=as_json)
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            message = f"--tz {tz!r}: not an IANA time zone (e.g. Asia/Shanghai)"
            raise fail(message, as_json=as_json) from None
    for path in files:
        if not path.is_file():
            raise fail(f"{path}: no such file", as_json=as_json)
    store = store_at_head(as_json)
    results: list[dict[str, Any]] = []
    try:
        # one batch: its transactions run on from file to file (see ImportBatch)
        with ImportBatch.of(store) as batch:
            for path in files:
                try:
                    with _bytes_bar() as bar:
                        task = bar.add_task(f"import {path.name}", total=path.stat().st_size)
                        results.append(
                            batch.import_file(
                                path,
                                community=community,
                                group=group,
                                fmt=fmt,
                                tz=tz,
                                date_order=date_order,
                                progress=partial(bar.advance, task),
                            )
                        )
                except ImportFormatError as exc:
                    raise fail(str(exc), as_json=as_json, file=str(path), done=results) from None
        recomputed = None
        if not no_recompute and any(r["added_events"] for r in results):
            if not as_json:
                console.print(
                    say("cli.import.recomputing", community=community, days=BACKFILL_DAYS)
                )
            recomputed = recompute_one(store, community, backfill=BACKFILL_DAYS, as_json=as_json)
    finally:
        store.dispose()
    for r in results:  # the same run for every file: it follows the last one
        r["recompute"] = recomputed
    emit(
        results[0] if len(results) == 1 else results,
        as_json,
        lambda d: _render(d if isinstance(d, list) else [d]),
    )
    if any(r.get("unreadable_bytes") for r in results):
        raise typer.Exit(UNREAD_EXIT)  # what was read is stored; the file was not read whole


def _render(results: list[dict[str, Any]]) -> None:
    names = ("file", "format", "messages", "added", "members", "joins", "leaves", "invites",
             "replies", "quarantined")  # fmt: skip
    table = Table(*(column(n) for n in names))
    for r in results:
        table.add_row(
            Path(r["file"]).name,
            r["format"],
            f"{r['messages']:,}",
            f"{r['added']:,}",
            f"{r['members']:,}",
            f"{r['joins']:,}",
            f"{r['leaves']:,}",
            f"{r['invites']:,}",
            f"{r['replies']:,}"
            + (
                say("cli.import.inferred", n=f"{r['inferred_replies']:,}")
                if r["inferred_replies"]
                else ""
            ),
            str(r["quarantined"]),
        )
    console.print(table)
    for r in results:
        if r["inferred_replies"]:
            console.print(
                f"  {Path(r['file']).name}: {r['inferred_replies']:,} of the replies are "
                "inferred from addressing (nick: …), not linked by the platform"
            )
        for q in r["quarantined_records"][:20]:
            where = f":{q['line']}" if q.get("line") else ""
            console.print(f"  {Path(r['file']).name}{where}: {q['reason']}", highlight=False)
        if r["quarantined"] > 20:
            console.print(f"  … and {r['quarantined'] - 20} more, kept in the quarantine")
        for decided in r.get("decided") or ():
            console.print(
                say("cli.import.decided", file=Path(r["file"]).name, why=decided),
                markup=False,
                highlight=False,
            )
        if r.get("encoding") not in (None, "utf-8", "utf-8-sig"):
            console.print(f"  {Path(r['file']).name}: read as {r['encoding']} text")
        if r.get("unreadable_bytes"):
            console.print(
                f"  {Path(r['file']).name}: {r['unreadable_bytes']:,} bytes in "
                f"{r['unreadable_stretches']} stretch(es) could not be read and were skipped "
                "(each is in the quarantine); the rest is stored",
                style="bold red",
                markup=False,
                highlight=False,
            )
    recomputed = results[-1].get("recompute") if results else None
    if recomputed is not None:
        print_recompute([recomputed])
    elif any(r["added"] for r in results):
        console.print(say("cli.import.not_recomputed", days=BACKFILL_DAYS))
