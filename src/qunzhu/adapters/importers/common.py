"""What every importer shares: rejects, byte-counted reading, text decoding, local times,
and stable message ids for formats that have none."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from hashlib import blake2b
from pathlib import Path
from typing import Any, BinaryIO

import charset_normalizer

from qunzhu import events as ev
from qunzhu.events import make_key
from qunzhu.store.messages_write import Posted as Posted
from qunzhu.store.quarantine import RejectedRecord

# An importer yields events and, for what it cannot read, these (source, line, reason, text).
Rejected = RejectedRecord


@dataclass(frozen=True, slots=True)
class Skipped(RejectedRecord):
    """A stretch of the file no record could be read from (``skipped`` bytes): quarantined
    like any reject, and counted apart, since an import that skipped part of its file has
    not read the whole file (`qunzhu import` then exits non-zero)."""

    skipped: int = 0


@dataclass(frozen=True, slots=True)
class Noted:
    """What the reading decided that the operator should hear (a zone the file's local
    times were read in, say): not a record; it goes to the import's summary."""

    text: str


ProgressFn = Callable[[int], None]
HEAD_BYTES = 64 * 1024


class ImportFormatError(ValueError):
    """A file that cannot be imported at all (wrong format, unreadable); names file and why."""

    def __init__(self, path: Path | str, reason: str, *, line: int | None = None) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = str(path)
        self.reason = reason
        self.line = line


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


class CountingReader:
    """A binary file whose reads are reported (progress by bytes) — for streaming parsers."""

    def __init__(self, handle: BinaryIO, progress: ProgressFn | None) -> None:
        self.handle = handle
        self.progress = progress
        self.consumed = 0
        self.last = 0  # size of the last read: a parser's fault lies within it

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.consumed += len(data)
        self.last = len(data)
        if self.progress is not None and data:
            self.progress(len(data))
        return data


def numbered_lines(
    path: Path, progress: ProgressFn | None, *, every: int = 2000
) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, raw line without the line end), reporting bytes read."""
    pending = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            pending += len(raw)
            if progress is not None and number % every == 0:
                progress(pending)
                pending = 0
            yield number, raw.rstrip(b"\r\n")
    if progress is not None and pending:
        progress(pending)


def detect_encoding(head: bytes) -> str:
    """The encoding of a text export from its head: UTF-8 (with or without BOM) when the
    head is UTF-8 but for a stray bad byte or two (each then quarantines its own line),
    else what charset-normalizer finds, the Chinese GB family read as GB18030 (a superset
    of GBK and GB2312, which Chinese Windows tools write); Latin-1 when nothing fits (every
    byte maps, so nothing is lost, and lines read wrongly are at least visible)."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    cut = head.rfind(b"\n")  # a character cut by the end of the head would mislead
    head = head[: cut + 1] if cut > 0 else head[:-4] or head
    decoded = head.decode("utf-8", "replace")
    bad = decoded.count("\ufffd") - head.count(b"\xef\xbf\xbd")  # U+FFFD written as such
    # text in another encoding spoils most of its non-ASCII bytes as UTF-8; a UTF-8 file
    # with a few bad bytes spoils few (each then costs its own line, not the whole file)
    if bad <= max(8, (len(head) - len(head.decode("ascii", "ignore"))) // 50):
        return "utf-8"
    best = charset_normalizer.from_bytes(head).best()
    name = "" if best is None else codecs.lookup(best.encoding).name
    if name in _GB_FAMILY or name in _CJK or not name:
        # short Chinese text is often taken for Korean or Big5: Chinese tools write GB
        try:
            head.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            pass
    if not name:
        return "latin-1"
    # a few accented letters cannot tell one Latin code page from another: read them all as
    # Latin-1, as IRC clients long wrote (Cyrillic, Greek, Big5 … are told apart well)
    return "latin-1" if name in _LATIN else name


_GB_FAMILY = ("gb2312", "gbk", "gb18030", "hz")
_CJK = ("cp949", "euc-kr", "big5", "big5hkscs", "cp950", "shift_jis", "cp932", "euc-jp", "johab")
_LATIN = ("cp1250", "cp1252", "cp1254", "cp1257", "latin-1", "iso8859-2", "iso8859-3",
          "iso8859-4", "iso8859-9", "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15",
          "iso8859-16", "mac-roman", "mac-latin2")  # fmt: skip


# control characters (C0 but tab and CR, DEL, C1): a line holding one is no text a person
# typed
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_REASON = (
    "a line with control characters ({found}) that is no dated message even without them: "
    "kept apart, not joined to the message before"
)


def decode_line(raw: bytes, encoding: str) -> str:
    """Decode one line; raises UnicodeDecodeError (the caller quarantines the line)."""
    text = raw.decode(encoding)
    return text.lstrip("\ufeff") if text[:1] == "\ufeff" else text


def local(moment: datetime, tz: tzinfo) -> datetime:
    """A naive local time from an export, placed in ``tz`` (aware, any offset)."""
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


_SEP = "\x1f"


def _digest(text: str, size: int = 16) -> str:
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=size).hexdigest()


