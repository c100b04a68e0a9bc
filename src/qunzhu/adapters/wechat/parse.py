"""WeChatFerry's ``WxMsg`` → normalized events.

Group messages only (``roomid`` ends with ``@chatroom``). ``type`` as WeChat stores it:
1 text, 3 image, 34 voice, 42 contact card, 43 video, 47 sticker, 48 location, 49 app
message (its ``<appmsg><type>``: 5 link, 6 file, 57 quote, 33/36 mini program, 2000/2001
transfer and red envelope), 10000 system line, 10002 system XML (a recall).
System lines are read by the export importer's own reader
(:func:`qunzhu.adapters.importers.wechat_system.system_line`): a group seen live and the
same group imported later say the same. They name people by display name; ``resolve``
maps a name to a wxid with the group's member list.

Keys come from WeChat's message id (``id``, the server id), stable when WeChatFerry
delivers a message again after a reconnect.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qunzhu import events as ev
from qunzhu.adapters.importers.wechat_csv import APP_KINDS, KINDS, content_text
from qunzhu.adapters.importers.wechat_system import ME, system_line
from qunzhu.events import make_key

PLATFORM = "wechat"
_APPTYPE = re.compile(r"<appmsg\b.*?<type>\s*(\d+)\s*</type>", re.S)
_REFER = re.compile(r"<refermsg>.*?<svrid>\s*(\d+)\s*</svrid>", re.S)
_AT = re.compile(r"<atuserlist>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</atuserlist>", re.S)
_REVOKED = re.compile(r"<newmsgid>\s*(\d+)\s*</newmsgid>")
_REPLACE = re.compile(r"<replacemsg>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</replacemsg>", re.S)
_REMOVED_ME = re.compile(r"^你被[\"“]?(.+?)[\"”]?移出群聊")

Resolve = Callable[[str, str], str]
"""(room, display name) → wxid, or ``name:<display name>`` when the member list lacks it."""
NameOf = Callable[[str, str], str]
"""(room, wxid) → the member's display name there, "" when unknown."""


def _nobody(room: str, wxid: str) -> str:
    return ""


@dataclass
class Parsed:
    events: list[ev.Event] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)  # info alerts
    removed_from: str = ""  # the account itself was removed from this group
    message_id: str = ""
    ignored: str = ""


def _when(ts: int) -> datetime:
    return datetime.fromtimestamp(int(ts), UTC)


def _body(msg: Any) -> str:
    """The content without the ``wxid:\\n`` head some WeChat builds put on group lines."""
    content = str(msg.content)
    head = f"{msg.sender}:\n"
    return content[len(head) :] if msg.sender and content.startswith(head) else content


def parse(msg: Any, community: str, me: str, resolve: Resolve, name_of: NameOf = _nobody) -> Parsed:
    out = Parsed(message_id=str(msg.id))
    room = str(msg.roomid)
    if not msg.is_group or not room.endswith("@chatroom"):
        out.ignored = f"not a group message ({msg.type})"
        return out
    if msg.type == 10000:
        _system(msg, room, community, me, resolve, out)
    elif msg.type == 10002:
        _sysmsg(msg, room, community, me, resolve, out)
    elif msg.type in (51, 9999):  # the client's own status lines, not people talking
        out.ignored = f"type {msg.type}"
    else:
        _message(msg, room, community, out, name_of(room, str(msg.sender)))
    return out


def _message(msg: Any, room: str, community: str, out: Parsed, name: str) -> None:
    content = _body(msg)
    kind = KINDS.get(int(msg.type), "other")
    reply_to = None
    if msg.type == 49:
        sub = _APPTYPE.search(content)
        kind = APP_KINDS.get(int(sub[1]), "other") if sub else "other"
        refer = _REFER.search(content) if kind == "quote" else None
        reply_to = refer[1] if refer else None
    elif msg.type == 62:  # a short video
        kind = "video"
    text = content_text(int(msg.type), kind, content)
    at = _AT.search(str(msg.xml))
    mentions = tuple(w for w in (at[1].split(",") if at else ()) if w and w != "notify@all")
    out.events.append(
        ev.MessagePosted(
            platform=PLATFORM,
            community=community,
            group=room,
            member=str(msg.sender),
            occurred_at=_when(msg.ts),
            message_id=str(msg.id),
            text=text,
            kind=kind,
            member_name=name,
            reply_to=reply_to,
            mentions=mentions,
            raw=_raw(msg),
        )
    )


def _system(msg: Any, room: str, community: str, me: str, resolve: Resolve, out: Parsed) -> None:
    content = _body(msg).strip()
    if _REMOVED_ME.match(content):
        out.removed_from = room
        return
    line = system_line(content)
    if line is None:
        out.ignored = "system line"
        return
    common: dict[str, Any] = {
        "platform": PLATFORM,
        "community": community,
        "group": room,
        "occurred_at": _when(msg.ts),
        "raw": _raw(msg),
    }

    def who(name: str) -> str:
        return me if name == ME else resolve(room, name)

    if line.kind == "rename":
        out.notices.append(
            {
                "group": room,
                "member": who(line.by),
                "kind": "group_renamed",
                "text": f"WeChat: {line.by} renamed the group to “{line.title}”",
                "key": f"wechat-rename-{room}-{msg.id}",
            }
        )
        return
    by = who(line.by) if line.by else None
    for name in line.names:
        member = who(name)
        shown = "" if name == ME else name
        if line.kind == "join":
            key = make_key("wcf-join", room, msg.id, member)
            out.events.append(
                ev.MemberJoined(
                    member=member, member_name=shown, inviter=by, via=line.via, key=key, **common
                )
            )
        elif line.kind in ("removed", "left"):
            removed = line.kind == "removed"
            out.events.append(
                ev.MemberLeft(
                    member=member,
                    member_name=shown,
                    reason="removed" if removed else "left",
                    by=by if removed else None,
                    key=make_key("wcf-leave", room, msg.id, member),
                    **common,
                )
            )
        else:
            _recall(member, None, msg, common, out)


def _sysmsg(msg: Any, room: str, community: str, me: str, resolve: Resolve, out: Parsed) -> None:
    content = _body(msg)
    if "revokemsg" not in content:
        out.ignored = "system XML"
        return
    revoked = _REVOKED.search(content)
    replace = _REPLACE.search(content)
    line = system_line(replace[1]) if replace else None
    if line is not None and line.kind == "recall" and line.names:
        name = line.names[0]
        member = me if name == ME else resolve(room, name)
    else:
        member = str(msg.sender) or me
    common: dict[str, Any] = {
        "platform": PLATFORM,
        "community": community,
        "group": room,
        "occurred_at": _when(msg.ts),
        "raw": _raw(msg),
    }
    _recall(member, revoked[1] if revoked else None, msg, common, out)


def _recall(
    member: str, message_id: str | None, msg: Any, common: dict[str, Any], out: Parsed
) -> None:
    # WeChat may tell a recall twice (the XML with the message id, the line without):
    # one key by who and when, so the second adds nothing
    key = make_key("wcf-recall", common["group"], member, int(msg.ts))
    out.events.append(ev.MessageRecalled(member=member, message_id=message_id, key=key, **common))


def _raw(msg: Any) -> dict[str, Any]:
    return {
        "id": str(msg.id),
        "type": int(msg.type),
        "ts": int(msg.ts),
        "roomid": str(msg.roomid),
        "sender": str(msg.sender),
        "is_self": bool(msg.is_self),
        "content": str(msg.content)[:4000],
    }
