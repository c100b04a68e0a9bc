"""`qunzhu serve`: the dashboard and API, with the sample community on an empty database, the
live connectors with the outbox they drain, and the scheduler of the time-driven jobs;
`qunzhu schedule status | run`: those jobs' last runs, and a run now."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import typer
from rich.table import Table

from qunzhu.cli.core import progress_bar, store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail

schedule_app = typer.Typer(
    help="Scheduled jobs of `qunzhu serve`: referral settle, membership sweep, recompute.",
    no_args_is_help=True,
)


def serve(
    host: str | None = typer.Option(None, help="Address to listen on (QUNZHU_HOST)."),
    port: int | None = typer.Option(None, min=1, max=65535, help="Port (QUNZHU_PORT)."),
) -> None:
    """Serve the dashboard and the API."""
    import uvicorn

    from qunzhu.auth.bootstrap import ensure_first_operator, login_url
    from qunzhu.http.app import create_app, proxy_options, served
    from qunzhu.readmodels.directory import community_slugs

    store = store_at_head()
    settings = store.settings
    if settings.sample_data:
        with store.engine.connect() as conn:
            empty = not community_slugs(conn)
        if empty:
            from qunzhu.demo import load_demo

            with progress_bar() as bar:
                task = bar.add_task("loading the sample community")
                load_demo(store, progress=lambda n: bar.advance(task, n))
            console.print(
                "loaded the sample community [bold]demo[/] "
                "(QUNZHU_SAMPLE_DATA=false to start empty)"
            )
    # the flags win over the settings, in what is printed as much as in what is bound
    bind_host = host or settings.host
    bind_port = port or settings.port
    message = ensure_first_operator(store, host=bind_host, port=bind_port)
    if message:
        console.print(message, style="bold green", markup=False, highlight=False)
    from qunzhu.live.hub import ConnectorHub
    from qunzhu.live.process import (
        LiveProcess,
        freeze_startup_heap,
        wants_live_process,
    )

    split = wants_live_process(settings)
    # a connector that cannot start shows why in its state
    hub = ConnectorHub.load(store, role="web" if split else "all")
    for c in hub.connectors.values():
        console.print(f"connector [bold]{c.info.name}[/] ({c.info.platform}, {c.info.community})")
    # with Redis, `qunzhu worker` processes store and act: this host's own, and any others
    workers = [LiveProcess(settings) for _ in range(settings.live_workers)] if split else []
    if split:
        console.print(
            f"live events are stored by {len(workers)} worker process(es) started here "
            "(QUNZHU_LIVE_WORKERS) and by any `qunzhu worker` on this Redis"
        )
    console.print(
        f"dashboard: {login_url(bind_host, bind_port, '/')}  "
        f"API: {login_url(bind_host, bind_port, '/api/docs')}",
        highlight=False,
    )
    app = create_app(settings, store, webhooks=hub.routes())
    app.state.connector_hub = hub  # the OneBot reverse WebSocket finds its connector here
    from qunzhu.live.scheduler import Scheduler

    scheduler = Scheduler(store)
    if scheduler.jobs:
        names = ", ".join(f"{j.name} every {j.every}" for j in scheduler.jobs)
        console.print(f"scheduled: {names}")
    hub.start()
    if workers and not all([live.start() for live in workers]):
        console.print(
            "[yellow]a live worker was not ready within 60 s: webhook updates wait in "
            "Redis until one is (see its output above)[/]"
        )
    scheduler.start()
    freeze_startup_heap()
    try:
        uvicorn.run(
            served(app),
            host=bind_host,
            port=bind_port,
            log_level=settings.log_level.lower(),
            **proxy_options(settings),
        )
    except KeyboardInterrupt:  # Ctrl-C: uvicorn raises it again once it has shut down
        pass
    finally:
        scheduler.stop()
        for live in workers:
            live.stop()
        hub.stop()


_COLUMNS = ["community", "job", "runs", "last_started_at", "last_status", "last_error", "running"]


def _render(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("no scheduled job has run yet")
        return
    table = Table(*_COLUMNS)
    for r in rows:
        table.add_row(*["" if r.get(c) is None else str(r.get(c))[:80] for c in _COLUMNS])
    console.print(table)


@schedule_app.command("status")
def schedule_status(
    community: str | None = typer.Option(None, "--community", "-c", help="Slug; all if left out."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The last run of each job, per community (a running one names its process)."""
    from qunzhu.live.scheduler import status
    from qunzhu.store.resolve import community_id_by_slug

    store = store_at_head(as_json)
    try:
        with store.engine.connect() as conn:
            cid = None
            if community is not None:
                cid = community_id_by_slug(conn, community)
                if cid is None:
                    raise fail(f"unknown community {community!r}", as_json=as_json)
            rows = status(conn, cid)
    finally:
        store.dispose()
    emit(rows, as_json, _render)


@schedule_app.command("run")
def schedule_run(
    job: str | None = typer.Option(
        None, "--job", help="settle, sweep or recompute; all if left out."
    ),
    due_only: bool = typer.Option(
        False, "--due-only", help="Only jobs whose interval has passed (as serve would)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run the scheduled jobs now, under the same lease serve takes (none runs twice at once)."""
    from qunzhu.live.scheduler import WORK, Job, Scheduler, jobs_from_settings

    if job is not None and job not in WORK:
        raise fail(f"unknown job {job!r}; use {', '.join(WORK)}", as_json=as_json)
    store = store_at_head(as_json)
    try:
        configured = {j.name: j for j in jobs_from_settings(store)}
        # a job turned off in serve can still be run by hand
        jobs = [configured.get(n) or Job(n, timedelta(days=1), WORK[n]) for n in WORK]
        ran = Scheduler(store, jobs).run_due(force=not due_only, only=job)
    finally:
        store.dispose()
    emit(ran, as_json, _render_ran)


def _render_ran(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("nothing ran (not due, or another process holds the lease)")
    for r in rows:
        error = f": {r['error']}" if r["error"] else ""
        console.print(f"{r['job']} for community {r['community_id']}: {r['status']}{error}")
