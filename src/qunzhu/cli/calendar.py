"""`qunzhu calendar add|list|approve|cancel|feed`: the content calendar (群日历)."""

from __future__ import annotations

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
from qunzhu.messaging import calendar
from qunzhu.messaging.calendar import CalendarError, PostRequest
from qunzhu.messaging.compose import ComposeError
from qunzhu.messaging.ics import feed_token
from qunzhu.messaging.recurrence import RecurrenceError
from qunzhu.readmodels.message_effects import calendar_effects
from qunzhu.store.broadcasts import AudienceError
from qunzhu.store.resolve import community_id_by_slug

app = typer.Typer(
    help="The content calendar: planned posts, once or recurring.", no_args_is_help=True
)
COMMUNITY = typer.Option(..., "--community", "-c", help="Community slug.")
PROBLEMS = (CalendarError, ComposeError, AudienceError, RecurrenceError)


def _community(session: Any, slug: str) -> int:
    community_id = community_id_by_slug(session, slug)
    if community_id is None:
        raise CalendarError(f"unknown community {slug!r}", field="community")
    return community_id


@app.command()
def add(
    text: str = typer.Option(..., "--text", "-t", help="The post in Chinese (or the only text)."),
    at: str = typer.Option(..., "--at", help="First time, e.g. 2026-12-07T09:00 (in --tz)."),
    community: str = COMMUNITY,
    text_en: str | None = typer.Option(None, "--text-en", help="The same post in English."),
    every: str | None = typer.Option(
        None, "--every", help='RFC 5545 RRULE, e.g. "FREQ=WEEKLY;BYDAY=MO".'
    ),
    tz: str | None = typer.Option(
        None, "--tz", help="Time zone (default: the community's, else the server's)."
    ),
    kind: str = typer.Option("topic", "--kind", help="topic, content, announcement or rules."),
    title: str = typer.Option("", "--title", help="A short name for the calendar."),
    group: list[str] = typer.Option([], "--group", "-g", help="A group (repeat)."),
    segment: str | None = typer.Option(None, "--segment", help="Every group of a segment."),
    every_group: bool = typer.Option(False, "--all-groups", help="Every group."),
    approve: bool = typer.Option(False, "--approve", help="Approved at once (else a draft)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Plan a post. A draft goes out only after `qunzhu calendar approve`."""
    store = store_at_head(as_json)
    now = datetime.now(UTC)
    try:
        starts = datetime.fromisoformat(at)
        with store.unit_of_work() as session:
            community_id = _community(session, community)
            # the post's zone: --tz, else the community's (spec `timezone`), else the server's
            spec = spec_of(session.connection(), community_id)
            zone_name = tz or spec.timezone or str(store.settings.tz)
            post = calendar.create(
                session,
                community_id,
                PostRequest(
                    texts={"zh-CN": text, "en": text_en},
                    starts_at=starts,
                    timezone=zone_name,
                    kind=kind,
                    title=title,
                    rrule=every,
                    groups=group,
                    segment=segment,
                    every_group=every_group,
                    approve=approve,
                ),
                now,
            )
            record(
                session,
                "calendar.add",
                source="cli",
                community_id=community_id,
                target=f"post:{post.id}",
            )
            data = calendar.as_dict(post, now)
    except ValueError as exc:
        field = getattr(exc, "field", "at")
        raise fail(f"{field}: {exc}", as_json=as_json, field=field) from None
    emit(data, as_json, lambda d: console.print(_line(d)))


def _line(d: dict[str, Any]) -> str:
    nxt = ", ".join(t.isoformat(timespec="minutes") for t in d["next"]) or "—"
    again = f" · {d['rrule']}" if d["rrule"] else ""
    status = words.code("calendar_status", d["status"])
    kind = words.code("calendar_kind", d["kind"])
    return f"#{d['id']} [{status}] {kind} «{d['title']}»{again} · {say('calendar.next')} {nxt}"


@app.command("list")
def list_(community: str = COMMUNITY, as_json: bool = JSON_OPTION) -> None:
    """Planned posts, the next first, with their next occurrences."""
    store = store_at_head(as_json)
    with store.reading() as session:
        try:
            community_id = _community(session, community)
            data = calendar.listing(session, community_id, datetime.now(UTC))
            for post in data:  # what each post's occurrences caused, on average
                post["effect"] = calendar_effects(session, community_id, post["id"])
        except CalendarError as exc:
            raise fail(str(exc), as_json=as_json) from None

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table(title=say("tab.calendar"))
        columns = ("id", "status", "kind", "title", "repeats", "next", "sent", "speakers_per_time")
        for name in (*columns, "problem"):
            table.add_column(column(name))
        for d in rows:
            nxt = d["next"][0].isoformat(timespec="minutes") if d["next"] else ""
            table.add_row(
                str(d["id"]),
                words.code("calendar_status", d["status"]),
                words.code("calendar_kind", d["kind"]),
                d["title"],
                d["rrule"] or "",
                nxt,
                str(d["sent"]),
                str(d["effect"]["mean_speakers"]),
                d["problem"] or "",
            )
        console.print(table)

    emit(data, as_json, render)


def _change(post_id: int, community: str, as_json: bool, what: str) -> None:
    store = store_at_head(as_json)
    now = datetime.now(UTC)
    try:
        with store.unit_of_work() as session:
            community_id = _community(session, community)
            if what == "approve":
                post = calendar.approve(session, community_id, post_id, "cli", now)
            else:
                post = calendar.cancel(session, community_id, post_id)
            record(
                session,
                f"calendar.{what}",
                source="cli",
                community_id=community_id,
                target=f"post:{post_id}",
            )
            data = calendar.as_dict(post, now)
    except PROBLEMS as exc:
        raise fail(str(exc), as_json=as_json, field=exc.field) from None
    emit(data, as_json, lambda d: console.print(_line(d)))


@app.command()
def approve(
    post_id: int = typer.Argument(..., help="The draft's id."),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Approve a draft: it goes out at its next occurrence."""
    _change(post_id, community, as_json, "approve")


@app.command()
def cancel(
    post_id: int = typer.Argument(..., help="The post's id."),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Cancel a planned post (its occurrences stop)."""
    _change(post_id, community, as_json, "cancel")


@app.command()
def feed(community: str = COMMUNITY, as_json: bool = JSON_OPTION) -> None:
    """The calendar's ICS address, to subscribe to from a phone's calendar."""
    store = store_at_head(as_json)
    with store.reading() as session:
        community_id = community_id_by_slug(session, community)
    if community_id is None:
        raise fail(say("cli.unknown_community", community=community), as_json=as_json)
    token = feed_token(store.settings.signing_key(), community_id)
    path = f"/c/{community}/calendar.ics?token={token}"
    emit(
        {"path": path, "token": token},
        as_json,
        # soft_wrap: the address must stay on one line, whole and copyable
        lambda d: console.print(
            say("cli.calendar.feed", path=d["path"]), highlight=False, soft_wrap=True
        ),
    )
