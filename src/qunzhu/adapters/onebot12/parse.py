"""OneBot 12 events (botuniverse/onebot specs: connect/data-protocol/event.md, interface/group
and message pages) into qunzhu events, on the platform the bridge names in ``self.platform``.

Every event carries ``id``, ``impl``, ``time`` (float seconds), ``type`` (meta, message,
notice, request), ``detail_type`` and ``sub_type``; all but meta events carry ``self``
``{platform, user_id}``: a QQ bridge says ``qq``, a WeChat bridge ``wechat``. Standard message
segments: text, mention, mention_all, image, voice, audio, video, file, location, reply. The
extended ones of WeChat bridges are prefixed ``wx.`` (ComWeChatBotClient: ``wx.link``,
``wx.app`` for mini-programs, ``wx.emoji``; contact cards and red envelopes come as the
notices ``wx.get_group_card`` and ``wx.get_group_redbag``).

WeChat names joins, removals and renames only in system lines ("X邀请Y加入了群聊",
"X将Y移出了群聊", "X修改群名为“Y”"). A bridge that passes such a line on reports it as a
group message from no member (empty ``user_id``, the group's own id, or ``system``): only
those are read as system lines, so a member typing the same words credits nobody.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qunzhu import events as ev
from qunzhu.adapters.importers.wechat_system import system_line

# the bridge's platform name → qunzhu's; a name not here is refused with the reason
PLATFORM_NAMES = {"qq": "qq", "wechat": "wechat", "wx": "wechat", "weixin": "wechat",
                  "wecom": "wecom", "telegram": "telegram", "discord": "discord"}  # fmt: skip
_KINDS = {"image": "image", "voice": "voice", "audio": "voice", "video": "video",
          "file": "file", "location": "location", "link": "link", "app": "mini_program",
          "emoji": "sticker", "face": "sticker", "card": "contact_card",
          "redbag": "red_envelope"}  # fmt: skip
_NOTICE_MESSAGES = {"get_group_card": "contact_card", "get_group_redbag": "red_envelope"}
_SYSTEM_SENDERS = frozenset({"", "system", "10000"})


@dataclass
class Parsed:
    events: list[ev.Event] = field(default_factory=list)
    group_status: list[tuple[str, str, str]] = field(default_factory=list)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # group, name, by
    ignored: str = ""
    platform: str = ""


def platform_of(e: Mapping[str, Any], fallback: str) -> str | None:
    """qunzhu's name for the platform the bridge reports (``self.platform``), the
    connector's own when the event names none (meta events), None for one unknown."""
    me = e.get("self")
    name = str(me.get("platform") or "") if isinstance(me, Mapping) else ""
    if not name:
        return fallback
    return PLATFORM_NAMES.get(name.lower())


def self_id(e: Mapping[str, Any]) -> str:
    me = e.get("self")
    return str(me.get("user_id") or "") if isinstance(me, Mapping) else ""


def _when(value: Any) -> datetime:
    return datetime.fromtimestamp(float(value), UTC)


def _segments(message: Any) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(message, str):
        return [("text", {"text": message})]
    if isinstance(message, Mapping):
        message = [message]
    if not isinstance(message, list):
        return []
    return [
        (str(s.get("type") or ""), dict(s.get("data") or {}))
        for s in message
        if isinstance(s, Mapping)
    ]


def _kind_of(name: str) -> str | None:
    return _KINDS.get(name.split(".", 1)[1] if "." in name else name)


def parse_event(e: Mapping[str, Any], community: str, fallback: str, names: Any = None) -> Parsed:
    """``names(group, display_name)`` gives the member id behind a name in a system line
    (None when unknown: the name is kept as ``name:<display name>``, as imports do)."""
    out = Parsed()
    platform = platform_of(e, fallback)
    if platform is None:
        out.ignored = f"platform {e.get('self')!r} is not one qunzhu knows"
        return out
    out.platform = platform
    kind, detail = e.get("type"), str(e.get("detail_type") or "")
    if kind == "message" and detail == "group":
        if member_message(e):
            _message(e, community, platform, out)
        else:
            _system_line(e, community, platform, out, names)
    elif kind == "notice":
        _notice(e, community, platform, detail, out)
    else:
        out.ignored = f"{kind}/{detail}"
    return out


def member_message(e: Mapping[str, Any]) -> bool:
    """A group message from a member: no system line (which may name people by name)."""
    if e.get("type") != "message" or str(e.get("detail_type") or "") != "group":
        return False
    sender = str(e.get("user_id") or "")
    return not (sender in _SYSTEM_SENDERS or sender == str(e.get("group_id")))


