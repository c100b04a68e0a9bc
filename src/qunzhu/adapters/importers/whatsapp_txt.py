"""WhatsApp "Export chat" text (without or with media), Android and iOS layouts::

    12/31/21, 11:59 PM - Alice: text               (Android, month first, 12-hour)
    31/12/2021, 23:59 - Alice: text                (Android, day first)
    [31/12/21, 23:59:59] Alice: text               (iOS)

Day-first or month-first is decided from the file's first 64 KB (a field above 12 tells);
when nothing tells, 12-hour clocks mean month first. Lines without a date continue the
message before. System lines: "X joined using this group's invite link", "X added Y and Z",
"X left", "X removed Y". WhatsApp names people by contact name or phone number only: that
is the member id ("You" is the exporting account, ``me``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from qunzhu import bounds
from qunzhu import events as ev
from qunzhu.adapters.importers.common import (
    CONTROL,
    CONTROL_REASON,
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

FORMAT = "whatsapp-txt"
PLATFORM = "whatsapp"
ME = "me"

_DATE = r"(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4}),?\s(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
_AMPM = r"(?:\s?([AaPp])\.?\s?[Mm]\.?)?"
_ANDROID = re.compile(rf"{_DATE}{_AMPM}\s[-–]\s(.*)$")
_IOS = re.compile(rf"\[{_DATE}{_AMPM}\]\s(.*)$")
_INVISIBLE = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202c\ufeff"))
_JOINED_LINK = re.compile(r"(.+?) joined using this group's invite link$")
_ADDED = re.compile(r"(.+?) added (.+)$")
_REMOVED = re.compile(r"(.+?) removed (.+)$")
_LEFT = re.compile(r"(.+?) left$")
_LIST = re.compile(r",\s*|\s+and\s+")
_DELETED = ("This message was deleted", "You deleted this message")
# iOS posts these as a "message" from the group itself
_NOTICES = ("Messages and calls are end-to-end encrypted", "Messages to this group are now")
MEDIA = {"image omitted": "image", "video omitted": "video", "audio omitted": "voice",
         "sticker omitted": "sticker", "document omitted": "file", "GIF omitted": "video",
         "<Media omitted>": "other", "Contact card omitted": "contact_card"}  # fmt: skip


def _match(line: str) -> re.Match[str] | None:
    return _IOS.match(line) if line.startswith("[") else _ANDROID.match(line)


def sniff(head: bytes | str, filename: str = "") -> bool:
    if isinstance(head, bytes):
        head = head.decode(detect_encoding(head), "replace")
    lines = [x.translate(_INVISIBLE) for x in head.splitlines()[:40] if x.strip()][:20]
    hits = sum(1 for x in lines if _match(x))
    return bool(lines) and hits * 2 > len(lines)


def date_order(head: str) -> str:
    """ "dmy", "mdy" or "ymd", from the dates in the head of the file."""
    day_first = month_first = twelve_hour = False
    for line in head.splitlines():
        found = _match(line.translate(_INVISIBLE))
        if found is None:
            continue
        if len(found[1]) == 4:
            return "ymd"
        a, b = int(found[1]), int(found[2])
        day_first |= a > 12
        month_first |= b > 12
        twelve_hour |= found[7] is not None
    if day_first != month_first:
        return "dmy" if day_first else "mdy"
    return "mdy" if twelve_hour else "dmy"


@dataclass
class _Pending:
    line: int
    when: datetime
    rest: str
    body: list[str] = field(default_factory=list)


def _when(found: re.Match[str], order: str, tz: tzinfo) -> datetime:
    a, b, c = int(found[1]), int(found[2]), int(found[3])
    year, month, day = {"ymd": (a, b, c), "mdy": (c, a, b), "dmy": (c, b, a)}[order]
    if year < 100:
        year += 2000
    hour, minute, second = int(found[4]), int(found[5]), int(found[6] or 0)
    if found[7] is not None:
        if hour > 12:
            raise ValueError(f"hour {hour} with AM/PM")
        hour = hour % 12 + (12 if found[7] in "Pp" else 0)
    return datetime(year, month, day, hour, minute, second, tzinfo=tz)


def rows(
    path: Path,
    *,
    community: str,
    group: str,
    tz: tzinfo,
    progress: ProgressFn | None = None,
) -> Iterator[Row]:
    head = read_head(path)
    encoding = detect_encoding(head)
    order = date_order(head.decode(encoding, "replace"))
    source = str(path)
    ids = Ordinals(PLATFORM, group)
    current: _Pending | None = None
    for number, raw in numbered_lines(path, progress):
        try:
            line = decode_line(raw, encoding).translate(_INVISIBLE)
        except UnicodeDecodeError:
            yield Rejected(source, number, f"not valid {encoding} text", repr(raw[:200]))
            continue
        found = _match(line)
        if found is None and CONTROL.search(line):
            cleaned = CONTROL.sub("", line)
            found = _match(cleaned)
            if found is None:
                shown = ", ".join(sorted({repr(c) for c in CONTROL.findall(line)}))
                yield Rejected(source, number, CONTROL_REASON.format(found=shown), line)
                continue
            line = cleaned
        if found is None:
            if current is not None:
                current.body.append(line)
            elif line.strip():
                yield Rejected(source, number, "text before the first dated line", line)
            continue
        if current is not None:
            try:
                yield from _emit(current, source, ids, community, group)
            except ev.EventError as exc:  # a name too long for an id, say
                yield Rejected(source, current.line, str(exc), current.rest[:4000])
            current = None
        try:
            when = _when(found, order, tz)
            bounds.check_time(when)
        except ValueError as exc:
            yield Rejected(source, number, f"impossible date or time ({order}): {exc}", line)
            continue
        current = _Pending(number, when, found[8])
    if current is not None:
        try:
            yield from _emit(current, source, ids, community, group)
        except ev.EventError as exc:
            yield Rejected(source, current.line, str(exc), current.rest[:4000])


def _member(name: str) -> str:
    name = name.strip()
    return ME if name in ("You", "you") else name


def _emit(p: _Pending, source: str, ids: Ordinals, community: str, group: str) -> Iterator[Row]:
    common: dict[str, Any] = {
        "platform": PLATFORM,
        "community": community,
        "group": group,
        "occurred_at": p.when,
    }
    name, sep, first = p.rest.partition(": ")
    if not sep:
        yield from _system(p.rest.strip(), p.when, ids, common)
        return
    text = "\n".join([first, *p.body]).rstrip()
    if text.startswith(_NOTICES):
        return
    member = _member(name)
    if not member:
        yield Rejected(source, p.line, "a message without a sender name", p.rest[:4000])
        return
    if text in _DELETED:
        key = ids.event_key("recall", p.when, member)
        yield ev.MessageRecalled(member=member, key=key, **common)
        return
    kind = MEDIA.get(text, "text")
    if text.startswith("<attached:"):
        low = text.lower()
        kind = (
            "image" if "photo" in low or low.endswith((".jpg>", ".png>", ".webp>"))
            else "video" if "video" in low
            else "voice" if "audio" in low or ".opus" in low
            else "file"
        )  # fmt: skip
    message_id = ids.message_id(p.when, member, text)
    yield Posted(
        key=message_key(PLATFORM, community, group, message_id),
        message_id=message_id,
        member=member,
        member_name=name.strip(),
        occurred_at=p.when,
        text=text,
        kind=kind,
    )


def _system(text: str, when: datetime, ids: Ordinals, common: dict[str, Any]) -> Iterator[ev.Event]:
    joined = _JOINED_LINK.match(text)
    if joined:
        member = _member(joined[1])
        key = ids.event_key("join", when, member)
        yield ev.MemberJoined(member=member, member_name=joined[1], via="link", key=key, **common)
        return
    for pattern in (_ADDED, _REMOVED):
        found = pattern.match(text)
        if found is None:
            continue
        actor = _member(found[1])
        for name in _LIST.split(found[2]):
            if not name.strip():
                continue
            member = _member(name)
            if pattern is _ADDED:
                key = ids.event_key("join", when, member)
                yield ev.MemberJoined(
                    member=member, member_name=name.strip(), inviter=actor, via="added",
                    key=key, **common,
                )  # fmt: skip
            else:
                key = ids.event_key("leave", when, member)
                yield ev.MemberLeft(
                    member=member, member_name=name.strip(), reason="removed", by=actor,
                    key=key, **common,
                )  # fmt: skip
        return
    left = _LEFT.match(text)
    if left:
        member = _member(left[1])
        key = ids.event_key("leave", when, member)
        yield ev.MemberLeft(member=member, member_name=left[1], key=key, **common)
    # encryption notice, group created, subject/icon/description changed: not member events
