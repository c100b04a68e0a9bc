"""``POST /events``: feed events in their JSON form (docs/events.schema.json) to the pipeline.

All or nothing on authority, one by one on content: every community the posted events name
must be known to the caller with ``moderate`` or more, or the whole request is refused
before anything is written. Then each event that cannot be built is quarantined with its
index and reason, and the good ones go through the pipeline, which stores each once.

The answer lists the actions decided for the new events (a delete, a warning, a declined
application), each with the id of the outbox row written with the events: a program that
feeds a platform qunzhu has no connector for carries them out through the outbox
(``qunzhu.http.api.v1.outbox``: claim, act, report the outcome).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Body, Depends, Request

from qunzhu.auth.audit import record
from qunzhu.auth.permissions import Caller, CommunityRef, NotFound, authorize
from qunzhu.bounds import OutOfBounds, check_identifier
from qunzhu.events import Event, EventError, event_from_json
from qunzhu.http.api.schemas import DecidedOut, IngestOut, QuarantinedOut
from qunzhu.http.deps import current_caller, get_store
from qunzhu.http.errors import ERROR_RESPONSES, ApiError
from qunzhu.pipeline import IngestReport, Pipeline
from qunzhu.store.outbox_decisions import decided
from qunzhu.store.quarantine import RejectedRecord, quarantine_rows
from qunzhu.store.session import Store

MAX_EVENTS = 10_000  # per request; a bigger batch belongs in `qunzhu ingest FILE.jsonl`

router = APIRouter(responses=ERROR_RESPONSES)

PipelineFactory = Callable[[Store], Pipeline]

EXAMPLE = {
    "type": "message_posted",
    "platform": "api",
    "community": "demo",
    "group": "g1",
    "member": "u42",
    "member_name": "小王",
    "occurred_at": "2024-05-01T09:30:00+08:00",
    "message_id": "m-1001",
    "text": "请问今晚的直播几点开始？",
}


@dataclass(frozen=True, slots=True)
class _Bad:
    index: int
    reason: str
    field: str | None
    text: str
    community: str | None


def _parse(items: list[Any]) -> tuple[list[tuple[int, Event]], list[_Bad]]:
    good: list[tuple[int, Event]] = []
    bad: list[_Bad] = []
    for index, item in enumerate(items):
        try:
            good.append((index, event_from_json(item)))
        except EventError as exc:
            bad.append(
                _Bad(
                    index=index,
                    reason=str(exc),
                    field=exc.field,
                    text=_shown(item),
                    community=_slug_of(item),
                )
            )
    return good, bad


def _slug_of(item: Any) -> str | None:
    """The community a rejected event names, when it could name one at all (a slug with a
    NUL or beyond its length is no community's: such an event is quarantined unowned)."""
    slug = item.get("community") if isinstance(item, dict) else None
    if not isinstance(slug, str) or not slug:
        return None
    try:
        check_identifier("community", slug)
    except OutOfBounds:
        return None
    return slug


def _shown(item: Any) -> str:
    try:
        return json.dumps(item, ensure_ascii=False, default=str)[:4000]
    except (ValueError, RecursionError):  # e.g. an integer of 5,000 digits
        return repr(item)[:4000]


def _authorize_all(store: Store, caller: Caller, named: dict[str, int]) -> dict[str, int]:
    """Community id per slug, if the caller may moderate every one of them."""
    refs: dict[str, CommunityRef] = {}
    with store.reading() as session:
        for slug, index in named.items():
            try:
                refs[slug] = authorize(session, caller, slug, "moderate")
            except NotFound:
                raise NotFound(
                    f"unknown community {slug!r} (named by event {index}); "
                    f"create it first: qunzhu community create {slug}",
                    field="community",
                ) from None
    return {slug: ref.id for slug, ref in refs.items()}


def _quarantine(store: Store, bad: list[_Bad], ids: dict[str, int], source: str) -> None:
    by_community: dict[int | None, list[RejectedRecord]] = defaultdict(list)
    for b in bad:
        # line is 1-based in the quarantine table (0 means "no position"), index is 0-based
        by_community[ids.get(b.community or "")].append(
            RejectedRecord(source=source, line=b.index + 1, reason=b.reason, text=b.text)
        )
    with store.engine.begin() as conn:
        for community_id, records in by_community.items():
            quarantine_rows(conn, records, community_id)


def _audit(
    store: Store,
    caller: Caller,
    ids: dict[str, int],
    per_community: dict[str, int],
    report: IngestReport,
    bad: int,
) -> None:
    if not report.added and not report.quarantined and not bad:
        return  # nothing changed: a replay of events already stored
    with store.unit_of_work() as session:
        for slug, community_id in ids.items():
            record(
                session,
                "events.ingest",
                source="api",
                operator_id=caller.operator_id,
                community_id=community_id,
                target=slug,
                detail={
                    "events": per_community.get(slug, 0),
                    "added": report.added,
                    "duplicates": report.duplicates,
                    "quarantined": len(report.quarantined) + bad,
                    "actions": len(report.actions),
                },
            )


@router.post(
    "/events",
    tags=["events"],
    summary="Ingest one event or a list of events",
    responses={
        404: {
            "description": "An event names a community that is unknown "
            "to the caller: nothing is written"
        },
        413: {"description": f"More than {MAX_EVENTS} events"},
    },
)
def post_events(
    request: Request,
    payload: dict[str, Any] | list[Any] = Body(
        ...,
        description="One event object or a list of them, in the JSON form "
        "described by docs/events.schema.json",
        examples=[EXAMPLE, [EXAMPLE]],
    ),
    caller: Caller = Depends(current_caller),
) -> IngestOut:
    items = [payload] if isinstance(payload, dict) else payload
    if len(items) > MAX_EVENTS:
        raise ApiError(
            413,
            "too_many_events",
            f"at most {MAX_EVENTS} events per request "
            f"(got {len(items)}); split the batch or use `qunzhu ingest`",
        )
    good, bad = _parse(items)
    named: dict[str, int] = {}
    for index, e in good:
        named.setdefault(e.community, index)
    for b in bad:
        if b.community:
            named.setdefault(b.community, b.index)
    store = get_store(request)
    ids = _authorize_all(store, caller, named)
    source = f"api:{caller.username}"
    if bad:
        _quarantine(store, bad, ids, source)
    factory: PipelineFactory = request.app.state.pipeline_factory
    report = factory(store).run([e for _, e in good], source=source)
    per_community: dict[str, int] = defaultdict(int)
    for _, e in good:
        per_community[e.community] += 1
    _audit(store, caller, ids, per_community, report, len(bad))
    quarantined = [QuarantinedOut(index=b.index, reason=b.reason, field=b.field) for b in bad]
    # the pipeline saw only the good events: its positions are positions in ``good``
    quarantined += [
        QuarantinedOut(
            index=good[q["index"]][0] if isinstance(q.get("index"), int) else None,
            reason=str(q.get("reason", "")),
        )
        for q in report.quarantined
    ]
    return IngestOut(
        received=len(items),
        added=report.added,
        duplicates=report.duplicates,
        new_members=report.new_members,
        replies=report.replies,
        by_type=dict(report.by_type),
        quarantined=quarantined,
        actions=[DecidedOut(**d) for d in decided(report.actions)],
    )
