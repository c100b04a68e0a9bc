"""Telegram Desktop's service messages: the members' comings and goings, and their keys.

``invite_members`` (added by the actor, or joined when the actor added themselves),
``join_group_by_link`` (with the link's ``inviter``), ``join_group_by_request``,
``remove_members`` (removed by the actor, or left). Every other action — pins, title and
photo changes, calls, topic changes, group creation — is no member event and no message.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from qunzhu import events as ev
from qunzhu.adapters.importers.telegram_ids import peer_id
from qunzhu.events import make_key

PLATFORM = "telegram"
MEMBER_ACTIONS = ("invite_members", "join_group_by_link", "join_group_by_request",
                  "remove_members")  # fmt: skip


def service_key(community: str, group: str, message_id: object, *parts: object) -> str:
    return make_key(PLATFORM, "service", community, group, message_id, *parts)


def service_keys(raw: Any, community: str, group: str) -> list[str]:
    """Every key a service message (as stored: its trimmed raw) may have given its events
    in ``group``: for re-keying the events of a group imported under another id."""
    if not isinstance(raw, dict):
        return []
    ident, action = raw.get("id"), raw.get("action")
    if action in ("join_group_by_link", "join_group_by_request"):
        return [service_key(community, group, ident, "join")]
    kind = {"invite_members": "join", "remove_members": "leave"}.get(str(action))
    names = raw.get("members") if kind else None
    if not isinstance(names, list):
        return []
    return [service_key(community, group, ident, kind, name) for name in names]


def trim(m: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "type", "date", "date_unixtime", "actor", "actor_id", "action", "members",
            "inviter")  # fmt: skip
    return {k: m[k] for k in keep if k in m}


def service_events(
    m: dict[str, Any], names: dict[str, str], community: str, group: str, when: datetime
) -> Iterator[ev.Event]:
    """The joins and leaves of one service message (trimmed); ``names`` maps the display
    names the export's messages were sent under to their members."""
    action = m.get("action")
    if action not in MEMBER_ACTIONS:
        return
    actor = peer_id(m["actor_id"]) if m.get("actor_id") else ""
    common: dict[str, Any] = {
        "platform": PLATFORM,
        "community": community,
        "group": group,
        "occurred_at": when,
    }

    def key(*parts: object) -> str:
        return service_key(community, group, m.get("id"), *parts)

    def who(name: object) -> str:
        text = str(name or "")
        return names.get(text, f"name:{text}")

    actor_name = str(m.get("actor") or "")
    subject = actor or who(actor_name)
    if action == "invite_members":
        for name in m.get("members") or ():
            member = who(name)
            if member == actor or (name and name == actor_name):
                yield ev.MemberJoined(
                    member=subject, member_name=str(name), via="self", key=key("join", name),
                    raw=m, **common,
                )  # fmt: skip
            else:
                yield ev.MemberJoined(
                    member=member, member_name=str(name or ""), inviter=actor or None,
                    via="added", key=key("join", name), raw=m, **common,
                )  # fmt: skip
    elif action in ("join_group_by_link", "join_group_by_request"):
        inviter = m.get("inviter")
        yield ev.MemberJoined(
            member=subject, member_name=actor_name, inviter=who(inviter) if inviter else None,
            via="link" if action == "join_group_by_link" else "request", key=key("join"),
            raw=m, **common,
        )  # fmt: skip
    elif action == "remove_members":
        for name in m.get("members") or ():
            member = who(name)
            if member == actor or (name and name == actor_name):
                yield ev.MemberLeft(
                    member=subject, member_name=str(name), reason="left",
                    key=key("leave", name), raw=m, **common,
                )  # fmt: skip
            else:
                yield ev.MemberLeft(
                    member=member, member_name=str(name or ""), reason="removed",
                    by=actor or None, key=key("leave", name), raw=m, **common,
                )  # fmt: skip
