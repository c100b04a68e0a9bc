"""One error handler for the whole app (datasette style): the same failure becomes
``{"error": {"code", "message", "field"?}}`` for the API and webhooks, and an HTML page for
the dashboard, with the same status code.

Domain errors stay free of HTTP: ``NotFound``, ``Forbidden``, ``Conflict``,
``NotAuthenticated`` (qunzhu.auth.permissions), ``CredentialError`` and ``EventError`` are
mapped to a status here. Anything else is a 500 that is logged and not shown in detail.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from qunzhu.auth.credentials import CredentialError
from qunzhu.auth.permissions import Conflict, Forbidden, NotAuthenticated, NotFound
from qunzhu.events import EventError
from qunzhu.http.templating import render_error
from qunzhu.store.scoped import NotInCommunity

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/hooks/", "/healthz")


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


# For the OpenAPI document: what every route may answer besides its success.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body could not be parsed (not JSON)"},
    401: {"model": ErrorBody, "description": "No valid token or session"},
    403: {"model": ErrorBody, "description": "Role does not allow this, or CSRF check failed"},
    404: {"model": ErrorBody, "description": "Not found, or not visible to the caller"},
    409: {
        "model": ErrorBody,
        "description": "Conflicts with the current state (already decided, nothing computed yet)",
    },
    422: {"model": ErrorBody, "description": "Invalid input; `field` names it"},
}


class ApiError(Exception):
    """An error with its HTTP status and a stable machine-readable ``code``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


def csrf_failed() -> ApiError:
    return ApiError(
        403,
        "csrf_failed",
        "the form is missing its CSRF token or it does not "
        "match this session; reload the page and try again",
        field="csrf_token",
    )


def rate_limited(retry_after: int) -> ApiError:
    minutes = max(1, (retry_after + 59) // 60)
    return ApiError(
        429,
        "rate_limited",
        f"too many failed logins; try again in {minutes} minutes",
        headers={"Retry-After": str(retry_after)},
    )


def wants_json(request: Request) -> bool:
    if request.url.path.startswith(JSON_PREFIXES):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _as_api_error(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, NotAuthenticated):
        return ApiError(401, "not_authenticated", str(exc), headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, NotFound | NotInCommunity):
        return ApiError(404, "not_found", str(exc), field=exc.field)
    if isinstance(exc, Forbidden):
        return ApiError(403, "forbidden", str(exc))
    if isinstance(exc, Conflict):
        return ApiError(409, "conflict", str(exc), field=exc.field)
    if isinstance(exc, CredentialError):
        return ApiError(422, "invalid", str(exc), field=exc.field)
    if isinstance(exc, EventError):
        return ApiError(422, "invalid_event", str(exc), field=exc.field)
    if isinstance(exc, RequestValidationError):
        return _validation_error(exc)
    if isinstance(exc, StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return ApiError(exc.status_code, code, str(exc.detail), headers=exc.headers)
    log.exception("unhandled error", exc_info=exc)
    return ApiError(500, "internal_error", "internal error; the server log has the details")


def _validation_error(exc: RequestValidationError) -> ApiError:
    errors = list(exc.errors())
    if not errors:
        return ApiError(422, "invalid", "invalid request")
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = ".".join(loc) or None
    message = str(first.get("msg", "invalid value"))
    if field:
        message = f"{field}: {message}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return ApiError(422, "invalid", message, field=field)


def error_response(request: Request, exc: Exception) -> Response:
    """The one place an exception becomes a response (JSON, HTML page, or login redirect)."""
    error = _as_api_error(exc)
    if wants_json(request):
        detail = ErrorDetail(code=error.code, message=error.message, field=error.field)
        return JSONResponse(
            ErrorBody(error=detail).model_dump(exclude_none=True),
            status_code=error.status,
            headers=error.headers,
        )
    if error.status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
    headers = {k: v for k, v in error.headers.items() if k.lower() != "www-authenticate"}
    return render_error(request, error.status, error.code, error.message, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> Response:
        return error_response(request, exc)

    for kind in (
        ApiError,
        NotAuthenticated,
        NotFound,
        NotInCommunity,
        Forbidden,
        Conflict,
        CredentialError,
        EventError,
        RequestValidationError,
        StarletteHTTPException,
        Exception,
    ):
        app.add_exception_handler(kind, handle)
