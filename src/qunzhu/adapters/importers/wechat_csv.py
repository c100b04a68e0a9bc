"""WeChat chat exports as CSV, as written by WeChatMsg / 留痕 (MemoTrace).

Columns (by header name, any order): ``localId, TalkerId, Type, SubType, IsSender,
CreateTime, Status, StrContent, StrTime, Remark, NickName, Sender``. Type 1 text, 3 image,
34 voice, 43 video, 47 sticker, 42 contact card, 48 location, 49 app message (SubType 5
link, 6 file, 57 quote, 33/36 mini program, 62 pat, 2000 transfer, 2001 red envelope),
10000 and 10002 system.

System rows become member events (:mod:`wechat_system`). They name people by display
name or by the operator's remark, messages by WeChat id (Sender): a first pass over the
file maps NickName and Remark to ids. A pat (拍一拍) is no message: it is left out.

A quote (49/57) names the message it quotes by time, sender and content, but as WeChat
re-wrote that content inside its XML (escaped, whitespace reflowed): the content is
unescaped and compared with whitespace runs folded, so the link still finds the message.

WeChat's local ids differ between devices, so message ids are made from time, sender,
content and an ordinal: the same message exported from two phones is stored once.
"""

from __future__ import annotations

import csv
import html
import re
from collections.abc import Iterator
from datetime import datetime, tzinfo
from operator import itemgetter
from pathlib import Path

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
from qunzhu.adapters.importers.wechat_system import events as system_events

FORMAT = "wechat-csv"
PLATFORM = "wechat"
REQUIRED = ("Type", "StrContent")
PICKED = ("Type", "SubType", "CreateTime", "StrTime", "StrContent", "NickName", "Sender",
          "IsSender")  # fmt: skip

KINDS = {1: "text", 3: "image", 34: "voice", 43: "video", 47: "sticker", 42: "contact_card",
         48: "location", 50: "other", 10000: "system"}  # fmt: skip
APP_KINDS = {5: "link", 6: "file", 57: "quote", 33: "mini_program", 36: "mini_program",
             2000: "red_envelope", 2001: "red_envelope", 19: "other", 51: "other"}  # fmt: skip

PAT = 62  # appmsg type of 拍一拍: an action on someone, not a message
_REFER = re.compile(r"<refermsg>(.*?)</refermsg>", re.S)
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
_REFER_FIELDS = re.compile(r"<(chatusr|displayname|content|createtime)>(.*?)</\1>", re.S)


def _xml_text(value: str) -> str:
    """An element's text as WeChat writes it: CDATA kept as is, else unescaped once."""
    value = value.strip()
    if value.startswith("<![CDATA[") and value.endswith("]]>"):
        return value[9:-3]
    return html.unescape(value) if "&" in value else value


class _Quotes:
    """Links quotes to what they quote. The quoted content is compared unescaped, and
    with whitespace runs folded for the (few) messages whose text has such runs: the id of
    a message is made from its exact text, which the quote may not carry."""

    def __init__(self, ids: Ordinals) -> None:
        self.ids = ids
        self.spaced: dict[tuple[int, str, str], str] = {}

    def seen(self, stamp: int, sender: str, content: str, message_id: str) -> None:
        """A message whose text has whitespace runs, tabs or newlines."""
        self.spaced[(stamp, sender, " ".join(content.split()))] = message_id

    def link(self, content: str, names: dict[str, str]) -> tuple[str, str | None]:
        """(the quote's own text, the id of the quoted message or None)."""
        refer = _REFER.search(content)
        if refer is None:
            return content, None
        title = _TITLE.search(content, 0, refer.start())
        text = _xml_text(title[1]) if title else ""
        got = dict(_REFER_FIELDS.findall(refer[1]))  # one pass; a refermsg has each tag once
        time, user = got.get("createtime", "").strip(), _xml_text(got.get("chatusr", ""))
        user = user or names.get(_xml_text(got.get("displayname", "")), "")
        if not time.isdigit() or not user:
            return text, None
        folded = " ".join(_xml_text(got.get("content", "")).split())
        found = self.spaced.get((int(time), user, folded))
        if found is None:  # the original's text as the quote carries it, runs folded
            found = self.ids.message_id_for(int(time), user, folded)
        return text, found


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
    """First pass: display name and remark -> WeChat id, and the exporting account's id.

    Plain csv over the decoded text (a bad byte becomes U+FFFD): only names are taken here,
    the second pass reads every record with its line and quarantines what is broken."""
    names: dict[str, str] = {}
    me = ""
    sender_at, is_sender_at = cols.index.get("Sender"), cols.index.get("IsSender")
    # the operator's remark for someone first: system lines use it where one is set
    named_at = [cols.index[c] for c in ("Remark", "NickName") if c in cols.index]
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
            for at in named_at:
                name = fields[at].strip() if at < len(fields) else ""
                if name and name not in names:
                    names[name] = sender
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
    quotes = _Quotes(ids)
    for row in records:
        if not row.fields or row.fields == [""]:
            continue
        if row.undecodable:
            yield Rejected(source, row.line, "not valid text in the file's encoding", _join(row))
            continue
        try:
            got = _record(row, cols, names, me, ids, keys, tz, quotes)
        except (ValueError, ev.EventError) as exc:
            yield Rejected(source, row.line, str(exc), _join(row))
            continue
        if isinstance(got, Posted):
            yield got
        elif got is not None:
            content, when = got
            try:  # all of a row's events or none of them
                found = list(system_events(content, when, names, me, ids, community, group))
            except (ValueError, ev.EventError) as exc:
                yield Rejected(source, row.line, str(exc), _join(row))
                continue
            yield from found


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
    quotes: _Quotes,
) -> Posted | tuple[str, datetime] | None:
    """A message; or, for a system line, its (content, time) for :mod:`wechat_system`;
    None for what is no message (a pat).

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
    if msg_type == 49 and sub_type == PAT:
        return None
    nick = nick.strip()
    sender = sender.strip() or names.get(nick, "")
    if not sender:
        sender = me if is_sender.strip() == "1" else ""
    if not sender:
        raise ValueError("a message without Sender or NickName")
    kind = APP_KINDS.get(sub_type, "other") if msg_type == 49 else KINDS.get(msg_type, "other")
    text, reply_to = content, None
    if kind == "quote":
        text, reply_to = quotes.link(content, names)
    message_id = ids.message_id(stamp, sender, content)
    if msg_type == 1 and (
        "  " in content
        or "\n" in content
        or "\t" in content
        or "\r" in content
        or "\u3000" in content
    ):  # what a quote may carry reflowed (plain ``in``: a regex per message cost 5 %)
        quotes.seen(stamp, sender, content, message_id)
    return new_posted(
        Posted,
        (
            _digest(keys + message_id),  # message_key(PLATFORM, community, group, message_id)
            message_id,
            sender,
            nick,
            when,
            text if kind in ("text", "quote", "link", "file") else text[:2000],
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
