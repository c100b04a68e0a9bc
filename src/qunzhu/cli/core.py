"""Core commands: init, db, community, ingest, config, demo, serve."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from qunzhu.auth.permissions import LOCAL_SHELL
from qunzhu.bounds import OutOfBounds, loads_event_json
from qunzhu.cli.output import JSON_OPTION, console, emit, err_console, fail
from qunzhu.events import EventError, event_from_json
from qunzhu.readmodels.communities import communities_for
from qunzhu.settings import Settings, SettingsError, load_settings, mask_url
from qunzhu.store import Store
from qunzhu.store.migrate import current_revision, head_revision, upgrade
from qunzhu.store.models import Community
from qunzhu.store.quarantine import RejectedRecord
from qunzhu.store.resolve import community_id_by_slug

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
community_app = typer.Typer(help="Communities.", no_args_is_help=True)
config_app = typer.Typer(help="Settings.", no_args_is_help=True)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise fail(str(exc)) from None


def open_store(settings: Settings, *, create: bool, as_json: bool = False) -> Store:
    """The store of ``settings``. A SQLite file that is not there yet is made only when
    ``create`` (the schema commands), saying where on stderr; any other command refuses,
    so one run from the wrong place or with the wrong URL never leaves an empty database."""
    path = settings.sqlite_file
    if path is not None and not path.exists():
        if not create:
            raise fail(
                f"no database at {path}: `qunzhu db upgrade` creates it there, or set "
                "QUNZHU_DATABASE_URL to the one you use",
                as_json=as_json,
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        err_console.print(
            f"creating a new database at {path} (QUNZHU_DATABASE_URL chooses another)",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
    return Store(settings)


def store_at_head(as_json: bool = False) -> Store:
    """A Store whose schema is at the newest migration, or an error the operator can act on
    (a wrong setting, a database that does not answer, a schema behind the code)."""
    settings = settings_or_exit()
    store = open_store(settings, create=False, as_json=as_json)
    try:
        current = current_revision(store.engine)
    except SQLAlchemyError as exc:
        store.dispose()
        cause = getattr(exc, "orig", None) or exc
        reason = (str(cause).splitlines() or [type(cause).__name__])[0]
        raise fail(
            f"cannot reach the database {mask_url(settings.database_url)}: {reason}",
            as_json=as_json,
        ) from None
    head = head_revision()
    if current != head:
        store.dispose()
        at = "empty" if current is None else f"at {current}"
        raise fail(
            f"the database schema is not up to date ({at}, newest {head}): run `qunzhu db upgrade`",
            as_json=as_json,
        )
    return store


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@db_app.command("upgrade")
def db_upgrade(
    revision: str = typer.Option("head", help="Revision to migrate to."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create or migrate the schema (SQLite or PostgreSQL, same migrations)."""
    store = open_store(settings_or_exit(), create=True, as_json=as_json)
    before = current_revision(store.engine)
    upgrade(store.engine, revision)
    after = current_revision(store.engine)
    emit(
        {"from": before, "to": after},
        as_json,
        lambda d: console.print(f"schema: {d['from'] or 'empty'} → {d['to']}"),
    )


@db_app.command("current")
def db_current(as_json: bool = JSON_OPTION) -> None:
    """Show the schema revision and whether it is the newest."""
    store = open_store(settings_or_exit(), create=False, as_json=as_json)
    data = {"current": current_revision(store.engine), "head": head_revision()}
    emit(data, as_json, lambda d: console.print(f"current {d['current']}, newest {d['head']}"))


def init(as_json: bool = JSON_OPTION) -> None:
    """Set up a fresh installation: the schema, then how to log in."""
    from qunzhu.auth.bootstrap import ensure_first_operator

    store = open_store(settings_or_exit(), create=True, as_json=as_json)
    upgrade(store.engine)
    message = ensure_first_operator(store)
    data = {
        "database": store.settings.shown()["QUNZHU_DATABASE_URL"],
        "revision": current_revision(store.engine),
        "login": message,
    }
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"database ready at {d['database']} (schema {d['revision']})"
            + (f"\n{d['login']}" if d["login"] else "")
        ),
    )


