"""WeCom ``change_external_chat`` callbacks and group details → normalized events.

Callback (decrypted XML, 客户群变更事件): ``ChangeType`` create | update | dismiss; for
update, ``UpdateDetail`` add_member (``JoinScene`` 0 invited directly or by link, 3 QR code),
del_member (``QuitScene`` 0 left, 1 removed by owner/admin), change_owner, change_name or
change_notice. Joins and leaves name who in ``MemChangeList`` — one ``<Item>`` per member,
or, in the older form, one comma-separated text (``<![CDATA[id1,id2]]>``) — with
``MemChangeCnt`` saying how many changed (the list may be shorter, or missing). A third-party
app gets the same event with ``InfoType`` and ``TimeStamp`` in place of ``Event`` and
``CreateTime``. ``change_external_contact`` (a staff member's customers) changes no group.

Group detail (``groupchat/get``): each member's ``join_time``, ``join_scene`` (1 invited,
2 invite link, 3 QR code), ``invitor.userid`` and ``state`` (the contact way's state: the
referral code).

A callback that names ``change_external_chat`` but cannot be read (no ChatId, an unknown
ChangeType, a CreateTime that is not Unix seconds, a list that is not ids) raises
:class:`Unreadable`, whose message is the reason the connector quarantines it with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qunzhu import bounds
from qunzhu import events as ev

CALLBACK_SCENES = {"0": "invite", "1": "invite", "2": "link", "3": "qr"}
DETAIL_SCENES = {1: "invite", 2: "link", 3: "qr"}
UPDATES = ("add_member", "del_member", "change_owner", "change_name", "change_notice")
EVENT = "change_external_chat"


class Unreadable(ValueError):
    """A group change callback that cannot be read; the message says why."""


@dataclass
class Change:
    chat: str
    kind: str  # create | dismiss | one of UPDATES
    at: datetime
    members: list[str] = field(default_factory=list)
    join_scene: str = ""
    quit_scene: str = ""
    count: int | None = None  # MemChangeCnt: how many changed, when WeCom says

    @property
    def incomplete(self) -> bool:
        """A join or leave whose list is missing or shorter than its count: who else
        changed is found by comparing the group's members (groupchat/get)."""
        if self.kind not in ("add_member", "del_member"):
            return False
        return not self.members or (self.count is not None and self.count > len(self.members))


def _text(xml: Mapping[str, Any], name: str) -> str:
    value = xml.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):  # a nested element or the tag twice: not WeCom's form
        raise Unreadable(f"{name} is not a single text value: {value!r:.200}")
    return value.strip()


def _time(xml: Mapping[str, Any]) -> datetime:
    name = "CreateTime" if xml.get("CreateTime") is not None else "TimeStamp"
    text = _text(xml, name)
    if not text:
        raise Unreadable("no CreateTime")
    if not text.isdigit():
        raise Unreadable(f"{name} {text!r:.60} is not a Unix time")
    value = int(text)
    if value >= 10**11:  # WeCom sends seconds; 13 digits are milliseconds from elsewhere
        raise Unreadable(f"{name} {text} looks like milliseconds; WeCom sends Unix seconds")
    try:
        return bounds.time_from_unix(value)
    except bounds.OutOfBounds as exc:
        raise Unreadable(f"{name} {text}: {exc}") from None


def _members(value: Any) -> list[str]:
    """The ids in MemChangeList as xmltodict gives it: None (absent or empty), a str (the
    older comma-separated form), {"Item": str | [str, ...]} (one <Item> each)."""
    if value is None:
        return []
    if isinstance(value, str):
        found = [part.strip() for part in value.replace("，", ",").split(",")]
    elif isinstance(value, Mapping) and set(value) <= {"Item", "#text"}:
        items = value.get("Item")
        items = items if isinstance(items, list) else [items]
        if not all(i is None or isinstance(i, str) for i in items):
            raise Unreadable(f"MemChangeList holds something other than ids: {value!r:.200}")
        found = [i.strip() for i in items if i]
    else:
        raise Unreadable(f"MemChangeList in an unknown form: {value!r:.200}")
    return list(dict.fromkeys(m for m in found if m))  # in order, each once


def _count(xml: Mapping[str, Any]) -> int | None:
    text = _text(xml, "MemChangeCnt")
    if not text:
        return None
    if not text.isdigit():
        raise Unreadable(f"MemChangeCnt {text!r:.60} is not a number")
    return int(text)


def read_change(xml: Mapping[str, Any]) -> Change | None:
    """The group change in a callback; None for callbacks about other things."""
    event = str(xml.get("Event") or xml.get("InfoType") or "").strip()
    if event != EVENT:
        return None
    chat = _text(xml, "ChatId")
    if not chat:
        raise Unreadable("no ChatId")
    change_type = _text(xml, "ChangeType")
    if change_type == "update":
        kind = _text(xml, "UpdateDetail")
        if kind not in UPDATES:
            raise Unreadable(f"unknown UpdateDetail {kind!r:.60}")
    elif change_type in ("create", "dismiss"):
        kind = change_type
    else:
        raise Unreadable(f"unknown ChangeType {change_type!r:.60}")
    return Change(
        chat=chat,
        kind=kind,
        at=_time(xml),
        members=_members(xml.get("MemChangeList")),
        join_scene=_text(xml, "JoinScene"),
        quit_scene=_text(xml, "QuitScene"),
        count=_count(xml),
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
