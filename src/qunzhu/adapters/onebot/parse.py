"""OneBot v11 events → normalized events (https://github.com/botuniverse/onebot-11).

``message`` (group) → MessagePosted; ``notice``: ``group_increase`` → MemberJoined (the
``operator_id`` of an ``invite`` is the inviter), ``group_decrease`` → MemberLeft
(``kick_me``: the bot itself was removed), ``group_recall`` → MessageRecalled,
``group_ban`` → an information alert (no event type holds a platform-side mute);
``request`` (group add) → ApplicationSubmitted, its ``flag`` kept to answer it later.
Messages come as a CQ-code string or as a segment array; both are read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qunzhu import events as ev

_CQ = re.compile(r"\[CQ:([a-z_]+)((?:,[^\]]*)?)\]")
_KINDS = {
    "image": "image",
    "record": "voice",
    "video": "video",
    "face": "sticker",
    "mface": "sticker",
    "file": "file",
    "location": "location",
    "contact": "contact_card",
    "share": "link",
    "json": "mini_program",
    "xml": "mini_program",
    "redbag": "red_envelope",
    "forward": "quote",
}


@dataclass
class Parsed:
    events: list[ev.Event] = field(default_factory=list)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # group, user, flag
    group_status: list[tuple[str, str, str]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)  # info alerts
    ignored: str = ""


def unescape(text: str) -> str:
    return (
        text.replace("&#91;", "[").replace("&#93;", "]").replace("&#44;", ",").replace("&amp;", "&")
    )


def escape(text: str) -> str:
    """Plain text made safe inside a CQ-code message (names can hold ``[CQ:...]``)."""
    return (
        text.replace("&", "&amp;").replace("[", "&#91;").replace("]", "&#93;").replace(",", "&#44;")
    )


def segments(message: Any) -> list[tuple[str, dict[str, str]]]:
    """The message as (type, data) segments, from either OneBot message format."""
    if isinstance(message, list):
        return [
            (str(s.get("type")), {k: str(v) for k, v in (s.get("data") or {}).items()})
            for s in message
            if isinstance(s, Mapping)
        ]
    out: list[tuple[str, dict[str, str]]] = []
    text = str(message or "")
    pos = 0
    for m in _CQ.finditer(text):
        if m.start() > pos:
            out.append(("text", {"text": unescape(text[pos : m.start()])}))
        data = {}
        for pair in m.group(2).lstrip(",").split(","):
            if "=" in pair:
                k, _, v = pair.partition("=")
                data[k] = unescape(v)
        out.append((m.group(1), data))
        pos = m.end()
    if pos < len(text):
        out.append(("text", {"text": unescape(text[pos:])}))
    return out


def _when(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


def parse_event(e: Mapping[str, Any], community: str, platform: str = "qq") -> Parsed:
    out = Parsed()
    post = e.get("post_type")
    if post == "message" and e.get("message_type") == "group":
        _message(e, community, platform, out)
    elif post == "notice":
        _notice(e, community, platform, out)
    elif post == "request" and e.get("request_type") == "group":
        _request(e, community, platform, out)
    else:
        out.ignored = f"{post}/{e.get('message_type') or e.get('meta_event_type') or ''}"
    return out


def _message(e: Mapping[str, Any], community: str, platform: str, out: Parsed) -> None:
    parts = segments(e.get("message", e.get("raw_message", "")))
    text = "".join(d.get("text", "") for t, d in parts if t == "text").strip()
    kinds = [_KINDS[t] for t, _ in parts if t in _KINDS]
    kind = kinds[0] if kinds and not text else ("link" if "http" in text else "text")
    reply = next((d.get("id") for t, d in parts if t == "reply"), None)
    mentions = tuple(d["qq"] for t, d in parts if t == "at" and d.get("qq", "all") != "all")
    sender = e.get("sender") or {}
    out.events.append(
        ev.MessagePosted(
            platform=platform,
            community=community,
            group=str(e["group_id"]),
            member=str(e["user_id"]),
            occurred_at=_when(e["time"]),
            message_id=str(e["message_id"]),
            text=text,
            kind=kind,
            member_name=str(sender.get("card") or sender.get("nickname") or ""),
            reply_to=reply,
            mentions=mentions,
            # the connected bot account's own messages, where the implementation reports them
            member_is_bot=str(e["user_id"]) == str(e.get("self_id")),
            raw=dict(e),
        )
    )


def _notice(e: Mapping[str, Any], community: str, platform: str, out: Parsed) -> None:
    kind, sub = e.get("notice_type"), e.get("sub_type")
    if kind not in ("group_increase", "group_decrease", "group_ban", "group_recall"):
        out.ignored = f"notice/{kind}"
        return
    group, user = str(e["group_id"]), str(e["user_id"])
    operator = str(e.get("operator_id") or "") or None
    at = _when(e["time"])
    is_bot = user == str(e.get("self_id"))
    if kind == "group_increase":
        if is_bot:
            out.group_status.append((group, "active", ""))
            return
        inviter = operator if sub == "invite" and operator not in (None, "0", user) else None
        via = "invite" if inviter else ("request" if sub == "approve" else "unknown")
        out.events.append(
            ev.MemberJoined(
                platform=platform,
                community=community,
                group=group,
                member=user,
                occurred_at=at,
                inviter=inviter,
                via=via,
                raw=dict(e),
            )
        )
    elif kind == "group_decrease":
        if sub == "kick_me" or is_bot:
            out.group_status.append(
                (group, "disabled", f"the bot was removed from group {group} by {operator}")
            )
            return
        removed = sub == "kick" and operator not in (None, "0", user)
        out.events.append(
            ev.MemberLeft(
                platform=platform,
                community=community,
                group=group,
                member=user,
                occurred_at=at,
                reason="removed" if removed else "left",
                by=operator if removed else None,
                raw=dict(e),
            )
        )
    elif kind == "group_recall":
        out.events.append(
            ev.MessageRecalled(
                platform=platform,
                community=community,
                group=group,
                member=user,
                occurred_at=at,
                message_id=str(e.get("message_id")),
                raw=dict(e),
            )
        )
    else:  # group_ban: a sanction given on the platform, shown to operators
        lifted = sub == "lift_ban" or not e.get("duration")
        text = (
            f"QQ: {operator} lifted the mute of {user} in {group}"
            if lifted
            else f"QQ: {operator} muted {user} in {group} for {e.get('duration')} s"
        )
        out.notices.append(
            {
                "group": group,
                "member": user,
                "kind": "platform_mute",
                "text": text,
                "key": f"qq-ban-{group}-{user}-{e['time']}",
            }
        )


def _request(e: Mapping[str, Any], community: str, platform: str, out: Parsed) -> None:
    group, user, flag = str(e["group_id"]), str(e["user_id"]), str(e["flag"])
    if e.get("sub_type") == "invite":  # the bot itself is invited into a group
        out.notices.append(
            {
                "group": group,
                "member": user,
                "kind": "bot_invited",
                "text": f"QQ: {user} invited the bot into group {group}",
                "key": f"qq-invite-{flag}",
            }
        )
        return
    out.requests.append((group, user, flag))
    out.events.append(
        ev.ApplicationSubmitted(
            platform=platform,
            community=community,
            group=group,
            member=user,
            occurred_at=_when(e["time"]),
            application_id=flag,
            answers={"comment": str(e.get("comment") or "")},
            raw=dict(e),
        )
    )