def message_key(platform: str, community: str, group: str, message_id: str) -> str:
    """The key ``MessagePosted`` derives from its identity (``events.make_key``), computed
    without the general path: the hot loop of every importer builds one per message."""
    return _digest(_SEP.join(("message_posted", platform, community, group, message_id)))


def message_key_prefix(platform: str, community: str, group: str) -> str:
    """What :func:`message_key` hashes, up to the message id: a parser's hot loop may hash
    ``prefix + message_id`` with :func:`_digest` itself."""
    return _SEP.join(("message_posted", platform, community, group, ""))


class Ordinals:
    """Stable ids for messages that carry none: content + time + sender + how many identical
    ones came before in the same time slot, so a re-import or an overlapping export yields
    the same ids. Bounded: only the current time slot is remembered (exports are in order)."""

    def __init__(self, *scope: str) -> None:
        self.scope = scope
        self.prefix = _SEP.join(scope) + _SEP
        self.slot: object = None
        self.seen: dict[tuple[object, ...], int] = {}
        # the start of a message id's text in the current slot: str() of a slot (a tuple
        # with a date, say) costs more than the rest of the id, and a slot holds many
        self.head = f"{self.prefix}{self.slot}{_SEP}"

    def next(self, slot: object, *parts: object) -> int:
        if slot != self.slot:
            self.slot = slot
            self.seen.clear()
            self.head = f"{self.prefix}{slot}{_SEP}"
        n = self.seen.get(parts, 0)
        self.seen[parts] = n + 1
        return n

    def message_id(self, slot: object, *parts: str) -> str:
        n = self.next(slot, "msg", *parts)
        return _digest(f"{self.head}{_SEP.join(parts)}{_SEP}{n}", 12)

    def message_id_for(self, slot: object, *parts: str) -> str:
        """The id :meth:`message_id` gave (or will give) the first such message: for a
        quote that names the quoted message by its time, sender and content."""
        return _digest(f"{self.prefix}{slot}{_SEP}{_SEP.join(parts)}{_SEP}0", 12)

    def event_key(self, kind: str, slot: object, *parts: object) -> str:
        n = self.next(slot, kind, *parts)
        return make_key(kind, *self.scope, slot, *parts, n)


# ``new_posted(Posted, (all fourteen fields))``: a Posted without the Python-level __new__
# of a NamedTuple (a frame per message); every field given, in order
new_posted: Callable[[type[Posted], tuple[Any, ...]], Posted] = tuple.__new__

# What a parser's ``rows`` yields: light messages, other events (few), rejects.
Stored = Posted | ev.Event | RejectedRecord
Row = Stored | Noted  # a Noted goes to the summary (CheckedRows), never to the store


def as_events(
    rows: Iterable[Row], platform: str, community: str, group: str
) -> Iterator[ev.Event | RejectedRecord]:
    """The Event form of a parser's rows (tests, the pipeline's event path)."""
    for row in rows:
        if type(row) is Noted:
            continue
        yield row.event(platform, community, group) if type(row) is Posted else row  # type: ignore[misc]
