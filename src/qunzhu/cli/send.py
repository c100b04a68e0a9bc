"""`qunzhu send` and `qunzhu sent`: a message to groups or to members one by one, previewed,
then queued for the connectors of `qunzhu serve`; what became of each delivery."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from qunzhu.auth.audit import record
from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.growth.common import spec_of
from qunzhu.messaging.broadcast import SendRequest, community_zone, prepare
from qunzhu.messaging.broadcast import send as queue_broadcast
from qunzhu.messaging.compose import ComposeError
from qunzhu.readmodels.message_effects import effects_of
from qunzhu.readmodels.message_effects import summary as effect_summary
from qunzhu.store import broadcasts
from qunzhu.store.broadcasts import AudienceError
from qunzhu.store.resolve import community_id_by_slug

COMMUNITY = typer.Option(..., "--community", "-c", help="Community slug.")


def _when(value: str | None, as_json: bool) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(
            f"--at {value!r} is not a date and time like 2026-12-24T09:00", as_json=as_json
        ) from None
    return moment  # without a zone: read in the community's zone once the spec is known


def send(
    text: str = typer.Option(
        ..., "--text", "-t", help="The message in Chinese (or the only text)."
    ),
    text_en: str | None = typer.Option(None, "--text-en", help="The same message in English."),
    community: str = COMMUNITY,
    group: list[str] = typer.Option(
        [], "--group", "-g", help="A group: id, platform id or name (repeat)."
    ),
    segment: str | None = typer.Option(None, "--segment", help="Every group of this segment."),
    every_group: bool = typer.Option(False, "--all-groups", help="Every group of the community."),
    member: list[str] = typer.Option(
        [], "--member", "-m", help="A member, privately: id or platform user id (repeat)."
    ),
    lang: str = typer.Option("zh-CN", "--lang", help="Which text goes out: zh-CN or en."),
    at: str | None = typer.Option(
        None, "--at", help="Send at this time (ISO, community time zone)."
    ),
    preview: bool = typer.Option(
        False, "--preview", help="Show what would go where; send nothing."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send a message to groups (or members one by one). Variables: {group} {community};
    to members also {name} {tier} {days_left}. Quiet hours and the daily cap of the spec's
    `messaging` section plan the deliveries; `qunzhu serve` carries them out."""
    store = store_at_head(as_json)
    request = SendRequest(
        texts={"zh-CN": text, "en": text_en},
        groups=group,
        segment=segment,
        every_group=every_group,
        members=member,
        lang=lang,
        send_at=_when(at, as_json),
    )
    now = datetime.now(UTC)
    try:
        with store.unit_of_work() as session:
            community_id = community_id_by_slug(session, community)
            if community_id is None:
                raise AudienceError(f"unknown community {community!r}", field="community")
            spec = spec_of(session.connection(), community_id)
            tz = community_zone(spec, store.settings.tz)
            if request.send_at is not None and request.send_at.tzinfo is None:
                request = replace(request, send_at=request.send_at.replace(tzinfo=tz))
            if preview:
                planned = prepare(session, community_id, spec, tz, request, now)
                data: dict[str, Any] = {"preview": True, "deliveries": planned.as_rows()}
            else:
                broadcast_id, planned = queue_broadcast(
                    session, community_id, community, spec, tz, request, now
                )
                record(
                    session,
                    "broadcast.send",
                    source="cli",
                    community_id=community_id,
                    target=f"broadcast:{broadcast_id}",
                    detail={"targets": len(planned.deliveries)},
                )
                data = {"id": broadcast_id, "preview": False, "deliveries": planned.as_rows()}
    except (ComposeError, AudienceError) as exc:
        raise fail(f"{exc.field}: {exc}", as_json=as_json, field=exc.field) from None
    emit(data, as_json, _render_plan)


def _render_plan(data: dict[str, Any]) -> None:
    rows = data["deliveries"]
    table = Table(title="preview: nothing sent" if data["preview"] else f"broadcast {data['id']}")
    for column in ("to", "platform", "when", "text"):
        table.add_column(column)
    for row in rows[:50]:
        who = row["member"] if row["private"] else row["group"]
        when = row["planned_for"].isoformat(timespec="minutes") if row["planned_for"] else "now"
        table.add_row(who or "", row["platform"], when, row["text"])
    console.print(table)
    more = f" (first 50 of {len(rows)} shown)" if len(rows) > 50 else ""
    if data["preview"]:
        console.print(f"{len(rows)} deliveries would be queued{more}.")
    else:
        console.print(
            f"{len(rows)} deliveries queued{more}; `qunzhu serve` sends them. "
            f"Follow them: qunzhu sent {data['id']}"
        )


def sent(
    broadcast_id: int | None = typer.Argument(None, help="One broadcast, with each delivery."),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Recent broadcasts and how many of their deliveries were sent, failed or alerted."""
    store = store_at_head(as_json)
    with store.reading() as session:
        community_id = community_id_by_slug(session, community)
        if community_id is None:
            raise fail(f"unknown community {community!r}", as_json=as_json)
        if broadcast_id is None:
            data: Any = broadcasts.recent(session, community_id)
        else:
            data = broadcasts.summary(session, community_id, broadcast_id)
            if data is None:
                raise fail(f"no broadcast {broadcast_id} in {community}", as_json=as_json)
            data["effect"] = effect_summary(effects_of(session, community_id, broadcast_id))
    emit(data, as_json, _render_sent)


def _render_sent(data: Any) -> None:
    if isinstance(data, list):
        table = Table(title="broadcasts")
        for column in ("id", "created", "targets", "sent", "waiting", "failed", "alerted", "text"):
            table.add_column(column)
        for b in data:
            c = b["counts"]
            table.add_row(
                str(b["id"]),
                b["created_at"].isoformat(timespec="minutes"),
                str(b["targets"]),
                str(c.get("sent", 0)),
                str(c.get("queued", 0) + c.get("sending", 0)),
                str(c.get("failed", 0)),
                str(c.get("alerted", 0) + c.get("skipped", 0)),
                b["text"][:40],
            )
        console.print(table)
        return
    table = Table(title=f"broadcast {data['id']}: {data['counts']}")
    for column in ("platform", "to", "status", "planned", "error"):
        table.add_column(column)
    for d in data["deliveries"]:
        planned = d["planned_for"].isoformat(timespec="minutes") if d["planned_for"] else ""
        table.add_row(d["platform"], str(d["chat"]), d["status"], planned, d["error"] or "")
    console.print(table)
    e = data["effect"]
    if e["groups"]:
        a, u = e["after"], e["usual"]
        console.print(
            f"in the 24 h after it{'' if e['complete'] else ' (so far)'}: {e['replies']} direct "
            f"replies, {a['messages']} messages from {a['speakers']} members (usual: "
            f"{u['messages']} from {u['speakers']}), value {a['value']} (usual {u['value']}), "
            f"{a['leaves']} left (usual {u['leaves']})"
        )
