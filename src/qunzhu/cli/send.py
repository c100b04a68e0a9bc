"""`qunzhu send` and `qunzhu sent`: a message to groups or to members one by one, previewed,
then queued for the connectors of `qunzhu serve`; what became of each delivery."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from qunzhu.auth.audit import record
from qunzhu.cli import words
from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.cli.words import column, say
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
    title = say("cli.send.preview") if data["preview"] else say("cli.send.title", id=data["id"])
    table = Table(title=title)
    for column_name in ("to", "platform", "when", "text"):
        table.add_column(column(column_name))
    for row in rows[:50]:
        who = row["member"] if row["private"] else row["group"]
        when = (
            row["planned_for"].isoformat(timespec="minutes")
            if row["planned_for"]
            else say("cli.send.now")
        )
        table.add_row(who or "", row["platform"], when, row["text"])
    console.print(table)
    more = say("cli.send.first_50", n=len(rows)) if len(rows) > 50 else ""
    if data["preview"]:
        console.print(say("cli.send.would_queue", n=len(rows)) + more)
    else:
        console.print(say("cli.send.queued", n=len(rows), id=data["id"]) + more)


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
            raise fail(say("cli.unknown_community", community=community), as_json=as_json)
        if broadcast_id is None:
            data: Any = broadcasts.recent(session, community_id)
        else:
            data = broadcasts.summary(session, community_id, broadcast_id)
            if data is None:
                raise fail(say("cli.sent.none", id=broadcast_id), as_json=as_json)
            data["effect"] = effect_summary(effects_of(session, community_id, broadcast_id))
    emit(data, as_json, _render_sent)


def _render_sent(data: Any) -> None:
    if isinstance(data, list):
        table = Table(title=say("cli.sent.title"))
        names = ("id", "created", "targets", "sent", "waiting", "failed", "alerted", "text")
        for column_name in names:
            table.add_column(column(column_name))
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
    table = Table(title=say("cli.send.title", id=data["id"]))
    for column_name in ("platform", "to", "status", "planned", "error"):
        table.add_column(column(column_name))
    for d in data["deliveries"]:
        planned = d["planned_for"].isoformat(timespec="minutes") if d["planned_for"] else ""
        status = words.code("action_status", d["status"])
        table.add_row(d["platform"], str(d["chat"]), status, planned, d["error"] or "")
    console.print(table)
    e = data["effect"]
    if e["groups"]:
        a, u = e["after"], e["usual"]
        key = "cli.sent.effect" if e["complete"] else "cli.sent.effect_so_far"
        console.print(
            say(
                key,
                replies=e["replies"],
                messages=a["messages"],
                speakers=a["speakers"],
                usual_messages=u["messages"],
                usual_speakers=u["speakers"],
                value=a["value"],
                usual_value=u["value"],
                leaves=a["leaves"],
                usual_leaves=u["leaves"],
            )
        )
