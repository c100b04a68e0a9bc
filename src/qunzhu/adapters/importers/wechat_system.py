"""WeChat system rows (Type 10000 and 10002) of a WeChatMsg / 留痕 CSV → member events.

Plain lines: "X邀请Y、Z加入了群聊" (joins with inviter), "Y通过扫描X分享的二维码加入群聊"
(join by QR with inviter), "X将Y移出了群聊" (removal), "Y退出了群聊" (left), "X撤回了一条消息"
(recall). They name people by display name or by the exporting operator's remark for them;
``names`` maps both to WeChat ids (built from the file's NickName, Remark and Sender).

XML payloads (``<sysmsg type="...">``, sometimes after a "wxid:\\n" prefix or inside
CDATA): ``revokemsg`` is a recall (who, from its ``replacemsg``), ``sysmsgtemplate`` with a
join or removal template is read with the wxids of its ``link_list`` (``$username$``,
``$names$``, ``$adder$``, ``$from$``, ``$kickoutname$``), ``pat`` (拍一拍) and other types
are left out of activity. XML that does not parse raises ValueError (the row is quarantined);
no text with markup (a tag, CDATA) in it ever becomes a member's name.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from qunzhu import events as ev
from qunzhu.adapters.importers.common import Ordinals

PLATFORM = "wechat"
ME = "你"  # how system lines name the account that exported the chat

_NAME = r"[\"“”「」]?(.+?)[\"“”「」]?"
_INVITED = re.compile(rf"^{_NAME}邀请{_NAME}(?:加入|进入)了?群聊")
_SCANNED = re.compile(rf"^{_NAME}通过扫描{_NAME}分享的二维码加入群聊")
_REMOVED = re.compile(rf"^{_NAME}将{_NAME}移出了?群聊")
_LEFT = re.compile(rf"^{_NAME}(?:退出|已退出)了?群聊")
_RECALLED = re.compile(rf"^{_NAME}\s*(?:撤回了一条消息|has recalled a message)")
_SEPARATORS = re.compile(r"[、，,]")
_PREFIX = re.compile(r"^[\w@.\-]{1,80}:\s*\n(?=\s*<)")  # "wxid_x:\n<sysmsg ..." in group rows
_CDATA = re.compile(r"^<!\[CDATA\[(.*)\]\]>$", re.S)
# sysmsgtemplate templates, placeholders as $name$ (WeChat's own wording)
_T_INVITE = re.compile(
    r'^(?:"\$(\w+)\$"|你|You)(?:邀请| invited )(.+?)(?:加入了群聊| to (?:the )?group chat)'
)
_T_QR = re.compile(
    r'^(?:"\$(\w+)\$"|你)通过(?:扫描)?"\$(\w+)\$"(?:分享|的邀请)的?二维码加入群聊'
    r'|^"\$(\w+)\$" joined (?:the )?group chat via (?:the )?QR code shared by "\$(\w+)\$"'
)
_T_JOINED = re.compile(r'^"\$(\w+)\$"(?:加入了群聊| joined (?:the )?group chat)')
_T_REMOVED = re.compile(
    r'^(?:"\$(\w+)\$"|你|You)(?:将| removed )(.+?)(?:移出了?群聊| from (?:the )?group chat)'
)
_PLACEHOLDER = re.compile(r"\$(\w+)\$")
_MARKUP = re.compile(r"<[/!?A-Za-z]|\]\]>")  # a tag, CDATA: not in a name ("A<3" may be)

Person = tuple[str, str]  # (member id, display name)


def who(name: str, names: dict[str, str], me: str) -> Person:
    """(member id, display name) of a name in a system line."""
    name = name.strip().strip('"“”「」')
    if name == ME:
        return me, ""
    found = names.get(name)
    if found is not None:  # a known nickname, "<3" and all
        return found, name
    if not name or _MARKUP.search(name):
        raise ValueError(f"a system line naming no person: {name[:80]!r}")
    return f"name:{name}", name


def events(
    content: str,
    when: datetime,
    names: dict[str, str],
    me: str,
    ids: Ordinals,
    community: str,
    group: str,
) -> Iterator[ev.Event]:
    common: dict[str, Any] = {
        "platform": PLATFORM,
        "community": community,
        "group": group,
        "occurred_at": when,
        "raw": content,
    }
    stamp = int(when.timestamp())
    text = _PREFIX.sub("", content.strip(), count=1)
    cdata = _CDATA.match(text)
    if cdata:
        text = cdata[1].strip()
    if text.startswith("<"):
        yield from _from_xml(text, names, me, ids, stamp, common)
        return
    invited = _INVITED.match(text)
    scanned = None if invited else _SCANNED.match(text)
    if invited or scanned:
        if invited:
            inviter_name, invitees, via = invited[1], invited[2], "invite"
        else:
            assert scanned is not None
            invitees, inviter_name, via = scanned[1], scanned[2], "qr"
        inviter = who(inviter_name, names, me)[0]
        joined = [who(one, names, me) for one in _SEPARATORS.split(invitees)]
        yield from _joins(joined, inviter, via, ids, stamp, common)
        return
    removed = _REMOVED.match(text)
    if removed:
        by = who(removed[1], names, me)[0]
        gone = [who(one, names, me) for one in _SEPARATORS.split(removed[2])]
        yield from _removals(gone, by, ids, stamp, common)
        return
    left = _LEFT.match(text)
    if left:
        member, name = who(left[1], names, me)
        key = ids.event_key("leave", stamp, member)
        yield ev.MemberLeft(member=member, member_name=name, key=key, **common)
        return
    recalled = _RECALLED.match(text)
    if recalled:
        yield _recall(who(recalled[1], names, me)[0], ids, stamp, common)
    # other system lines (group renamed, privacy notices, pats) are not member events


def _joins(
    joined: list[Person], inviter: str | None, via: str, ids: Ordinals, stamp: int, common: Any
) -> Iterator[ev.Event]:
    for member, name in joined:
        key = ids.event_key("join", stamp, member)
        yield ev.MemberJoined(
            member=member, member_name=name, inviter=inviter, via=via, key=key, **common
        )


def _removals(
    gone: list[Person], by: str, ids: Ordinals, stamp: int, common: Any
) -> Iterator[ev.Event]:
    for member, name in gone:
        key = ids.event_key("leave", stamp, member)
        yield ev.MemberLeft(
            member=member, member_name=name, reason="removed", by=by, key=key, **common
        )


def _recall(member: str, ids: Ordinals, stamp: int, common: Any) -> ev.Event:
    return ev.MessageRecalled(member=member, key=ids.event_key("recall", stamp, member), **common)


def _parse(text: str) -> ET.Element:
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ValueError("system XML with a DOCTYPE or ENTITY is not read")
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"system XML does not parse: {exc}") from None


def _from_xml(
    text: str, names: dict[str, str], me: str, ids: Ordinals, stamp: int, common: Any
) -> Iterator[ev.Event]:
    root = _parse(text)
    kind = root.get("type", "") if root.tag == "sysmsg" else root.tag
    if kind == "revokemsg":
        said = " ".join(
            (root.findtext(".//replacemsg") or root.findtext(".//content") or "").split()
            if root.tag == "sysmsg"
            else (root.text or "").split()
        )
        recalled = _RECALLED.match(said)
        if recalled is None:
            raise ValueError(f"a recall that does not say who recalled: {said[:80]!r}")
        yield _recall(who(recalled[1], names, me)[0], ids, stamp, common)
    elif kind == "sysmsgtemplate":
        yield from _template(root, names, me, ids, stamp, common)
    # pat (拍一拍), tips, group notices, verification settings: not activity, not members


def _links(root: ET.Element, names: dict[str, str]) -> dict[str, list[Person]]:
    """Each link's members as (wxid, nickname); a nickname without a wxid is looked up."""
    out: dict[str, list[Person]] = {}
    for link in root.iter("link"):
        people: list[Person] = []
        for member in link.iter("member"):
            wxid = (member.findtext("username") or "").strip()
            nick = (member.findtext("nickname") or "").strip()
            if wxid and nick:
                names.setdefault(nick, wxid)  # later plain lines may name them so
            if not wxid and not nick:
                continue
            if _MARKUP.search(wxid) or _MARKUP.search(nick):
                raise ValueError(f"markup in a member of link {link.get('name')!r}")
            people.append((wxid or names.get(nick, f"name:{nick}"), nick))
        out[link.get("name", "")] = people
    return out


