"""`qunzhu today [--json]`: the operator's day as the dashboard's Today shows it — first the
plan (the open tasks, overdue first, each with its id for ``qunzhu task done|snooze|reassign
ID``; ``--operator NAME`` for one operator's own), then the sections (review, applications,
unanswered questions, groups at risk, the calendar's drafts and posts of the next 24 hours,
rewards, import errors, connectors), each with its count and its first items. ``--json``
prints ``{"plan": …, "sections": […]}``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import typer

from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.cli.words import language, say
from qunzhu.http.i18n import translator
from qunzhu.http.web.names import Names
from qunzhu.http.web.queries.today import today_sections
from qunzhu.store.resolve import community_id_by_slug
from qunzhu.tasks.actions import operator_of
from qunzhu.tasks.plan import Actor, Plan, plan, zone_of

# the human output names who and where; what members wrote (a question's text) stays in
# --json: a terminal cannot mark it as the members' own words, as the dashboard does
SHOWN_FIELDS = ("title", "name", "member", "inviter", "group")


def today(
    community: str = typer.Option(..., "--community", "-c", help="Community slug."),
    operator: str | None = typer.Option(
        None, "--operator", help="Only this operator's tasks (their username)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """What needs an operator today, as the dashboard's Today page shows it."""
    store = store_at_head(as_json)
    now = datetime.now(UTC)
    with store.reading() as session:
        community_id = community_id_by_slug(session, community)
        if community_id is None:
            raise fail(say("cli.unknown_community", community=community), as_json=as_json)
        sections = today_sections(
            session,
            community_id,
            community,
            today=now.astimezone(store.settings.tz).date(),
            now=now,
            unmasked=False,  # a terminal is shared and scrolled back: personal data masked
            can_moderate=True,
            lang=language(),
        )
        tz = zone_of(session.connection(), community_id, store.settings.tz)
        who = None
        if operator:
            try:
                who = operator_of(session, community_id, operator)
            except (LookupError, ValueError) as exc:  # not an operator here, or one who reads
                raise fail(str(exc), as_json=as_json) from None
        shell = Actor(who, operator or "cli", every_task=True, some_tasks=True)
        day = plan(session.connection(), community_id, shell, now=now, tz=tz,
                   scope="mine" if who else "all")  # fmt: skip
    data = {"plan": day.as_json(), "sections": [asdict(s) for s in sections]}
    lang = language()
    names = Names(translator(lang), lang, None)

    def show(d: dict[str, Any]) -> None:
        _show_plan(day, tz)
        _show(d["sections"], names)

    emit(data, as_json, show)


def _show_plan(day: Plan, tz: Any) -> None:
    console.print(f"[bold]{say('tasks.heading')}[/]")
    console.print(
        say("tasks.summary", open=day.open, overdue=len(day.overdue), snoozed=day.snoozed,
            done=day.done_today),
        highlight=False,
    )  # fmt: skip
    if not day.open:
        console.print("  " + say("tasks.none"), highlight=False)
    for key in ("overdue", "today", "later"):
        items = getattr(day, key)
        if not items:
            continue
        console.print(f"\n[bold]{say('tasks.' + key)}[/] ({len(items)})")
        for item in items:
            parts = [say(item.title_key, **item.title_values)]
            if item.group:
                parts.append(item.group)
            parts.append(say("tasks.due", at=item.due_at.astimezone(tz).strftime("%m-%d %H:%M")))
            parts.append(
                say("tasks.owner", name=item.owner) if item.owner else say("tasks.no_owner")
            )
            console.print(f"  #{item.id} " + " · ".join(parts), highlight=False)
            if item.shows_text and item.text:
                console.print(f"      {item.text[:160]}", highlight=False)
    console.print("")


def _line(item: dict[str, Any], names: Names) -> str:
    parts = [str(item[f]) for f in SHOWN_FIELDS if item.get(f)]
    if item.get("reason"):
        parts.append(names.reason(str(item["reason"])))
    if item.get("source"):
        parts.append(names.source(str(item["source"])))
    at = item.get("at")
    if isinstance(at, datetime):
        parts.append(at.strftime("%m-%d %H:%M"))
    return " · ".join(parts)[:160]


def _show(sections: list[dict[str, Any]], names: Names) -> None:
    waiting = sum(s["count"] for s in sections)
    console.print(say("today.waiting", n=waiting) if waiting else say("today.all_clear"))
    for s in sections:
        console.print(f"\n[bold]{say('today.' + s['key'])}[/] ({s['count']})")
        if not s["items"]:
            console.print("  " + say(f"today.{s['key']}.empty"), highlight=False)
        for item in s["items"]:
            console.print("  • " + _line(item, names), highlight=False)
