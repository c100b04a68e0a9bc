"""WeCom ``change_external_chat`` callbacks and group details → normalized events.

Callback (decrypted XML): ``ChangeType`` create | update | dismiss; for update,
``UpdateDetail`` add_member (``JoinScene`` 0 invited, 3 QR code) or del_member
(``QuitScene`` 0 left, 1 removed by owner/admin), with ``MemChangeList`` naming who.
Group detail (``groupchat/get``): each member's ``join_time``, ``join_scene`` (1 invited,
2 invite link, 3 QR code), ``invitor.userid`` and ``state`` (the contact way's state: the
referral code).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qunzhu import events as ev

CALLBACK_SCENES = {"0": "invite", "3": "qr"}
DETAIL_SCENES = {1: "invite", 2: "link", 3: "qr"}


@dataclass
class Change:
    chat: str
    kind: str  # create | add_member | del_member | dismiss | other
    at: datetime
    members: list[str] = field(default_factory=list)
    join_scene: str = ""
    quit_scene: str = ""


def read_change(xml: Mapping[str, Any]) -> Change | None:
    if xml.get("Event") != "change_external_chat":
        return None
    change_type = str(xml.get("ChangeType") or "")
    kind = str(xml.get("UpdateDetail") or "other") if change_type == "update" else change_type
    items = (xml.get("MemChangeList") or {}).get("Item") or []
    if isinstance(items, str):  # xmltodict gives one <Item> as a string, several as a list
        items = [items]
    return Change(
        chat=str(xml["ChatId"]),
        kind=kind,
        at=datetime.fromtimestamp(int(xml.get("CreateTime") or 0), UTC),
        members=[str(i) for i in items],
        join_scene=str(xml.get("JoinScene") or ""),
        quit_scene=str(xml.get("QuitScene") or ""),
    )


def joins(
    change: Change, community: str, details: Mapping[str, Mapping[str, Any]], owner: str = ""
) -> list[ev.Event]:
    out: list[ev.Event] = []
    for user in change.members:
        d = details.get(user, {})
        inviter = str((d.get("invitor") or {}).get("userid") or "") or None
        via = DETAIL_SCENES.get(
            int(d.get("join_scene") or -1), CALLBACK_SCENES.get(change.join_scene, "unknown")
        )
        out.append(
            ev.MemberJoined(
                platform="wecom",
                community=community,
                group=change.chat,
                member=user,
                occurred_at=change.at,
                member_name=str(d.get("group_nickname") or d.get("name") or ""),
                inviter=inviter if inviter != user else None,
                via=via,
                invite_code=str(d.get("state") or "") or None,
                raw={"callback": change.kind, **d},
            )
        )
    return out


def leaves(change: Change, community: str) -> list[ev.Event]:
    removed = change.quit_scene == "1"
    return [
        ev.MemberLeft(
            platform="wecom",
            community=community,
            group=change.chat,
            member=user,
            occurred_at=change.at,
            reason="removed" if removed else "left",
            raw={"callback": change.kind, "quit_scene": change.quit_scene},
        )
        for user in change.members
    ]


def members_of(chat: Mapping[str, Any], community: str) -> list[ev.Event]:
    """Everyone in a group detail as a join at their own join time (a sync)."""
    chat_id = str(chat["chat_id"])
    out: list[ev.Event] = []
    for m in chat.get("member_list") or []:
        inviter = str((m.get("invitor") or {}).get("userid") or "") or None
        out.append(
            ev.MemberJoined(
                platform="wecom",
                community=community,
                group=chat_id,
                member=str(m["userid"]),
                occurred_at=datetime.fromtimestamp(int(m.get("join_time") or 0), UTC),
                member_name=str(m.get("group_nickname") or m.get("name") or ""),
                inviter=inviter if inviter != str(m["userid"]) else None,
                via=DETAIL_SCENES.get(int(m.get("join_scene") or -1), "unknown"),
                invite_code=str(m.get("state") or "") or None,
                raw=dict(m),
            )
        )
    return out
