"""QQ message-manager text exports (消息管理器 → 导出为 .txt), UTF-8 or GBK/GB18030.

::

    消息记录（此消息记录为文本格式，不支持重新导入）
    ================================================================
    消息分组:我的QQ群
    ================================================================
    消息对象:某某学习群
    ================================================================

    2019-03-01 20:15:02 小明(123456)
    大家好
    [图片]

    2019-03-01 20:15:40 Alice<alice@example.com>
    hello

A message is its header line (date, time, nick and QQ number in brackets or e-mail in
angle brackets) and the lines up to the next header. ``2019/3/1`` dates work too, and the
12-hour times Windows writes on some locales (``2019-09-23 8:43:38 PM 昵称(12345)``,
``2019-09-23 下午 8:43:38 昵称(12345)``; 12:xx AM is 00:xx). System
messages (``系统消息(10000)``) tell joins, invitations, leaves and removals. QQ text has no
reply links: a message starting with ``@nick`` is taken as a reply to that member's latest
message (marked inferred).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from qunzhu import bounds
from qunzhu import events as ev
from qunzhu.adapters.importers.common import (
    CONTROL,
    Ordinals,
    Posted,
    ProgressFn,
    Rejected,
    Row,
    decode_line,
    detect_encoding,
    message_key,
    numbered_lines,
    read_head,
)

FORMAT = "qq-txt"
PLATFORM = "qq"
SYSTEM_IDS = ("10000", "1000000")
T0 = datetime(1970, 1, 1, tzinfo=UTC)  # the time of a message whose header was refused

# the time as Windows writes it in the user's locale: 24-hour, or 12-hour with AM/PM after
# it (English) or 上午/下午 before it (Chinese)
_HEADER = re.compile(
    r"(\d{4})[-/](\d{1,2})[-/](\d{1,2}) (?:(上午|下午) ?)?(\d{1,2}):(\d{2}):(\d{2})"
    r"(?: (AM|PM|am|pm|上午|下午)(?= ))? (.*?)"
    r"(?:\((\d{4,12})\)|<([^<>@\s]+@[^<>\s]+)>)\s*$"
)
_AFTERNOON = ("PM", "pm", "下午")
_BANNER = ("消息记录", "=====", "消息分组", "消息对象")
_AT = re.compile(r"@(\S{1,32})\s")
_WHO = r"(.+?)(?:\((\d{4,12})\))?"
_INVITED = re.compile(rf"^{_WHO}邀请{_WHO}加入了?本群")
_JOINED = re.compile(rf"^{_WHO}(?:已经|已)?加入了?本群")
_REMOVED = re.compile(rf"^{_WHO}被{_WHO}移出了?本群")
_KICKED = re.compile(rf"^{_WHO}被(?:管理员|群主)移出了?本群")
_LEFT = re.compile(rf"^{_WHO}(?:退出|离开)了?本群")
KINDS = {"[图片]": "image", "[表情]": "sticker", "[语音]": "voice", "[视频]": "video",
         "[文件]": "file", "[红包]": "red_envelope", "[QQ红包]": "red_envelope",
         "[位置]": "location", "[名片]": "contact_card"}  # fmt: skip


def sniff(head: bytes | str, filename: str = "") -> bool:
    if isinstance(head, bytes):
        head = head.decode(detect_encoding(head), "replace")
    lines = [line.strip().lstrip("\ufeff") for line in head.splitlines()[:200]]
    banner = any(line.startswith(("消息记录", "消息对象")) for line in lines[:12])
    headers = sum(1 for line in lines if _HEADER.match(line))
    return headers > 0 and (banner or headers * 4 >= len([x for x in lines if x]))


def sniff_given(head: bytes | str, filename: str = "") -> bool:
    """With ``--format qq-txt`` the file is read if any line of its head is a header."""
    if isinstance(head, bytes):
        head = head.decode(detect_encoding(head), "replace")
    return any(_HEADER.match(line.strip().lstrip("\ufeff")) for line in head.splitlines())


@dataclass
class _Pending:
    line: int
    when: datetime
    nick: str
    member: str
    body: list[str] = field(default_factory=list)
    bad: bool = False
    refused: str = ""  # why the header was refused: the message is one reject


def rows(
    path: Path,
    *,
    community: str,
    group: str,
    tz: tzinfo,
    progress: ProgressFn | None = None,
) -> Iterator[Row]:
    encoding = detect_encoding(read_head(path))
    source = str(path)
    ids = Ordinals(PLATFORM, group)
    names: dict[str, str] = {}  # nick -> QQ number, for @nick and system messages
    latest: dict[str, str] = {}  # member -> latest message id
    current: _Pending | None = None
    in_banner = True
    for number, raw in numbered_lines(path, progress):
        try:
            line = decode_line(raw, encoding)
        except UnicodeDecodeError:
            loose = CONTROL.sub("", raw.decode(encoding, "replace").replace("\ufffd", ""))
            if _HEADER.match(loose):  # a header all the same
                if current is not None:
                    yield from _guarded(current, source, ids, names, latest, community, group)
                refused = f"the header is not valid {encoding} text"
                current = _Pending(number, T0, "", "", refused=refused)
                current.body.append(repr(raw[:200]))
            elif current is not None:
                current.bad = True
            else:
                yield Rejected(source, number, f"not valid {encoding} text", repr(raw[:200]))
            continue
        header = _HEADER.match(line)
        if header is None and CONTROL.search(line):
            # a header spoilt by a control character is still a header, not more text of
            # the message before; other lines are the message's text (NUL removed later)
            header = _HEADER.match(CONTROL.sub("", line))
        if header is None:
            stripped = CONTROL.sub("", line).strip()  # a spoilt banner is still the banner
            if current is not None:
                current.body.append(line)
            elif in_banner and (not stripped or stripped.startswith(_BANNER)):
                continue
            elif stripped:
                yield Rejected(source, number, "text before the first message header", line)
            continue
        in_banner = False
        if current is not None:
            yield from _guarded(current, source, ids, names, latest, community, group)
        nick = header[9].strip()
        try:
            when, nick = _when(header, nick, tz)
            bounds.check_time(when)
        except ValueError as exc:
            # its text lines follow: they go with the header into one reject
            current = _Pending(number, T0, "", "", refused=f"impossible date or time: {exc}")
            current.body.append(line)
            continue
        member = header[10] or header[11]
        current = _Pending(number, when, nick, member)
    if current is not None:
        yield from _guarded(current, source, ids, names, latest, community, group)


def _when(header: re.Match[str], nick: str, tz: tzinfo) -> tuple[datetime, str]:
    """The header's time, and the nick (an "AM"/"PM" after a 24-hour time is the nick's)."""
    y, mo, d, h, mi, s = (int(header[i]) for i in (1, 2, 3, 5, 6, 7))
    marker = header[4] or header[8]
    if header[8] and not header[4] and not 1 <= h <= 12:
        marker, nick = None, f"{header[8]} {nick}".strip()
    if marker:
        if h > 12:
            raise ValueError(f"hour {h} with {marker}")
        h = h % 12 + (12 if marker in _AFTERNOON else 0)  # 12:xx AM is 00:xx
    return datetime(y, mo, d, h, mi, s, tzinfo=tz), nick


def _guarded(
    p: _Pending,
    source: str,
    ids: Ordinals,
    names: dict[str, str],
    latest: dict[str, str],
    community: str,
    group: str,
) -> Iterator[Row]:
    """The rows of one message, or its reject when an event of it is out of bounds."""
    try:
        yield from _emit(p, source, ids, names, latest, community, group)
    except ev.EventError as exc:
        yield Rejected(source, p.line, str(exc), "\n".join(p.body)[:4000])


def _emit(
    p: _Pending,
    source: str,
    ids: Ordinals,
    names: dict[str, str],
    latest: dict[str, str],
    community: str,
    group: str,
) -> Iterator[Row]:
    while p.body and not p.body[-1].strip():
        p.body.pop()
    text = "\n".join(p.body)
    if p.refused:
        yield Rejected(source, p.line, p.refused, text[:4000])
        return
    if p.bad:
        yield Rejected(source, p.line, "a line of this message is not valid text", text[:4000])
        return
    common: dict[str, Any] = {
        "platform": PLATFORM,
        "community": community,
        "group": group,
        "occurred_at": p.when,
    }
    slot = p.when
    if p.member in SYSTEM_IDS:
        yield from _system(text, slot, ids, names, common)
        return
    if p.nick:
        names[p.nick] = p.member
    message_id = ids.message_id(slot, p.member, text)
    reply_to = None
    addressed = _AT.match(text + " ")
    if addressed is not None:
        target = names.get(addressed[1])
        if target and target != p.member:
            reply_to = latest.get(target)
    latest[p.member] = message_id
    yield Posted(
        key=message_key(PLATFORM, community, group, message_id),
        message_id=message_id,
        member=p.member,
        member_name=p.nick,
        occurred_at=p.when,
        text=text,
        kind=KINDS.get(text.strip(), "text"),
        reply_to=reply_to,
        reply_inferred=reply_to is not None,
    )


def _who(match: re.Match[str], at: int, names: dict[str, str]) -> tuple[str, str]:
    name = match[at].strip()
    number = match[at + 1]
    return number or names.get(name, f"name:{name}"), name


def _system(
    text: str, slot: object, ids: Ordinals, names: dict[str, str], common: dict[str, Any]
) -> Iterator[ev.Event]:
    text = text.strip()
    invited = _INVITED.match(text)
    if invited:
        inviter, _ = _who(invited, 1, names)
        member, name = _who(invited, 3, names)
        key = ids.event_key("join", slot, name)
        yield ev.MemberJoined(
            member=member, member_name=name, inviter=inviter, via="invite", key=key, **common
        )
        return
    removed = _REMOVED.match(text)
    kicked = None if removed else _KICKED.match(text)
    if removed or kicked:
        found = removed or kicked
        assert found is not None
        member, name = _who(found, 1, names)
        by = (
            _who(removed, 3, names)[0] if removed and removed[3] not in ("管理员", "群主") else None
        )
        key = ids.event_key("leave", slot, name)
        yield ev.MemberLeft(
            member=member, member_name=name, reason="removed", by=by, key=key, **common
        )
        return
    joined = _JOINED.match(text)
    if joined:
        member, name = _who(joined, 1, names)
        key = ids.event_key("join", slot, name)
        yield ev.MemberJoined(member=member, member_name=name, via="unknown", key=key, **common)
        return
    left = _LEFT.match(text)
    if left:
        member, name = _who(left, 1, names)
        key = ids.event_key("leave", slot, name)
        yield ev.MemberLeft(member=member, member_name=name, key=key, **common)
