"""The app factory: ``create_app(settings, store, webhooks=...)`` builds the whole HTTP side.

::

    /api/v1/...            JSON API (OpenAPI at /api/v1/openapi.json, reference at /api/docs)
    /login /logout /lang / dashboard pages (server-rendered)
    /static/...            CSS and images of the dashboard (shipped in the package)
    /hooks/...             webhook routes that adapters declare as data
    /healthz               database reachable and schema at head

Nothing is built at import time; ``qunzhu serve`` and the tests each call the factory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qunzhu.adapters.webhook import WebhookRoute
from qunzhu.auth.ratelimit import LoginLimiter, make_limiter
from qunzhu.auth.sessions import SessionCodec
from qunzhu.http.api.schemas import HealthOut
from qunzhu.http.api.v1 import build_router
from qunzhu.http.browser import PENDING_COOKIES
from qunzhu.http.deps import get_store
from qunzhu.http.errors import install_error_handlers
from qunzhu.http.templating import STATIC_DIR
from qunzhu.http.web.routes import router as web_router
from qunzhu.http.webhooks import WebhookLane, mount_webhooks
from qunzhu.pipeline import Pipeline
from qunzhu.settings import Settings, load_settings
from qunzhu.store import migrate
from qunzhu.store.session import Store

API_PREFIX = "/api/v1"


def _version() -> str:
    try:
        return metadata.version("qunzhu")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


# style-src allows inline styles because chart libraries set them; scripts only from here.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "content-security-policy": CSP,
}


class ResponseHeaders:
    """Adds the security headers, and the cookies that dependencies queued, to every
    response, whichever route or error handler made it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                for cookie in scope.get(PENDING_COOKIES, ()):
                    headers.append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def healthz(request: Request) -> JSONResponse:
    """200 when the database answers and its schema is at the newest migration, else 503."""
    store = get_store(request)
    head = migrate.head_revision()
    try:
        with store.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = migrate.current_revision(store.engine)
    except Exception as exc:  # any failure to reach the database means "not healthy"
        body = HealthOut(
            status="error",
            database="unreachable",
            schema_revision=None,
            schema_head=head,
            detail={"error": type(exc).__name__},
        )
        return JSONResponse(body.model_dump(), status_code=503)
    ok = current == head
    body = HealthOut(
        status="ok" if ok else "error",
        database="ok",
        schema_revision=current,
        schema_head=head,
        detail=None if ok else {"fix": "run `qunzhu db upgrade`"},
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    *,
    webhooks: Sequence[WebhookRoute] = (),
    pipeline: Callable[[Store], Pipeline] | None = None,
    login_limiter: LoginLimiter | None = None,
) -> FastAPI:
    """Build the app. ``settings`` default to the environment, ``store`` to one built from
    them (and disposed of on shutdown); ``pipeline`` makes the Pipeline that ``POST
    /events`` feeds (default: a plain ``Pipeline(store)``, so the caller can add moderation
    and reactors); ``webhooks`` are mounted under ``/hooks/``."""
    if settings is None:
        settings = store.settings if store is not None else load_settings()
    owns_store = store is None
    the_store = store if store is not None else Store(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_store:
            the_store.dispose()

    app = FastAPI(
        title="qunzhu API",
        version=_version(),
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        description="群主 qunzhu: community operations for chat groups. "
        "Authenticate with `Authorization: Bearer qz_…` (see docs/api.md).",
    )
    app.state.settings = settings
    app.state.store = the_store
    app.state.session_codec = SessionCodec(settings.signing_key())
    app.state.login_limiter = login_limiter or make_limiter(settings)
    app.state.pipeline_factory = pipeline or _plain_pipeline
    install_error_handlers(app)
    app.include_router(build_router(), prefix=API_PREFIX)
    app.include_router(web_router)
    app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    mount_webhooks(app, webhooks)
    from qunzhu.http.api.v1.connectors import ws_router  # OneBot reverse WebSocket

    app.include_router(ws_router)
    # inside ResponseHeaders: the lane's answers carry the security headers too
    app.add_middleware(WebhookLane, routes=list(webhooks))
    app.add_middleware(ResponseHeaders)
    app.state.webhook_routes = list(webhooks)
    return app


def served(app: FastAPI) -> Any:
    """What a server runs: the app behind a webhook lane of its own, in front of every
    layer of the framework (error pages, body limits, telemetry), which at a platform's
    pace cost a webhook a fifth of its time; its answers carry the security headers the
    app would add. Everything that is not a parameter-free webhook goes to the app."""
    return WebhookLane(app, getattr(app.state, "webhook_routes", []), headers=SECURITY_HEADERS)


def proxy_options(settings: Settings) -> dict[str, Any]:
    """How the server treats X-Forwarded-For / -Proto: believed only from the proxies in
    ``QUNZHU_TRUSTED_PROXIES``, never by default (uvicorn's own default believes any
    local process, which let one pick its address for the login limit)."""
    trusted = settings.trusted_proxy_list
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def _plain_pipeline(store: Store) -> Pipeline:
    from qunzhu.wiring import build_pipeline

    return build_pipeline(store, "live")


def app_from_environment() -> Any:
    """For ``uvicorn --factory qunzhu.http.app:app_from_environment``."""
    return create_app()
