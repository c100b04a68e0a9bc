"""Telegram updates → normalized events (and the side facts a connector must record).

Joins and leaves come from ``chat_member`` updates, worked out from the status change (the
``new_chat_members`` service messages would count the same join twice and are ignored).
A join through an invite link names its referrer: the link's owner when the bot created the
link (``connector_invite_links``), else a ``ref:<user id>`` link name, else the link's
creator. ``chat_join_request`` becomes an application; ``my_chat_member`` says whether the
bot is still in the chat; ``migrate_to_chat_id`` moves the group to its supergroup id.

Service messages (pins, video chats, forum topic changes, title and photo changes, …),
dice throws and shared stories are no one's words: left out, never stored as empty text.
A post in the name of a chat (``sender_chat``: an anonymous admin, whose ``from`` is
GroupAnonymousBot in every group; a channel's automatic forward, from "Telegram") is that
chat's member, flagged as a bot: one per chat, as the export importer stores it. In a forum,
a message whose ``reply_to_message`` is its topic's creation (``message_thread_id``) is in
the topic, not a reply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qunzhu import events as ev

IN_CHAT = ("creator", "administrator", "member")
_KINDS = {
    "photo": "image",
    "sticker": "sticker",
    "voice": "voice",
    "audio": "voice",
    "video": "video",
    "video_note": "video",
    "animation": "video",
    "document": "file",
    "location": "location",
    "venue": "location",
    "poll": "poll",
    "contact": "contact_card",
}
# what a message carries when it is a service message, or no one's words (dice, stories)
SERVICE = ("pinned_message", "video_chat_scheduled", "video_chat_started", "video_chat_ended",
           "video_chat_participants_invited", "forum_topic_created", "forum_topic_edited",
           "forum_topic_closed", "forum_topic_reopened", "general_forum_topic_hidden",
           "general_forum_topic_unhidden", "new_chat_title", "new_chat_photo",
           "delete_chat_photo", "group_chat_created", "supergroup_chat_created",
           "channel_chat_created", "message_auto_delete_timer_changed", "boost_added",
           "chat_background_set", "write_access_allowed", "proximity_alert_triggered",
           "giveaway_created", "giveaway_completed", "giveaway_winners", "users_shared",
           "chat_shared", "connected_website", "dice", "story", "game")  # fmt: skip
LinkOwner = Callable[[str], tuple[str | None, str | None]]


@dataclass
class Parsed:
    events: list[ev.Event] = field(default_factory=list)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # group, user, handle
    migrations: list[tuple[str, str]] = field(default_factory=list)  # old, new
    bot_status: list[tuple[str, str, str]] = field(default_factory=list)  # group, status, why
    ignored: str = ""


def _when(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


def _name(user: Mapping[str, Any]) -> str:
    """A person's name, or a chat's title (a post in the name of a chat)."""
    full = " ".join(str(user.get(k) or "") for k in ("first_name", "last_name")).strip()
    return full or str(user.get("title") or user.get("username") or user.get("id"))


def _is_member(cm: Mapping[str, Any]) -> bool:
    status = cm.get("status")
    return status in IN_CHAT or (status == "restricted" and bool(cm.get("is_member")))


def parse_update(update: Mapping[str, Any], community: str, link_owner: LinkOwner) -> Parsed:
    out = Parsed()
    for name in ("message", "edited_message"):
        if name in update:
            _message(update[name], community, out, edited=name == "edited_message")
            return out
    if "chat_member" in update:
        _chat_member(update["chat_member"], community, link_owner, out)
    elif "my_chat_member" in update:
        _my_chat_member(update["my_chat_member"], out)
    elif "chat_join_request" in update:
        _join_request(update["chat_join_request"], community, out)
    else:
        out.ignored = ",".join(k for k in update if k != "update_id") or "empty update"
    return out


def _message(m: Mapping[str, Any], community: str, out: Parsed, *, edited: bool) -> None:
    chat = m["chat"]
    group = str(chat["id"])
    if "migrate_to_chat_id" in m:
        out.migrations.append((group, str(m["migrate_to_chat_id"])))
        return
    if "migrate_from_chat_id" in m:
        out.migrations.append((str(m["migrate_from_chat_id"]), group))
        return
    if chat.get("type") not in ("group", "supergroup") or "from" not in m:
        out.ignored = f"message in a {chat.get('type')} chat"
        return
    if "new_chat_members" in m or "left_chat_member" in m:
        out.ignored = "service message (joins come from chat_member updates)"
        return
    service = next((key for key in SERVICE if key in m), None)
    if service is not None:
        out.ignored = f"service message ({service}): not activity"
        return
    user = m.get("sender_chat") or m["from"]
    member = str(user["id"])
    text = str(m.get("text") or m.get("caption") or "")
    if edited:
        out.events.append(
            ev.MessageEdited(
                platform="telegram",
                community=community,
                group=group,
                member=member,
                occurred_at=_when(m.get("edit_date") or m["date"]),
                message_id=str(m["message_id"]),
                text=text,
                raw=dict(m),
            )
        )
        return
    kind = next((k for key, k in _KINDS.items() if key in m), "text")
    if kind == "text" and any(e.get("type") in ("url", "text_link") for e in m.get("entities", ())):
        kind = "link"
    mentions = tuple(
        str(e["user"]["id"]) for e in m.get("entities", ()) if e.get("type") == "text_mention"
    )
    reply = m.get("reply_to_message")
    if reply and m.get("is_topic_message") and reply["message_id"] == m.get("message_thread_id"):
        reply = None  # the topic's creation: the message is in the topic, replying to no one
    out.events.append(
        ev.MessagePosted(
            platform="telegram",
            community=community,
            group=group,
            member=member,
            occurred_at=_when(m["date"]),
            message_id=str(m["message_id"]),
            text=text,
            kind=kind,
            member_name=_name(user),
            reply_to=str(reply["message_id"]) if reply else None,
            mentions=mentions,
            forwarded="forward_origin" in m or "forward_date" in m,
            member_is_bot=bool(user.get("is_bot")) or "sender_chat" in m,
            raw=dict(m),
        )
    )


def _chat_member(u: Mapping[str, Any], community: str, link_owner: LinkOwner, out: Parsed) -> None:
    group = str(u["chat"]["id"])
    old, new = u["old_chat_member"], u["new_chat_member"]
    user, actor = new["user"], u.get("from") or new["user"]
    member, by = str(user["id"]), str(actor["id"])
    at = _when(u["date"])
    was, now = _is_member(old), _is_member(new)
    if not was and now:
        inviter: str | None = None
        code: str | None = None
        via = "self"
        link = u.get("invite_link")
        if link:
            via = "link"
            inviter, code = link_owner(str(link.get("invite_link", "")))
            name = str(link.get("name") or "")
            if inviter is None and name.startswith("ref:"):
                inviter = name.removeprefix("ref:").split(":")[0] or None
            creator = link.get("creator") or {}
            if inviter is None and creator and not creator.get("is_bot"):
                inviter = str(creator["id"])
            code = code or (name.split(":", 2)[2] if name.count(":") >= 2 else None)
        if u.get("via_join_request"):
            via = "request"
        elif by != member and not link:
            via, inviter = "added", by
        if inviter == member:
            inviter = None
        out.events.append(
            ev.MemberJoined(
                platform="telegram",
                community=community,
                group=group,
                member=member,
                occurred_at=at,
                member_name=_name(user),
                inviter=inviter,
                via=via,
                invite_code=code,
                member_is_bot=bool(user.get("is_bot")),
                raw=dict(u),
            )
        )
    elif was and not now:
        if new.get("status") == "kicked":
            reason = "banned"
        else:
            reason = "left" if by == member else "removed"
        out.events.append(
            ev.MemberLeft(
                platform="telegram",
                community=community,
                group=group,
                member=member,
                occurred_at=at,
                member_name=_name(user),
                reason=reason,
                by=by if by != member else None,
                raw=dict(u),
            )
        )
    else:
        out.ignored = f"status {old.get('status')} → {new.get('status')}"


def _my_chat_member(u: Mapping[str, Any], out: Parsed) -> None:
    group = str(u["chat"]["id"])
    new = u["new_chat_member"]
    actor = _name(u.get("from") or {})
    if new.get("status") in ("left", "kicked"):
        out.bot_status.append((group, "disabled", f"the bot was removed from the chat by {actor}"))
    elif new.get("status") == "administrator" or _is_member(new):
        out.bot_status.append((group, "active", ""))


def _join_request(r: Mapping[str, Any], community: str, out: Parsed) -> None:
    group, user = str(r["chat"]["id"]), r["from"]
    handle = f"{group}:{user['id']}:{r['date']}"
    answers = {"bio": str(r.get("bio") or "")}
    link = r.get("invite_link") or {}
    if link:
        answers["invite_link"] = str(link.get("name") or link.get("invite_link") or "")
    out.requests.append((group, str(user["id"]), handle))
    out.events.append(
        ev.ApplicationSubmitted(
            platform="telegram",
            community=community,
            group=group,
            member=str(user["id"]),
            occurred_at=_when(r["date"]),
            application_id=handle,
            answers=answers,
            member_name=_name(user),
            raw=dict(r),
        )
    )
