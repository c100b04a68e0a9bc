"""`qunzhu today [--json]`: the operator's day, the same sections as the dashboard's Today
(review, applications, unanswered questions, groups at risk, the calendar's drafts and
posts of the next 24 hours, rewards, import errors, connectors), each with its count and
its first items."""

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

# the human output names who and where; what members wrote (a question's text) stays in
# --json: a terminal cannot mark it as the members' own words, as the dashboard does
SHOWN_FIELDS = ("title", "name", "member", "inviter", "group")


def today(
    community: str = typer.Option(..., "--community", "-c", help="Community slug."),
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
    data = [asdict(s) for s in sections]
    lang = language()
    names = Names(translator(lang), lang, None)
    emit(data, as_json, lambda d: _show(d, names))


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
