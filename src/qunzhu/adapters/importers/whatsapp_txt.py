"""WhatsApp "Export chat" text (without or with media), Android and iOS, in any locale::

    12/31/21, 11:59 PM - Alice: text               (Android, month first, 12-hour)
    31/12/2021, 23:59 - Alice: text                (Android, day first)
    [31/12/21, 23:59:59] Alice: text               (iOS)

(the header shapes: :mod:`.whatsapp_lines`). Whether days or months come first is decided
from the whole file (:mod:`.whatsapp_dates`), or given (``--date-order``); the import
summary says which and why. Lines without a header continue the message before. Joins,
adds, leaves and removals in English, German, Spanish, French and Chinese become member
events; notices never make a member; attachments in any language are media
(:mod:`.whatsapp_words`). WhatsApp names people by contact name or phone number only: that
is the member id ("You" is the exporting account, ``me``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from qunzhu import bounds
from qunzhu import events as ev
from qunzhu.adapters.importers import whatsapp_words as words
from qunzhu.adapters.importers.common import (
    CONTROL,
    CONTROL_REASON,
    ImportFormatError,
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
from qunzhu.adapters.importers.whatsapp_dates import Decision, Evidence, Undecided, decide
from qunzhu.adapters.importers.whatsapp_lines import INVISIBLE, LRM, PROBE, Header, header
from qunzhu.adapters.importers.whatsapp_system import system_events

FORMAT = "whatsapp-txt"
PLATFORM = "whatsapp"
ME = "me"
DATE_ORDERS = ("dmy", "mdy", "ymd")
_IRC = ("<", "* ", "*** ", "-!- ", "--> ", "<-- ", "=== ")
_QUOTES = '"“”„«»「'


def _headers(head: bytes | str) -> tuple[list[str], list[Header | None]]:
    if isinstance(head, bytes):
        cut = head.rfind(b"\n")  # a line cut by the end of the head is no evidence
        head = head[: cut + 1 if cut > 0 else None]
        head = head.decode(detect_encoding(head), "replace")
    lines = [x for x in head.lstrip("\ufeff").splitlines() if x.strip(" \t\u200e\ufeff")]
    return lines, [header(x.translate(PROBE)) for x in lines]


def sniff(head: bytes | str, filename: str = "") -> bool:
    """A WhatsApp export starts with a dated line, and most of its dated lines share one
    shape; the lines between are message bodies (a long rules post is one message)."""
    lines, found = _headers(head)
    if not any(found[:5]):
        return False
    dated = [h for h in found if h is not None]
    if sum(h.rest.startswith(_IRC) for h in dated) * 2 > len(dated):
        return False  # "[2024-01-01 10:00:00] <nick> hi": a dated IRC log
    shapes = [h.shape for h in dated]
    top = max(shapes.count(s) for s in set(shapes))
    if found[0] is not None:  # an export begins with a dated line (however long its text)
        return top * 2 >= len(shapes)
    return top >= min(3, len(lines)) and top * 2 >= len(shapes)


def sniff_given(head: bytes | str, filename: str = "") -> bool:
    """With ``--format whatsapp-txt`` the file is read if any line of its head is dated."""
    return any(_headers(head)[1])


def decision(path: Path, date_order: str | None = None) -> Decision:
    """The date order and header shape of ``path``, from all its dated lines."""
    encoding = detect_encoding(read_head(path))
    found: dict[tuple[object, ...], Evidence] = {}
    for number, raw in numbered_lines(path, None):
        try:
            h = header(_probe(decode_line(raw, encoding)))
        except UnicodeDecodeError:
            continue
        if h is None:
            continue
        named = words.FILE_DATE.search(h.rest) if "-20" in h.rest else None
        evidence = found.setdefault(h.shape, Evidence())
        evidence.see(h, None if named is None else (int(named[1]), int(named[2]), int(named[3])))
        if evidence.headers % 1000 == 0 and evidence.overwhelming():
            evidence.read_until = number
            break
        if ": " not in h.rest or h.rest.partition(": ")[2].startswith(LRM):
            language = _language(h.rest)
            if language:
                evidence.languages[language] += 1
    try:
        return decide(found, date_order)
    except Undecided as exc:
        raise ImportFormatError(path, str(exc)) from None


def _probe(line: str) -> str:
    # most lines of most exports are ASCII: nothing to translate (the hot path)
    return line if line.isascii() else line.translate(PROBE)


def _plain(text: str) -> str:
    return text if text.isascii() else text.translate(INVISIBLE)


def _language(rest: str) -> str | None:
    text = rest.translate(INVISIBLE)
    body = text.partition(": ")[2] or text
    found = words.notice_language(body)
    if found:
        return found
    for language in words.LANGUAGES:
        if any(p.match(text) for p in (language.joined, language.left, language.added)):
            return language.code
    return None


@dataclass
class _Pending:
    line: int
    when: datetime
    rest: str
    body: list[str] = field(default_factory=list)


def _when(h: Header, order: str, tz: tzinfo) -> datetime:
    a, b, c = h.first, h.second, h.third
    year, month, day = {"ymd": (a, b, c), "mdy": (c, a, b), "dmy": (c, b, a)}[order]
    if year < 100:
        year += 2000
    hour = h.hour
    if h.meridiem:
        if hour > 12:
            raise ValueError(f"hour {hour} with AM/PM")
        hour = hour % 12 + (12 if h.meridiem == "p" else 0)
    return datetime(year, month, day, hour, h.minute, h.second_of_minute, tzinfo=tz)


def rows(
    path: Path,
    *,
    community: str,
    group: str,
    tz: tzinfo,
    progress: ProgressFn | None = None,
    decided: Decision | None = None,
) -> Iterator[Row]:
    encoding = detect_encoding(read_head(path))
    chosen = decided or decision(path)
    order, shape = chosen.order, chosen.shape
    source = str(path)
    ids = Ordinals(PLATFORM, group)
    current: _Pending | None = None
    for number, raw in numbered_lines(path, progress):
        try:
            line = decode_line(raw, encoding)
        except UnicodeDecodeError:
            yield Rejected(source, number, f"not valid {encoding} text", repr(raw[:200]))
            continue
        found = header(_probe(line))
        if found is None and CONTROL.search(line):
            cleaned = CONTROL.sub("", line)
            found = header(cleaned.translate(PROBE))
            if found is None:
                shown = ", ".join(sorted({repr(c) for c in CONTROL.findall(line)}))
                yield Rejected(source, number, CONTROL_REASON.format(found=shown), line)
                continue
        if found is not None and shape is not None and found.shape != shape:
            found = None  # a date at the start of a message's own line
        if found is None:
            if current is not None:
                current.body.append(_plain(line))
            elif line.strip(" \t\u200e"):
                yield Rejected(source, number, "text before the first dated line", line)
            continue
        if current is not None:
            yield from _guarded(current, source, ids, community, group)
            current = None
        try:
            when = _when(found, order, tz)
            bounds.check_time(when)
        except ValueError as exc:
            yield Rejected(source, number, f"impossible date or time ({order}): {exc}", line)
            continue
        current = _Pending(number, when, found.rest)
    if current is not None:
        yield from _guarded(current, source, ids, community, group)


def _guarded(p: _Pending, source: str, ids: Ordinals, community: str, group: str) -> Iterator[Row]:
    try:
        yield from _emit(p, source, ids, community, group)
    except ev.EventError as exc:  # a name too long for an id, say
        yield Rejected(source, p.line, str(exc), p.rest[:4000])


def _emit(p: _Pending, source: str, ids: Ordinals, community: str, group: str) -> Iterator[Row]:
    common: dict[str, Any] = {
        "platform": PLATFORM,
        "community": community,
        "group": group,
        "occurred_at": p.when,
    }
    name, sep, first = p.rest.partition(": ")
    name = _plain(name).strip()
    if not sep or any(q in name for q in _QUOTES) or p.rest.startswith(LRM):
        # no sender: a system line (iOS marks them with LRM), never a member's message; a
        # colon inside a quoted group subject is no sender's
        yield from system_events(p.rest.translate(INVISIBLE).strip(), p.when, ids, common)
        return
    if not name:
        yield Rejected(source, p.line, "a message without a sender name", p.rest[:4000])
        return
    marked = first.startswith(LRM)  # iOS: what WhatsApp wrote, not the sender
    text = "\n".join([_plain(first), *p.body]).rstrip()
    kind = words.media_kind(text) if len(text) < 300 else None
    deleted = text.lower().rstrip(".") in words.DELETED
    # what WhatsApp wrote in a sender's name (iOS marks it): a notice, never a message;
    # "‎This message was deleted" is marked too, and is a recall
    if kind is None and not deleted and (marked or words.notice_language(text)):
        yield from system_events(text, p.when, ids, common)
        return
    member = ME if name.lower() in words.ME_NAMES else name
    if deleted:
        key = ids.event_key("recall", p.when, member)
        yield ev.MessageRecalled(member=member, key=key, **common)
        return
    message_id = ids.message_id(p.when, member, text)
    yield Posted(
        key=message_key(PLATFORM, community, group, message_id),
        message_id=message_id,
        member=member,
        member_name=name,
        occurred_at=p.when,
        text=text,
        kind=kind or "text",
    )
