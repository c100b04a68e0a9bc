"""WeChat chat exports as CSV, as written by WeChatMsg / 留痕 (MemoTrace).

Columns (by header name, any order): ``localId, TalkerId, Type, SubType, IsSender,
CreateTime, StrTime, StrContent, NickName, Sender``. Type 1 text, 3 image, 34 voice,
43 video, 47 sticker, 42 contact card, 48 location, 49 app message (SubType 5 link, 6 file,
57 quote, 33/36 mini program, 2000 transfer, 2001 red envelope), 10000 system.

System lines become member events: "X邀请Y、Z加入了群聊" (joins with inviter),
"Y通过扫描X分享的二维码加入群聊" (join by QR with inviter), "X将Y移出了群聊" (removal),
"Y退出了群聊" (left), "X撤回了一条消息" (recall). Those lines name people by display
name, messages by WeChat id (Sender): a first pass over the file maps names to ids.

WeChat's local ids differ between devices, so message ids are made from time, sender,
content and an ordinal: the same message exported from two phones is stored once.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from operator import itemgetter
from pathlib import Path
from typing import Any

from qunzhu import bounds
from qunzhu import events as ev
from qunzhu.adapters.importers.common import (
    ImportFormatError,
    Ordinals,
    Posted,
    ProgressFn,
    Rejected,
    _digest,
    detect_encoding,
    local,
    message_key_prefix,
    new_posted,
    read_head,
)
from qunzhu.adapters.importers.common import Row as Item
from qunzhu.adapters.importers.csvrows import Row, csv_rows

FORMAT = "wechat-csv"
PLATFORM = "wechat"
REQUIRED = ("Type", "StrContent")
PICKED = ("Type", "SubType", "CreateTime", "StrTime", "StrContent", "NickName", "Sender",
          "IsSender")  # fmt: skip
ME = "你"  # how system lines name the account that exported the chat

KINDS = {1: "text", 3: "image", 34: "voice", 43: "video", 47: "sticker", 42: "contact_card",
         48: "location", 50: "other", 10000: "system"}  # fmt: skip
APP_KINDS = {5: "link", 6: "file", 57: "quote", 33: "mini_program", 36: "mini_program",
             2000: "red_envelope", 2001: "red_envelope", 19: "other", 51: "other"}  # fmt: skip

_NAME = r"[\"“”「」]?(.+?)[\"“”「」]?"
_INVITED = re.compile(rf"^{_NAME}邀请{_NAME}(?:加入|进入)了?群聊")
_SCANNED = re.compile(rf"^{_NAME}通过扫描{_NAME}分享的二维码加入群聊")
_REMOVED = re.compile(rf"^{_NAME}将{_NAME}移出了?群聊")
_LEFT = re.compile(rf"^{_NAME}(?:退出|已退出)了?群聊")
_RECALLED = re.compile(rf"^{_NAME}\s*撤回了一条消息")
_RENAMED = re.compile(rf"^{_NAME}修改群名为{_NAME}$")
_APP_TITLE = re.compile(r"<appmsg\b.*?<title>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</title>", re.S)
_APP_URL = re.compile(r"<appmsg\b.*?<url>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</url>", re.S)
_SEPARATORS = re.compile(r"[、，,]")
_REFER = re.compile(
    r"<title>(?P<title>.*?)</title>.*?<refermsg>.*?<chatusr>(?P<user>.*?)</chatusr>.*?"
    r"<content>(?P<content>.*?)</content>.*?<createtime>(?P<time>\d+)</createtime>",
    re.S,
)


def sniff(head: bytes | str, filename: str = "") -> bool:
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return "StrContent" in first and "," in first  # the column 留痕 and WeChatMsg share


class _Columns:
    def __init__(self, path: Path, header: list[str]) -> None:
        index = {name.strip(): i for i, name in enumerate(header)}
        missing = [c for c in REQUIRED if c not in index]
        if "CreateTime" not in index and "StrTime" not in index:
            missing.append("CreateTime or StrTime")
        if missing:
            raise ImportFormatError(path, f"WeChat CSV without column(s) {', '.join(missing)}")
        self.index = index
        self.width = len(header)
        # the columns a record is read from, in one C call; an absent column reads the ""
        # that :meth:`pick` appends past the last field
        self._pick = itemgetter(*(index.get(name, self.width) for name in PICKED))

    def pick(self, fields: list[str]) -> tuple[str, ...]:
        """The PICKED columns of a record at least as wide as the header."""
        fields.append("")
        picked: tuple[str, ...] = self._pick(fields)
        return picked


def _names(path: Path, cols: _Columns) -> tuple[dict[str, str], str]:
    """First pass: display name -> WeChat id, and the id of the exporting account.

    Plain csv over the decoded text (a bad byte becomes U+FFFD): only names are taken here,
    the second pass reads every record with its line and quarantines what is broken."""
    names: dict[str, str] = {}
    me = ""
    sender_at, nick_at, is_sender_at = (cols.index.get(c) for c in ("Sender", "NickName",
                                                                    "IsSender"))  # fmt: skip
    if sender_at is None:
        return names, "me"
    encoding = detect_encoding(read_head(path))
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, strict=False)
        next(reader, None)
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error:
                continue
            if len(fields) <= sender_at:
                continue
            sender = fields[sender_at].strip()
            if not sender:
                continue
            if nick_at is not None and nick_at < len(fields):
                nick = fields[nick_at].strip()
                if nick and nick not in names:
                    names[nick] = sender
            if not me and is_sender_at is not None and is_sender_at < len(fields):
                me = sender if fields[is_sender_at].strip() == "1" else ""
    return names, me or "me"


def rows(
    path: Path,
    *,
    community: str,
    group: str,
    tz: tzinfo,
    progress: ProgressFn | None = None,
) -> Iterator[Item]:
    records = csv_rows(path, progress)
    header = next(records, None)
    if header is None:
        raise ImportFormatError(path, "the file is empty")
    cols = _Columns(path, header.fields)
    names, me = _names(path, cols)
    ids = Ordinals(PLATFORM, group)
    keys = message_key_prefix(PLATFORM, community, group)
    source = str(path)
    for row in records:
        if not row.fields or row.fields == [""]:
            continue
        if row.undecodable:
            yield Rejected(source, row.line, "not valid text in the file's encoding", _join(row))
            continue
        try:
            got = _record(row, cols, names, me, ids, keys, tz)
        except (ValueError, ev.EventError) as exc:
            yield Rejected(source, row.line, str(exc), _join(row))
            continue
        if isinstance(got, Posted):
            yield got
        else:
            content, when = got
            try:
                yield from _system(content, when, names, me, ids, community, group)
            except (ValueError, ev.EventError) as exc:
                yield Rejected(source, row.line, str(exc), _join(row))


def _join(row: Row) -> str:
    return ",".join(row.fields)[:4000]


def _when(create_time: str, str_time: str, tz: tzinfo) -> tuple[datetime, int]:
    """The time of a record and its Unix second."""
    stamp = create_time.strip()
    if stamp:
        try:
            value = int(stamp)
        except ValueError:
            raise ValueError(f"CreateTime is not a Unix time: {stamp!r}") from None
        if value > 10**11:  # milliseconds
            value //= 1000
        return bounds.time_from_unix(value), value
    text = str_time.strip()
    try:
        when = local(datetime.strptime(text, "%Y-%m-%d %H:%M:%S"), tz)
    except ValueError:
        raise ValueError(f"StrTime is not YYYY-MM-DD HH:MM:SS: {text!r}") from None
    return when, int(when.timestamp())


def _record(
    row: Row,
    cols: _Columns,
    names: dict[str, str],
    me: str,
    ids: Ordinals,
    keys: str,
    tz: tzinfo,
) -> Posted | tuple[str, datetime]:
    """A message; or, for a system line, its (content, time) for :func:`_system`.

    A function rather than a generator of the record's items: a generator object per
    record of a file of millions cost more than reading most of them."""
    if len(row.fields) < cols.width:
        raise ValueError(f"{len(row.fields)} fields where the header has {cols.width}")
    type_text, sub_text, create_time, str_time, content, nick, sender, is_sender = cols.pick(
        row.fields
    )
    try:
        msg_type = int(type_text)
        sub_type = int(sub_text) if sub_text.strip() else 0
    except ValueError:
        raise ValueError(f"Type/SubType not a number: {type_text.strip()!r}") from None
    when, stamp = _when(create_time, str_time, tz)
    content = content.strip()
    if msg_type in (10000, 10002):
        return content, when
    nick = nick.strip()
    sender = sender.strip() or names.get(nick, "")
    if not sender:
        sender = me if is_sender.strip() == "1" else ""
    if not sender:
        raise ValueError("a message without Sender or NickName")
    kind = APP_KINDS.get(sub_type, "other") if msg_type == 49 else KINDS.get(msg_type, "other")
    text = content if msg_type == 1 else content_text(msg_type, kind, content)
    reply_to = None
    if kind == "quote":
        refer = _REFER.search(content)
        if refer is not None:
            text = refer["title"]
            # the quoted message's id, made the way its own row made it: time, sender, content
            reply_to = ids.message_id_for(int(refer["time"]), refer["user"], refer["content"])
    message_id = ids.message_id(stamp, sender, content)
    return new_posted(
        Posted,
        (
            _digest(keys + message_id),  # message_key(PLATFORM, community, group, message_id)
            message_id,
            sender,
            nick,
            when,
            text,
            kind,
            reply_to,
            False,
            (),
            0,
            False,
            None,
            None,
        ),
    )


def content_text(msg_type: int, kind: str, content: str) -> str:
    """The words of a message that is not plain text, as live and import both read them: an
    app message's title (a link's with its URL) where the content is its XML; nothing for
    pictures, voice, stickers and the like, whose content describes a file (its words
    would count as what the member wrote)."""
    if msg_type != 49:
        return content if kind == "text" else ""
    if "<appmsg" not in content:  # an export that wrote the words out itself
        return content[:2000]
    title = _APP_TITLE.search(content)
    text = title[1] if title else ""
    url = _APP_URL.search(content) if kind == "link" else None
    return f"{text} {url[1]}".strip() if url else text


def _who(name: str, names: dict[str, str], me: str) -> tuple[str, str]:
    """(member id, display name) of a name in a system line."""
    name = name.strip().strip('"“”「」')
    if name == ME:
        return me, ""
    return names.get(name, f"name:{name}"), name


@dataclass(frozen=True, slots=True)
class SystemLine:
    """What a WeChat system line says about members, by display name: ``kind`` is join,
    removed, left, recall or rename; ``by`` the inviter, remover or renamer; ``names`` who
    joined, was removed, left or recalled; ``via`` invite or qr; ``title`` a new group name.

    The live WeChatFerry connector reads its system messages with this too, so a group seen
    live and the same group imported from its export say the same."""

    kind: str
    by: str = ""
    names: tuple[str, ...] = ()
    via: str = ""
    title: str = ""


def _bare(name: str) -> str:
    return name.strip().strip('"“”「」')


def system_line(content: str) -> SystemLine | None:
    """The member event a system line holds, or None for other lines (privacy notes, pats)."""
    text = content.strip()
    invited = _INVITED.match(text)
    scanned = None if invited else _SCANNED.match(text)
    if invited:
        names = tuple(_bare(n) for n in _SEPARATORS.split(invited[2]))
        return SystemLine("join", _bare(invited[1]), names, "invite")
    if scanned:
        names = tuple(_bare(n) for n in _SEPARATORS.split(scanned[1]))
        return SystemLine("join", _bare(scanned[2]), names, "qr")
    removed = _REMOVED.match(text)
    if removed:
        names = tuple(_bare(n) for n in _SEPARATORS.split(removed[2]))
        return SystemLine("removed", _bare(removed[1]), names)
    left = _LEFT.match(text)
    if left:
        return SystemLine("left", names=(_bare(left[1]),))
    recalled = _RECALLED.match(text)
    if recalled:
        return SystemLine("recall", names=(_bare(recalled[1]),))
    renamed = _RENAMED.match(text)
    if renamed:
        return SystemLine("rename", _bare(renamed[1]), title=_bare(renamed[2]))
    return None


def _system(
    content: str,
    when: datetime,
    names: dict[str, str],
    me: str,
    ids: Ordinals,
    community: str,
    group: str,
) -> Iterator[ev.Event]:
    line = system_line(content)
    if line is None or line.kind == "rename":  # a renamed group is not a member event
        return
    common: dict[str, Any] = {
        "platform": PLATFORM,
        "community": community,
        "group": group,
        "occurred_at": when,
        "raw": content,
    }
    stamp = int(when.timestamp())
    by = _who(line.by, names, me)[0] if line.by else None
    for one in line.names:
        member, name = _who(one, names, me)
        if line.kind == "join":
            key = ids.event_key("join", stamp, member)
            yield ev.MemberJoined(
                member=member, member_name=name, inviter=by, via=line.via, key=key, **common
            )
        elif line.kind == "removed":
            key = ids.event_key("leave", stamp, member)
            yield ev.MemberLeft(
                member=member, member_name=name, reason="removed", by=by, key=key, **common
            )
        elif line.kind == "left":
            key = ids.event_key("leave", stamp, member)
            yield ev.MemberLeft(member=member, member_name=name, key=key, **common)
        else:
            key = ids.event_key("recall", stamp, member)
            yield ev.MessageRecalled(member=member, key=key, **common)
