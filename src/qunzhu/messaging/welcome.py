"""The welcome (入群欢迎语): the spec's ``messages.welcome`` sent to people who just joined —
or the group's own, where the spec's ``groups:`` entry for it has a ``welcome``.

A job of ``qunzhu serve`` (every ``QUNZHU_SCHEDULE_WELCOME_SECONDS``) reads the joins stored
since its cursor and, per group, queues one welcome naming up to ``messaging.welcome_batch``
of them — a burst of 30 joins is three messages, not thirty, as operators do by hand. The
welcomes and the moved cursor commit together: a crash neither skips nor repeats one.

Where it goes: Telegram and QQ groups get the message; WeCom groups are welcomed by the
platform's own welcome template (``qunzhu connect wecom --welcome``), so nothing is queued
for them; other platforms (a WeChat group without a bridge) get an operator task (a row of
``operator_tasks``: the welcome to post by hand, due within ``BY_HAND``).
Only fresh joins are welcomed (within ``FRESH``): an imported history is not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from qunzhu import events as ev
from qunzhu.spec.schema import CommunitySpec, MessageTemplate
from qunzhu.store import message_cursors as cursors
from qunzhu.store import outbox
from qunzhu.store import tasks as operator_tasks
from qunzhu.store.community import Community, Group, Member, Membership, MembershipEvent
from qunzhu.store.uncounted import kinds_of

CURSOR = "welcome"
FRESH = timedelta(hours=1)
SENDS = frozenset({"telegram", "qq", "discord"})
OWN_TEMPLATE = frozenset({"wecom"})
BY_HAND = timedelta(hours=1)  # a welcome posted by hand still greets them while they look
SCAN = 5000  # joins read per run: a backlog is worked off over several runs


@dataclass(frozen=True, slots=True)
class Join:
    event_id: int
    group_id: int
    name: str


def batches(joins: Sequence[Join], per_welcome: int) -> list[list[Join]]:
    """Per group, in order, at most ``per_welcome`` joins to a welcome."""
    by_group: dict[int, list[Join]] = defaultdict(list)
    for join in joins:
        by_group[join.group_id].append(join)
    out: list[list[Join]] = []
    for group_joins in by_group.values():
        out.extend(
            group_joins[i : i + per_welcome] for i in range(0, len(group_joins), per_welcome)
        )
    return out


def names_in(lang: str, names: Sequence[str]) -> str:
    return "、".join(names) if lang.startswith("zh") else ", ".join(names)


def welcome_template(spec: CommunitySpec, platform_group_id: str) -> MessageTemplate:
    """The group's own welcome (``groups: {<id>: {welcome: …}}``), else the community's."""
    own = spec.groups.get(platform_group_id)
    return own.welcome if own is not None and own.welcome is not None else spec.messages.welcome


def welcome(
    conn: Connection, community_id: int, spec: CommunitySpec, now: datetime, lang: str
) -> dict[str, Any]:
    """Queue the welcomes of the joins since the cursor, in the caller's transaction."""
    position = cursors.position(conn, community_id, CURSOR, now)
    e = MembershipEvent
    rows = conn.execute(
        select(e.id, e.group_id, e.member_id, e.occurred_at, Membership.status)
        .join(
            Membership,
            (Membership.group_id == e.group_id) & (Membership.member_id == e.member_id),
        )
        .where(e.community_id == community_id, e.kind == "join", e.id > position)
        .order_by(e.id)
        .limit(SCAN)
    ).all()
    if not rows:
        return {"welcomed": 0, "messages": 0}
    fresh = [r for r in rows if r.status == "active" and _aware(r.occurred_at) >= now - FRESH]
    # a bot joining (the group's own assistant, another service) is not welcomed
    bots = {
        m
        for m, kind in kinds_of(conn, community_id, {r.member_id for r in fresh}).items()
        if kind == "bot"
    }
    fresh = [r for r in fresh if r.member_id not in bots]
    fresh.sort(key=lambda r: (_aware(r.occurred_at), r.id))  # named in the order they came
    members = {r.member_id for r in fresh}
    names: dict[int, str] = {}
    if members:
        found = conn.execute(
            select(Member.id, Member.display_name).where(
                Member.community_id == community_id, Member.id.in_(members)
            )
        )
        names = {int(member_id): name for member_id, name in found}
    joins = [Join(r.id, r.group_id, names.get(r.member_id) or "") for r in fresh]
    groups = {
        g.id: g
        for g in conn.execute(
            select(Group.id, Group.platform, Group.platform_group_id, Group.name).where(
                Group.community_id == community_id,
                Group.id.in_({j.group_id for j in joins} or {-1}),
            )
        )
    }
    slug = conn.scalar(select(Community.slug).where(Community.id == community_id)) or ""
    actions = []
    tasks: list[dict[str, Any]] = []
    for batch in batches(joins, spec.messaging.welcome_batch):
        group = groups[batch[0].group_id]
        if group.platform in OWN_TEMPLATE:
            continue
        text = welcome_template(spec, group.platform_group_id).render(
            lang,
            member=names_in(lang, [j.name for j in batch if j.name]),
            group=group.name,
            community=spec.name,
        )
        key = f"welcome:{group.id}:{min(j.event_id for j in batch)}"
        if group.platform not in SENDS:
            tasks.append(
                {
                    "kind": "welcome",
                    "source_key": key,
                    "group_id": group.id,
                    "text": text,
                    "due_at": now + BY_HAND,
                    "detail": {"welcome": [j.event_id for j in batch], "what": "send"},
                }
            )
            continue
        actions.append(
            ev.Action(
                kind="send_message",
                platform=group.platform,
                community=slug,
                group=group.platform_group_id,
                text=text,
                reason="welcome",
                key=key,
                detail={"welcome": [j.event_id for j in batch]},
            )
        )
    # one origin for every run: a run repeated after a crash queues the same keys again
    outbox.enqueue(conn, community_id, actions, "welcome")
    operator_tasks.add(conn, community_id, tasks, now)
    cursors.move(conn, community_id, CURSOR, rows[-1].id, now)
    return {
        "welcomed": len(joins),
        "messages": len(actions),
        "tasks": len(tasks),
        "read": len(rows),
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
