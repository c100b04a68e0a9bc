"""Where I am signed in (登录会话): every operator's own dashboard sessions, each with the
browser and a partly hidden address, and a button to end it, or all but this one.

Not a community page: sessions belong to the operator. Owners end other operators'
sessions from the operators page of a community they share (:mod:`.operators`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from qunzhu.auth.operator_sessions import live_sessions, revoke_session, revoke_sessions
from qunzhu.auth.permissions import Caller
from qunzhu.http.browser import current_session_id
from qunzhu.http.deps import current_caller, get_store
from qunzhu.http.errors import ApiError
from qunzhu.http.templating import render
from qunzhu.http.web.pages.common import back, known_done
from qunzhu.store.scoped import MAX_ID

router = APIRouter()


@router.get("/sessions")
def my_sessions(request: Request, caller: Caller = Depends(current_caller)) -> Response:
    with get_store(request).reading() as session:
        rows = live_sessions(session, [caller.operator_id])
    context = {
        "sessions": rows,
        "current": current_session_id(request),
        "done": known_done(request),
    }
    return render(request, "sessions.html", context, caller=caller)


@router.post("/sessions/revoke")
def end_my_sessions(
    request: Request,
    session: int | None = Form(None, ge=1, le=MAX_ID),
    others: bool = Form(False),
    caller: Caller = Depends(current_caller),
) -> RedirectResponse:
    """End one of my sessions (``session``), or all but this one (``others``)."""
    if session is None and not others:
        raise ApiError(422, "invalid", "say which session, or the others", field="session")
    me = caller.operator_id
    with get_store(request).unit_of_work() as db:  # NotFound (404): not one of mine
        if session is not None:
            revoke_session(db, me, session, reason="revoked by self", actor_id=me, source="web")
        else:
            revoke_sessions(
                db,
                me,
                reason="revoked by self",
                keep=current_session_id(request),
                actor_id=me,
                source="web",
            )
    return back("/sessions", done="session_revoked")
