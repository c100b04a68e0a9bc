"""What one decrypted WeCom callback does: joins and leaves to the pipeline, a dismissed
group marked, a renamed group's name kept, an owner change remembered, and a callback that
cannot be read quarantined with its reason.

Every path answers WeCom 200: a callback answered otherwise is sent again and again (three
tries), and a callback that cannot be read now cannot be read on a retry either. Only a
store that cannot take the events raises (the platform's retry then delivers them later).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from qunzhu import events as ev
from qunzhu.adapters.base import ConnectorError
from qunzhu.adapters.wecom.parse import Change, Unreadable, joins, leaves, members_of, read_change
from qunzhu.store import connector_records as records
from qunzhu.store.models import Community, Group
from qunzhu.store.quarantine import RejectedRecord, quarantine_rows

if TYPE_CHECKING:
    from qunzhu.adapters.wecom.adapter import WeComConnector


def apply(c: WeComConnector, xml: dict[str, Any]) -> None:
    try:
        change = read_change(xml)
        events = [] if change is None else _events(c, change, xml)
    except (Unreadable, ev.EventError) as exc:
        quarantine(c, xml, str(exc))
        return
    except (ValueError, KeyError, TypeError) as exc:  # e.g. a group detail in another shape
        quarantine(c, xml, f"could not be applied: {type(exc).__name__}: {exc}")
        return
    c.deliver(events)
    c.state.event(c.info.id)


def _events(c: WeComConnector, change: Change, xml: dict[str, Any]) -> list[ev.Event]:
    cid, chat = c.info.id, change.chat
    if change.kind in ("add_member", "del_member"):
        return _members_changed(c, change, xml)
    if change.kind == "create":
        try:
            return c._sync_chat(chat)
        except ConnectorError as exc:  # the periodic sync finds the group later
            c.state.error(cid, f"groupchat/get {chat}: {exc}")
            return []
    if change.kind == "dismiss":
        reason = "the group was dismissed (群已解散)"
        records.set_group_state(c.store, cid, chat, "dismissed", reason)
        records.add_alert(
            c.store,
            community=c.info.community,
            connector_id=cid,
            platform="wecom",
            group=chat,
            kind="group_dismissed",
            level="info",
            text=f"WeCom group {chat} was dismissed",
            key=f"wecom-dismiss-{chat}",
        )
    elif change.kind in ("change_owner", "change_name"):
        # the callback says only that something changed; the group detail says to what
        detail = _detail(c, chat)
        if detail and change.kind == "change_name" and detail.get("name"):
            rename(c, chat, str(detail["name"]))
    return []  # change_notice: the notice text is not kept


def _detail(c: WeComConnector, chat: str) -> dict[str, Any]:
    if c.api is None:
        return {}
    try:
        detail = c.api.group_chat(chat)
    except ConnectorError as exc:
        c.state.error(c.info.id, f"groupchat/get {chat}: {exc}")
        return {}
    c.owners[chat] = str(detail.get("owner") or "")
    return detail


def _members_changed(c: WeComConnector, change: Change, xml: dict[str, Any]) -> list[ev.Event]:
    """Joins or leaves of the members named; when the list is missing or shorter than
    MemChangeCnt, the others are found by comparing the group detail with the store."""
    community, adding = c.info.community, change.kind == "add_member"
    detail = _detail(c, change.chat) if (adding or change.incomplete) else {}
    present = {str(m["userid"]): m for m in detail.get("member_list") or []}
    extra: list[ev.Event] = []
    if change.incomplete and detail:
        stored = set(c._stored_members(change.chat))
        named = set(change.members)
        if adding:  # newcomers at their own join time, as the sync records them
            new = {u for u in present if u not in stored and u not in named}
            extra = [e for e in members_of(detail, community) if e.member in new]
        else:
            change.members += [u for u in sorted(stored) if u not in present and u not in named]
    elif change.incomplete:
        count = "no" if change.count is None else str(change.count)
        why = (
            f"{change.kind}: MemChangeCnt {count}, {len(change.members)} named in "
            "MemChangeList; the others cannot be looked up "
            + ("(no API secret)" if c.api is None else "(groupchat/get failed)")
        )
        if not change.members:
            raise Unreadable(why)
        quarantine(c, xml, why, count_event=False)  # the named ones are still stored
    found = joins(change, community, present) if adding else leaves(change, community)
    return [*found, *extra]


def quarantine(
    c: WeComConnector, xml: dict[str, Any], reason: str, *, count_event: bool = True
) -> None:
    """Keep the callback with its reason (once, however often WeCom retries it) and show
    the reason as the connector's last error."""
    community_id = records.community_id(c.store, c.info.community)
    record = RejectedRecord(
        source=f"wecom:{c.info.name}",
        line=0,
        reason=reason,
        text=json.dumps(xml, ensure_ascii=False, sort_keys=True, default=str),
        location="callback",
    )
    with c.store.engine.begin() as conn:
        quarantine_rows(conn, [record], community_id)
    c.state.error(c.info.id, f"callback quarantined: {reason}")
    if count_event:
        c.state.event(c.info.id)


def rename(c: WeComConnector, chat: str, name: str) -> None:
    community = select(Community.id).where(Community.slug == c.info.community)
    with c.store.unit_of_work() as session:
        session.execute(
            update(Group)
            .where(
                Group.community_id == community.scalar_subquery(),
                Group.platform == "wecom",
                Group.platform_group_id == chat,
            )
            .values(name=name[:200])
        )
