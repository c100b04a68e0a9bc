"""`qunzhu serve`: the dashboard and API, with the sample community on an empty database."""

from __future__ import annotations

import typer
from sqlalchemy import func, select

from qunzhu.cli.core import progress_bar, store_at_head
from qunzhu.cli.output import console


def serve(
    host: str | None = typer.Option(None, help="Address to listen on (QUNZHU_HOST)."),
    port: int | None = typer.Option(None, help="Port (QUNZHU_PORT)."),
) -> None:
    """Serve the dashboard and the API."""
    import uvicorn

    from qunzhu.api.app import create_app
    from qunzhu.auth.bootstrap import ensure_first_operator
    from qunzhu.store.models import Community

    store = store_at_head()
    settings = store.settings
    if settings.sample_data:
        with store.reading() as session:
            empty = not session.scalar(select(func.count(Community.id)))
        if empty:
            from qunzhu.demo import load_demo

            with progress_bar() as bar:
                task = bar.add_task("loading the sample community")
                load_demo(store, progress=lambda n: bar.advance(task, n))
            console.print(
                "loaded the sample community [bold]demo[/] "
                "(QUNZHU_SAMPLE_DATA=false to start empty)"
            )
    message = ensure_first_operator(store)
    if message:
        console.print(f"[bold green]{message}[/]")
    bind_host = host or settings.host
    bind_port = port or settings.port
    from qunzhu.connectors.hub import ConnectorHub

    hub = ConnectorHub.load(store)  # a connector that cannot start shows why in its state
    for c in hub.connectors.values():
        console.print(f"connector [bold]{c.info.name}[/] ({c.info.platform}, {c.info.community})")
    console.print(f"dashboard: http://{bind_host}:{bind_port}/  API: /api/docs")
    app = create_app(settings, store, webhooks=hub.routes())
    app.state.connector_hub = hub  # the OneBot reverse WebSocket finds its connector here
    hub.start()
    try:
        uvicorn.run(app, host=bind_host, port=bind_port, log_level=settings.log_level.lower())
    finally:
        hub.stop()
