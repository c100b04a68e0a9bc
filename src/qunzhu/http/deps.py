"""FastAPI dependencies: the store, who is asking, and the one permission check.

A route or page states what it needs and nothing else::

    @router.get("/communities/{slug}/members")
    def members(access: CommunityAccess = Depends(require("read"))) -> ...:
        ...  # access.community.id, access.role, access.can("personal_data")

``require`` reads the community slug from the path, finds the caller (bearer token or
session cookie), checks CSRF for unsafe methods that came with a cookie, and answers 401
(API) / redirect to /login (pages), 404 when the community is not visible or an object id
in the path is not the community's (:mod:`qunzhu.http.ownership`), 403 when the role is too
low. Routes never check roles themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import update

from qunzhu.auth.credentials import password_fingerprint
from qunzhu.auth.operator_sessions import live_session, mark_seen, needs_touch
from qunzhu.auth.operators import caller_for, operator_for_token, token_needs_touch
from qunzhu.auth.permissions import (
    Action,
    Caller,
    CommunityRef,
    NotAuthenticated,
    check_role,
    visible_community,
)
from qunzhu.auth.sessions import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, csrf_matches
from qunzhu.auth.twofactor import blocked_without_2fa, has_2fa
from qunzhu.http.browser import (
    codec_of,
    read_session,
    remember_caller,
    remember_session_id,
    set_session_cookie,
)
from qunzhu.http.errors import csrf_failed
from qunzhu.http.ownership import IdScope, Owner, check_path_ids
from qunzhu.settings import Settings
from qunzhu.store.models import ApiToken, Operator, utcnow
from qunzhu.store.session import Store

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="API token `qz_<prefix>_<secret>` (`qunzhu operator token create`)",
)


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _identify(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Security(bearer_scheme),
) -> Caller | None:
    store = get_store(request)
    if "authorization" in request.headers:
        if credentials is None:
            raise NotAuthenticated("the Authorization header must be 'Bearer <token>'")
        with store.reading() as session:
            found = operator_for_token(session, credentials.credentials)
            if found is None:
                raise NotAuthenticated("invalid, expired or revoked API token")
            operator, token = found
            caller = caller_for(session, operator, via="token")
            touch = token_needs_touch(token)
        if touch:
            with store.unit_of_work() as session:
                session.execute(
                    update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=utcnow())
                )
        return caller
    data = read_session(request)
    if data is None or data.operator_id is None:
        return None
    with store.reading() as session:
        found_operator = session.get(Operator, data.operator_id)
        live = live_session(session, data.key, data.operator_id)
        if (
            found_operator is None
            or live is None  # signed out, revoked elsewhere, or too old on the server
            or not found_operator.active
            or password_fingerprint(found_operator.password_hash) != data.fingerprint
        ):
            return None
        session_id, touch_session = live.id, needs_touch(live)
        caller = caller_for(session, found_operator, via="session", csrf=data.csrf)
        if blocked_without_2fa(
            get_settings(request),
            has_second_factor=has_2fa(found_operator),
            is_superuser=caller.is_superuser,
            roles=caller.roles,
        ):
            return None  # QUNZHU_REQUIRE_2FA was turned on after this session began
    if touch_session:
        with store.unit_of_work() as session:
            mark_seen(session, session_id)
    remember_session_id(request, session_id)
    if codec_of(request).needs_refresh(data):
        set_session_cookie(request, data)  # sliding expiry: re-signed with a new timestamp
    return caller


async def check_csrf(request: Request, expected: str) -> None:
    """Refuse an unsafe request whose CSRF token (header or form field) is not ``expected``."""
    presented = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if presented is None and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)  # cached: the route can read it again
        presented = value if isinstance(value, str) else None
    if not csrf_matches(expected, presented):
        raise csrf_failed()


async def optional_caller(
    request: Request, caller: Caller | None = Depends(_identify)
) -> Caller | None:
    if caller is not None and caller.via == "session" and request.method not in SAFE_METHODS:
        await check_csrf(request, caller.csrf)
    remember_caller(request, caller)  # so an error page later in this request shows the menu
    return caller


async def current_caller(caller: Caller | None = Depends(optional_caller)) -> Caller:
    """Whoever is asking, or 401 / a redirect to the login page."""
    if caller is None:
        raise NotAuthenticated()
    return caller


@dataclass(frozen=True, slots=True)
class CommunityAccess:
    """A checked request: the caller, the community, and the caller's role there."""

    caller: Caller
    community: CommunityRef

    @property
    def role(self) -> str | None:
        return self.caller.role_in(self.community.id)

    def can(self, action: Action) -> bool:
        return self.caller.can(self.community.id, action)


def require(
    action: Action, *, slug_param: str = "slug", ids: Mapping[str, Owner] | None = None
) -> Callable[..., CommunityAccess]:
    """A dependency that lets the request through only if the community named by the path
    parameter ``slug_param`` is visible to the caller (else 404), every object id in the
    path belongs to that community (else 404; see :mod:`qunzhu.http.ownership`, ``ids``
    for parameters whose name alone does not say what they are), and the caller's role
    there allows ``action`` (else 403)."""

    def dependency(request: Request, caller: Caller = Depends(current_caller)) -> CommunityAccess:
        slug = request.path_params[slug_param]
        with get_store(request).reading() as session:
            community = visible_community(session, caller, slug)
            scope = IdScope(request=request, community_id=community.id, caller=caller)
            check_path_ids(session, scope, request.path_params, ids)
        check_role(caller, community, action)
        return CommunityAccess(caller=caller, community=community)

    dependency.__name__ = f"require_{action}"
    return dependency