def _load_spec_text(path: Path, as_json: bool, force: bool) -> tuple[str, str | None]:
    """The spec's text, once it loads and its positioning lint finds no errors."""
    from qunzhu.spec import SpecError, lint, load_spec

    try:
        spec = load_spec(path)  # reads the bytes itself: bad encodings become SpecErrors too
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}", as_json=as_json) from None
    except SpecError as exc:
        raise fail(
            f"{path}: {exc}",
            as_json=as_json,
            errors=[p.__dict__ if hasattr(p, "__dict__") else str(p) for p in exc.problems],
        ) from None
    errors = [f for f in lint(spec) if f.severity == "error"]
    if errors and not force:
        raise fail(
            f"{path}: the positioning lint found {len(errors)} error(s) "
            f"({', '.join(sorted({f.code for f in errors}))}); see `qunzhu spec check {path}`, "
            "or add --force to create the community anyway",
            as_json=as_json,
            code=1,
            findings=[f.as_dict() for f in errors],
        )
    return text, spec.name


@community_app.command("create")
def community_create(
    slug: str = typer.Argument(..., help="Short id, e.g. ai-bootcamp."),
    name: str | None = typer.Option(None, help="Display name (default: the spec's name)."),
    spec: Path | None = typer.Option(None, "--spec", help="community.yaml to attach."),
    force: bool = typer.Option(False, "--force", help="Create even if the lint finds errors."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a community, optionally with its positioning spec (checked first)."""
    if not slug.replace("-", "").replace("_", "").isalnum() or len(slug) > 64:
        raise fail(f"slug {slug!r}: use letters, digits, - and _ (64 at most)", as_json=as_json)
    spec_text, spec_name = _load_spec_text(spec, as_json, force) if spec else (None, None)
    store = store_at_head(as_json)
    with store.unit_of_work() as session:
        if community_id_by_slug(session, slug) is not None:
            raise fail(f"community {slug!r} exists already", as_json=as_json)
        community = Community(slug=slug, name=name or spec_name or slug, spec_yaml=spec_text)
        session.add(community)
        session.flush()
        data = {
            "id": community.id,
            "slug": slug,
            "name": community.name,
            "spec": str(spec) if spec else None,
        }
    emit(data, as_json, lambda d: console.print(f"created community {d['slug']} ({d['name']})"))


@community_app.command("list")
def community_list(as_json: bool = JSON_OPTION) -> None:
    """List communities with their groups and members."""
    store = store_at_head(as_json)
    with store.reading() as session:
        communities = communities_for(session, LOCAL_SHELL, date.today())
    rows = [
        {
            "slug": c.slug,
            "name": c.name,
            "groups": len(c.groups),
            "members": c.members,
            "memberships": c.memberships,
            "has_spec": c.has_spec,
        }
        for c in sorted(communities, key=lambda c: c.slug)
    ]

    def render(data: list[dict[str, Any]]) -> None:
        table = Table("community", "name", "groups", "people", "group memberships", "spec")
        for r in data:
            table.add_row(
                r["slug"],
                r["name"],
                str(r["groups"]),
                str(r["members"]),
                str(r["memberships"]),
                "yes" if r["has_spec"] else "no",
            )
        console.print(table)

    emit(rows, as_json, render)


def _jsonl(path: Path) -> Iterator[Any]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line:
                continue
            try:
                text = line.decode("utf-8")
                yield event_from_json(loads_event_json(text))
            except OutOfBounds as exc:  # too long or nested too deep: not parsed at all
                yield RejectedRecord(
                    str(path), number, str(exc), line[:4000].decode("utf-8", "replace")
                )
            except UnicodeDecodeError as exc:
                yield RejectedRecord(
                    str(path), number, f"not UTF-8 at byte {exc.start}", repr(line[:200])
                )
            except json.JSONDecodeError as exc:
                yield RejectedRecord(
                    str(path),
                    number,
                    f"invalid JSON: {exc.msg} (column {exc.colno})",
                    line.decode("utf-8", "replace"),
                )
            except EventError as exc:
                yield RejectedRecord(str(path), number, str(exc), line.decode("utf-8", "replace"))


def ingest(
    files: list[Path] = typer.Argument(..., help="JSONL files, one event a line."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Feed normalized events (docs/events.schema.json) into the pipeline; the actions it
    decides (a delete, a warning, a declined application) are queued in the outbox, for
    `qunzhu serve` or your own bridge to carry out (docs/connectors.md)."""
    from qunzhu.store.outbox_decisions import decided
    from qunzhu.wiring import build_pipeline

    store = store_at_head(as_json)
    pipeline = build_pipeline(store, "live")
    results = []
    for path in files:
        if not path.is_file():
            raise fail(f"{path}: no such file", as_json=as_json)
        with progress_bar() as bar:
            task = bar.add_task(f"ingest {path.name}")
            report = pipeline.run(
                _jsonl(path), source=str(path), progress=partial(bar.advance, task)
            )
        results.append({"file": str(path), **report.as_dict(), "actions": decided(report.actions)})

    def render(data: list[dict[str, Any]]) -> None:
        for r in data:
            console.print(
                f"[bold]{r['file']}[/]: {r['added']} added, {r['duplicates']} "
                f"already there, {len(r['quarantined'])} quarantined"
            )
            for q in r["quarantined"][:20]:
                console.print(f"  line {q['line']}: {q['reason']}", highlight=False)
            _render_actions(r["actions"])

    emit(
        results[0] if len(results) == 1 else results,
        as_json,
        lambda d: render(d if isinstance(d, list) else [d]),
    )


def _render_actions(actions: list[dict[str, Any]]) -> None:
    if not actions:
        return
    console.print(
        f"  {len(actions)} actions decided, queued in the outbox "
        "(carried out by `qunzhu serve`, or by your bridge):"
    )
    for a in actions[:20]:
        where = f"{a['platform']} {a['group']}"
        who = f" {a['member']}" if a["member"] else ""
        message = f" message {a['message_id']}" if a["message_id"] else ""
        why = f" ({a['reason']})" if a["reason"] else ""
        console.print(
            f"  outbox #{a['outbox_id']}: {a['kind']}{who}{message} in {where}{why}",
            highlight=False,
        )
    if len(actions) > 20:
        console.print(f"  … and {len(actions) - 20} more (--json lists them all)")


@config_app.command("show")
def config_show(as_json: bool = JSON_OPTION) -> None:
    """Print the effective settings, secrets masked."""
    settings = settings_or_exit()
    data = settings.shown()
    path = settings.sqlite_file

    def render(d: dict[str, Any]) -> None:
        table = Table("variable", "value")
        for k, v in d.items():
            table.add_row(k, "" if v is None else str(v))
        console.print(table)
        if path is not None:
            state = "" if path.exists() else " (not created yet: `qunzhu db upgrade` makes it)"
            console.print(f"database file: {path}{state}", highlight=False, soft_wrap=True)

    emit(data, as_json, render)


def demo(
    seed: int = typer.Option(7, help="Random seed of the sample community."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Load the sample community (3 groups, 586 people, 90 days of chat)."""
    from qunzhu.demo import load_demo

    store = store_at_head(as_json)
    with progress_bar() as bar:
        task = bar.add_task("sample community")
        report = load_demo(store, seed=seed, progress=partial(bar.advance, task))
    emit(
        report.as_dict(),
        as_json,
        lambda d: console.print(
            f"sample community 'demo': {d['added']:,} events added, {d['new_members']:,} people"
        ),
    )
