"""What worked (什么内容有效): the posts the community sent in a period, ranked by what they
caused. A calendar post's occurrences count together under its title; a broadcast sent by
hand counts alone. Each figure is the mean per occurrence of what ``message_effects``
measures in the 24 hours after it went out, over the groups it reached:

- ``worked_value``: value the groups' messages earned (the engines' scores);
- ``worked_speakers``: members who spoke (distinct per group, added up over the groups);
- ``worked_replies``: direct replies to the post;
- ``worked_leaves``: members who left, were removed or banned.

Ranked by value, then members who spoke, then replies; fewer leaves break a tie. The same
definitions as the calendar's per-post effect (``calendar_effects``): one name, one meaning
on the calendar page, the weekly report and the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunzhu.readmodels.message_effects import effects_of, summary
from qunzhu.store.messaging import Broadcast, PlannedPost

FIGURES = ("worked_value", "worked_speakers", "worked_replies", "worked_leaves")
TITLE_CHARS = 40


def _title(texts: dict[str, Any], lang: str) -> str:
    text = (
        texts.get(lang) or texts.get("zh-CN") or texts.get("en") or next(iter(texts.values()), "")
    )
    line = " ".join(str(text or "").split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def ranking(
    session: Session,
    community_id: int,
    since: datetime,
    until: datetime,
    *,
    now: datetime,
    lang: str = "zh-CN",
    limit: int = 10,
) -> list[dict[str, Any]]:
    """Posts sent from ``since`` to before ``until``, best first (see the module's doc)."""
    rows = session.execute(
        select(Broadcast.id, Broadcast.created_by, Broadcast.texts)
        .where(
            Broadcast.community_id == community_id,
            Broadcast.created_at >= since,
            Broadcast.created_at < until,
        )
        .order_by(Broadcast.id)
    ).all()
    posts: dict[str, dict[str, Any]] = {}
    for broadcast_id, created_by, texts in rows:
        effects = effects_of(session, community_id, broadcast_id, now)
        if not effects:  # nothing reached a group yet, or only private messages
            continue
        total = summary(effects)
        post_id = created_by.removeprefix("calendar:") if created_by.startswith("calendar:") else ""
        key = f"post:{post_id}" if post_id.isdigit() else f"broadcast:{broadcast_id}"
        entry = posts.setdefault(
            key,
            {"key": key, "title": _title(texts or {}, lang), "kind": "broadcast", "each": []},
        )
        entry["each"].append(total)
    titled = [int(k.split(":")[1]) for k in posts if k.startswith("post:")]
    if titled:
        for pid, kind, title in session.execute(
            select(PlannedPost.id, PlannedPost.kind, PlannedPost.title).where(
                PlannedPost.community_id == community_id, PlannedPost.id.in_(titled)
            )
        ):
            entry = posts[f"post:{pid}"]
            entry["kind"] = kind
            entry["title"] = title or entry["title"]
    out = [_figures(entry) for entry in posts.values()]
    out.sort(
        key=lambda e: (
            -e["worked_value"],
            -e["worked_speakers"],
            -e["worked_replies"],
            e["worked_leaves"],
            e["key"],
        )
    )
    for rank, entry in enumerate(out, 1):
        entry["rank"] = rank
    return out[:limit]


def _figures(entry: dict[str, Any]) -> dict[str, Any]:
    each = entry.pop("each")
    n = len(each)
    return {
        **entry,
        "occurrences": n,
        "groups": sum(e["groups"] for e in each),
        "complete": all(e["complete"] for e in each),
        "worked_value": round(sum(e["after"]["value"] for e in each) / n, 2),
        "worked_speakers": round(sum(e["after"]["speakers"] for e in each) / n, 2),
        "worked_replies": round(sum(e["replies"] for e in each) / n, 2),
        "worked_leaves": round(sum(e["after"]["leaves"] for e in each) / n, 2),
    }