def _message(e: Mapping[str, Any], community: str, platform: str, out: Parsed) -> None:
    parts = _segments(e.get("message"))
    text = "".join(str(d.get("text", "")) for t, d in parts if t == "text").strip()
    kinds = [k for t, _ in parts if t != "text" and (k := _kind_of(t))]
    reply = next((str(d.get("message_id")) for t, d in parts if t == "reply"), None)
    if reply is not None:
        kind = "quote"
    elif kinds and not text:
        kind = kinds[0]
    elif "link" in kinds or "http" in text:
        kind = "link"
    else:
        kind = "text"
    if not text and kind in ("link", "mini_program"):  # a card's title is what was said
        text = next((str(d.get("title") or d.get("tittle") or "") for _t, d in parts), "")
    mentions = tuple(str(d["user_id"]) for t, d in parts if t == "mention" and d.get("user_id"))
    member = str(e["user_id"])
    out.events.append(
        ev.MessagePosted(
            platform=platform,
            community=community,
            group=str(e["group_id"]),
            member=member,
            occurred_at=_when(e["time"]),
            message_id=str(e["message_id"]),
            text=text,
            kind=kind,
            member_name=str(e.get("user_name") or e.get("wx.nickname") or ""),
            reply_to=reply,
            mentions=mentions,
            member_is_bot=member == self_id(e),
            raw=dict(e),
        )
    )


def _notice(e: Mapping[str, Any], community: str, platform: str, detail: str, out: Parsed) -> None:
    short = detail.split(".", 1)[1] if "." in detail else detail
    if short in _NOTICE_MESSAGES and e.get("group_id"):
        # a card or a red envelope: a message of that kind (counted as one by value rules)
        out.events.append(
            ev.MessagePosted(
                platform=platform,
                community=community,
                group=str(e["group_id"]),
                member=str(e["user_id"]),
                occurred_at=_when(e["time"]),
                message_id=str(e.get("message_id") or e["id"]),
                text=str(e.get("nickname") or ""),
                kind=_NOTICE_MESSAGES[short],
                raw=dict(e),
            )
        )
        return
    if detail not in ("group_member_increase", "group_member_decrease", "group_message_delete"):
        out.ignored = f"notice/{detail}"
        return
    group, user = str(e["group_id"]), str(e["user_id"])
    operator = str(e.get("operator_id") or "") or None
    common: dict[str, Any] = {
        "platform": platform,
        "community": community,
        "group": group,
        "member": user,
        "occurred_at": _when(e["time"]),
        "raw": dict(e),
    }
    is_bot = user == self_id(e)
    if detail == "group_member_increase":
        if is_bot:
            out.group_status.append((group, "active", ""))
            return
        inviter = operator if operator not in (None, user) else None
        via = "invite" if inviter else ("request" if e.get("sub_type") == "join" else "unknown")
        out.events.append(ev.MemberJoined(inviter=inviter, via=via, **common))
    elif detail == "group_member_decrease":
        if is_bot:
            out.group_status.append(
                (group, "disabled", f"the account was removed from group {group} by {operator}")
            )
            return
        removed = e.get("sub_type") == "kick" and operator not in (None, user)
        out.events.append(
            ev.MemberLeft(
                reason="removed" if removed else "left", by=operator if removed else None, **common
            )
        )
    else:
        out.events.append(ev.MessageRecalled(message_id=str(e.get("message_id")), **common))


def _system_line(
    e: Mapping[str, Any], community: str, platform: str, out: Parsed, names: Any
) -> None:
    group = str(e["group_id"])
    text = "".join(str(d.get("text", "")) for t, d in _segments(e.get("message"))).strip()
    text = text or str(e.get("alt_message") or "").strip()
    me = self_id(e)

    def who(name: str) -> tuple[str, str]:
        name = name.strip().strip('"“”「」')
        if name == "你":  # WeChat names the account itself "you"
            return me, ""
        found = names(group, name) if names is not None else None
        return (found or f"name:{name}"), name

    common: dict[str, Any] = {
        "platform": platform,
        "community": community,
        "group": group,
        "occurred_at": _when(e["time"]),
        "raw": dict(e),
    }
    line = system_line(text)  # the export's reading of the same lines
    if line is None or line.kind == "recall":
        out.ignored = f"system line: {text[:60]}"
        return
    if line.kind == "rename":
        out.renamed.append((group, line.title, who(line.by)[0]))
        return
    by = who(line.by)[0] if line.by else None
    for one in line.names:
        member, name = who(one)
        if line.kind == "join":
            out.events.append(
                ev.MemberJoined(member=member, member_name=name, inviter=by, via=line.via, **common)
            )
        elif line.kind == "removed":
            out.events.append(
                ev.MemberLeft(member=member, member_name=name, reason="removed", by=by, **common)
            )
        else:
            out.events.append(ev.MemberLeft(member=member, member_name=name, **common))