def _template(
    root: ET.Element, names: dict[str, str], me: str, ids: Ordinals, stamp: int, common: Any
) -> Iterator[ev.Event]:
    template = " ".join((root.findtext(".//template") or "").split())
    if not template:
        raise ValueError("a sysmsgtemplate without a template")
    links = _links(root, names)

    def people(placeholder: str | None) -> list[Person]:
        if placeholder is None:
            return [(me, "")]
        found = links.get(placeholder)
        if not found:
            raise ValueError(f"template {template[:60]!r} names ${placeholder}$ with no members")
        return found

    def named(part: str) -> list[Person]:
        found = [p for name in _PLACEHOLDER.findall(part) for p in people(name)]
        rest = _PLACEHOLDER.sub("", part)
        return [*found, (me, "")] if ME in rest or "you" in rest.lower() else found

    if m := _T_QR.match(template):
        adder, shared_by = (m[1], m[2]) if m[2] else (m[3], m[4])
        yield from _joins(people(adder), people(shared_by)[0][0], "qr", ids, stamp, common)
    elif m := _T_INVITE.match(template):
        yield from _joins(named(m[2]), people(m[1])[0][0], "invite", ids, stamp, common)
    elif m := _T_JOINED.match(template):
        yield from _joins(people(m[1]), None, "unknown", ids, stamp, common)
    elif m := _T_REMOVED.match(template):
        yield from _removals(named(m[2]), people(m[1])[0][0], ids, stamp, common)
    # other templates (renamed the group, became owner, 企业微信 notices): not member events


# the system lines as live WeChat bridges pass them on (OneBot 12, WeChatFerry): read with the
# same patterns as an export, so live and import agree on who joined, left or was removed
INVITED, SCANNED, REMOVED, LEFT, SEPARATORS = _INVITED, _SCANNED, _REMOVED, _LEFT, _SEPARATORS
