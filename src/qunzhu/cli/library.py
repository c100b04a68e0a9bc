"""`qunzhu library suggest|add|dismiss|list|search|export`: the content library (内容库).

The same read model and decisions as the API and the dashboard. The command line is the
local shell (it can open the database itself), so it sees text unmasked; the compilation
masks authors and contact details whoever makes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import select

from qunzhu.auth.audit import record
from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.cli.words import column, language, say
from qunzhu.growth.common import spec_of
from qunzhu.messaging import library
from qunzhu.messaging.broadcast import community_zone
from qunzhu.messaging.library import LibraryError, UnknownMessage
from qunzhu.readmodels import library as reading
from qunzhu.reports import compilation
from qunzhu.reports.render import PdfUnavailable
from qunzhu.store.models import Community
from qunzhu.store.resolve import community_id_by_slug

app = typer.Typer(
    help="The content library: valuable answers and posts, kept, searched, compiled.",
    no_args_is_help=True,
)
COMMUNITY = typer.Option(..., "--community", "-c", help="Community slug.")
SHOWN_CHARS = 60


def _community(session: Any, slug: str) -> int:
    community_id = community_id_by_slug(session, slug)
    if community_id is None:
        raise LibraryError(say("cli.unknown_community", community=slug), field="community")
    return community_id


def _table(rows: list[dict[str, Any]], title: str, *, suggested: bool = False) -> None:
    if not rows:
        console.print(say("cli.library.none_suggested" if suggested else "cli.library.none"))
        return
    table = Table(title=title)
    common = ["author", "group", "posted", "text"]
    names = ["message_id", "value", *common] if suggested else ["id", "message_id", "tags", *common]
    for name in names:
        table.add_column(column(name))
    for r in rows:
        text = " ".join(r["text"].split())
        short = text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
        cells = {
            "id": str(r.get("id", "")),
            "message_id": str(r["message_id"]),
            "value": f"{r['value']:g}",
            "tags": "，".join(r.get("tags", [])),
            "author": r["author"],
            "group": r["group"],
            "posted": r["posted_at"][:16].replace("T", " "),
            "text": short,
        }
        table.add_row(*(cells[n] for n in names))
    console.print(table)


@app.command()
def suggest(
    community: str = COMMUNITY,
    days: int = typer.Option(reading.SUGGEST_DAYS, "--days", min=1, help="How far back."),
    limit: int = typer.Option(20, "--limit", min=1, max=200),
    as_json: bool = JSON_OPTION,
) -> None:
    """The most valuable messages not kept nor dismissed yet (the value engine's scores)."""
    store = store_at_head(as_json)
    try:
        with store.reading() as session:
            cid = _community(session, community)
            data = reading.suggestions(
                session, cid, now=datetime.now(UTC), days=days, limit=limit, unmasked=True
            )
    except LibraryError as exc:
        raise fail(str(exc), as_json=as_json, field=exc.field) from None
    emit(data, as_json, lambda d: _table(d, say("cli.library.suggested"), suggested=True))


def _decide(what: str, message_id: int, community: str, tags: list[str], as_json: bool) -> None:
    store = store_at_head(as_json)
    now = datetime.now(UTC)
    try:
        with store.unit_of_work() as session:
            cid = _community(session, community)
            if what == "keep":
                row = library.keep(session, cid, message_id, tags=tags, by="cli", now=now)
            else:
                row = library.dismiss(session, cid, message_id, by="cli", now=now)
            record(
                session, f"library.{what}", source="cli", community_id=cid,
                target=str(message_id),
            )  # fmt: skip
            data = {"id": row.id, "message_id": row.message_id, "status": row.status,
                    "tags": list(row.tags or [])}  # fmt: skip
    except (LibraryError, UnknownMessage) as exc:
        raise fail(str(exc), as_json=as_json, field=exc.field) from None
    key = "cli.library.kept" if what == "keep" else "cli.library.dismissed"
    emit(
        data,
        as_json,
        lambda d: console.print(
            say(key, id=d["id"], message=d["message_id"], tags="，".join(d["tags"]) or "–")
        ),
    )


@app.command()
def add(
    message_id: int = typer.Argument(..., min=1, help="The message's id (from `suggest`)."),
    community: str = COMMUNITY,
    tag: list[str] = typer.Option([], "--tag", "-t", help="A tag (repeat, or commas)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Keep a message in the library (again: new tags replace the old)."""
    _decide("keep", message_id, community, tag, as_json)


@app.command()
def dismiss(
    message_id: int = typer.Argument(..., min=1, help="The message's id."),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Never suggest a message again (a kept one leaves the library)."""
    _decide("dismiss", message_id, community, [], as_json)


@app.command("list")
def list_(
    community: str = COMMUNITY,
    tag: str | None = typer.Option(None, "--tag", "-t", help="Only items with this tag."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The kept items, newest first."""
    store = store_at_head(as_json)
    try:
        with store.reading() as session:
            data = reading.listing(session, _community(session, community), tag=tag, unmasked=True)
    except LibraryError as exc:
        raise fail(str(exc), as_json=as_json, field=exc.field) from None
    emit(data, as_json, lambda d: _table(d, say("tab.library")))


@app.command()
def search(
    query: str = typer.Argument(..., help="Words, each of which must occur (中文 or English)."),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Kept items holding every word of the query, newest first."""
    store = store_at_head(as_json)
    try:
        with store.reading() as session:
            data = reading.search(session, _community(session, community), query, unmasked=True)
    except LibraryError as exc:
        raise fail(f"{exc.field}: {exc}", as_json=as_json, field=exc.field) from None
    emit(data, as_json, lambda d: _table(d, say("cli.library.found", n=len(d), q=query)))


@app.command()
def export(
    out: Path = typer.Option(..., "--out", "-o", help="The file to write (.md, .html or .pdf)."),
    community: str = COMMUNITY,
    format: str | None = typer.Option(None, "--format", help="md, html or pdf (else by --out)."),
    by: str = typer.Option("tag", "--by", help="Sections by tag or by month."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The compilation (年底合集) of every kept item, authors masked."""
    store = store_at_head(as_json)
    fmt = format or out.suffix.lstrip(".").lower().replace("markdown", "md")
    try:
        if fmt not in compilation.FORMATS:
            raise LibraryError(f"format is md, html or pdf, not {fmt!r}", field="format")
        if by not in ("tag", "month"):
            raise LibraryError(f"--by is tag or month, not {by!r}", field="by")
        with store.reading() as session:
            cid = _community(session, community)
            items = reading.listing(session, cid, unmasked=True)
            spec = spec_of(session.connection(), cid)
            name = session.scalar(select(Community.name).where(Community.id == cid)) or community
        zone = community_zone(spec, store.settings.tz)
        grouping: compilation.GroupBy = "month" if by == "month" else "tag"
        body, _ = compilation.export(fmt, name, items, grouping, language(), zone)
        out.write_bytes(body)
    except (LibraryError, PdfUnavailable, OSError) as exc:
        field = getattr(exc, "field", "out")
        raise fail(str(exc), as_json=as_json, field=field) from None
    data = {"path": str(out), "format": fmt, "items": len(items), "bytes": len(body)}
    emit(data, as_json, lambda d: console.print(say("cli.library.exported", **d)))
