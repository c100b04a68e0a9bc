"""Playbooks (群SOP): the spec's playbooks with their steps and how many members stand at
each; an admin edits one in a form, and the form is written back into ``community.yaml``
(only that playbook's lines change) and checked by the same loader and lint as the YAML
editor — a problem is shown at its field with its line, and nothing is saved until none is
left. Every save is audited with the spec's digests before and after.
"""

from __future__ import annotations

import difflib
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from qunzhu.auth.audit import record
from qunzhu.growth.common import spec_of
from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.templating import request_language
from qunzhu.http.web.pages.common import back, page
from qunzhu.http.web.pages.community import check_spec_text, spec_digest, stored_spec_text
from qunzhu.readmodels.playbooks import overview
from qunzhu.spec import SpecError
from qunzhu.spec.edit import playbook_index, with_playbook
from qunzhu.store.models import Community

router = APIRouter()
TRIGGERS = ("member_joined", "before_expiry")
BLANK_STEPS = 2  # empty rows under the steps, to add one without a script
MAX_STEPS = 30


@router.get("/c/{slug}/playbooks")
def playbooks_page(
    request: Request, access: CommunityAccess = Depends(require("read"))
) -> Response:
    with get_store(request).reading() as session:
        conn = session.connection()
        books = overview(conn, access.community.id, spec_of(conn, access.community.id))
    return page(request, access, "playbooks.html", "playbooks", {"books": books})


def _blank(name: str = "") -> dict[str, Any]:
    return {"name": name, "trigger": "member_joined", "ends_after_days": 30, "steps": []}


def _editor(
    request: Request,
    access: CommunityAccess,
    book: dict[str, Any],
    *,
    original: str,
    base: str,
    problems: list[dict[str, Any]] | None = None,
    findings: list[dict[str, Any]] | None = None,
    diff: list[str] | None = None,
    status: int = 200,
) -> Response:
    rows = [*book["steps"], *({"text": {}} for _ in range(BLANK_STEPS))][:MAX_STEPS]
    context = {
        "book": book,
        "rows": rows,
        "original": original,
        "base": base,
        "triggers": TRIGGERS,
        "problems": problems or [],
        "findings": findings or [],
        "diff": diff,
    }
    return page(request, access, "playbook_edit.html", "playbooks", context, status=status)


@router.get("/c/{slug}/playbooks/edit")
def playbook_form(
    request: Request, name: str = "", access: CommunityAccess = Depends(require("manage"))
) -> Response:
    text = stored_spec_text(request, access.community.id)
    with get_store(request).reading() as session:
        conn = session.connection()
        books = overview(conn, access.community.id, spec_of(conn, access.community.id))
    found = next((b for b in books if b["name"] == name), None) if name else _blank()
    if found is None:
        raise ApiError(404, "not_found", f"no playbook {name!r}", field="name")
    return _editor(request, access, found, original=name, base=spec_digest(text))


async def _posted(request: Request) -> tuple[dict[str, Any], str, str]:
    form = await request.form()

    def one(key: str) -> str:
        value = form.get(key)
        return value.strip().replace("\r\n", "\n")[:4000] if isinstance(value, str) else ""

    steps: list[dict[str, Any]] = []
    for n in range(MAX_STEPS + BLANK_STEPS):
        day, zh, en = one(f"step-{n}-day"), one(f"step-{n}-zh"), one(f"step-{n}-en")
        if not (day or zh or en) or one(f"step-{n}-remove"):
            continue
        steps.append(
            {
                # a day that is not a number goes to the loader as written: it names the field
                "day": int(day) if day.isdigit() else day,
                "kind": one(f"step-{n}-kind") or "message",
                "to": one(f"step-{n}-to") or "member",
                "unless": one(f"step-{n}-unless") or None,
                "text": {"zh-CN": zh, "en": en},
            }
        )
    ends = one("ends_after_days")
    book = {
        "name": one("name"),
        "trigger": one("trigger"),
        "ends_after_days": int(ends) if ends.isdigit() else (ends or None),
        "steps": steps,
    }
    return book, one("original"), one("base")


def _problems_of(text: str, name: str, lang: str, request: Request, cid: int) -> tuple[Any, Any]:
    problems, findings = check_spec_text(text, lang, request, cid)
    index = playbook_index(text, name) if name else None
    prefix = f"playbooks[{index}]" if index is not None else "playbooks"
    for p in problems:  # "steps[1].day" beside the field it is about
        p["field"] = p["path"][len(prefix) :].lstrip(".") if p["path"].startswith(prefix) else ""
    return problems, findings


@router.post("/c/{slug}/playbooks/save")
async def playbook_save(
    request: Request, access: CommunityAccess = Depends(require("manage"))
) -> Response:
    book, original, base = await _posted(request)
    form = await request.form()
    remove = bool(form.get("delete"))
    lang = request_language(request, access.caller)
    cid = access.community.id
    stored = stored_spec_text(request, cid)
    try:
        text = with_playbook(stored, original or None, None if remove else book)
    except SpecError as exc:
        problems = [
            {"path": p.path, "line": p.line, "column": p.column, "message": p.text(lang)}
            for p in exc.problems
        ]
        return _editor(request, access, book, original=original, base=base,
                       problems=problems, status=422)  # fmt: skip
    diff = list(difflib.unified_diff(stored.splitlines(), text.splitlines(), lineterm="", n=1))
    problems, findings = _problems_of(text, "" if remove else book["name"], lang, request, cid)
    if problems or base != spec_digest(stored):
        status = 422 if problems else 409
        return _editor(request, access, book, original=original, base=spec_digest(stored),
                       problems=problems, findings=findings, diff=diff, status=status)  # fmt: skip
    with get_store(request).unit_of_work() as session:
        community = session.get_one(Community, cid)
        if (community.spec_yaml or "") != stored:  # saved by someone else meanwhile
            raise ApiError(409, "conflict", "the spec changed meanwhile: open it again")
        community.spec_yaml = text
        record(
            session,
            "playbook.delete" if remove else "playbook.save",
            source="web",
            operator_id=access.caller.operator_id,
            community_id=cid,
            target=f"playbook:{original or book['name']}",
            detail={
                "before": spec_digest(stored),
                "after": spec_digest(text),
                "name": book["name"],
            },
        )
    done = "playbook_deleted" if remove else "playbook_saved"
    return back(f"/c/{access.community.slug}/playbooks", done=done)
