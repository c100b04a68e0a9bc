"""Importers of chat exports, one module per format, loaded on first use.

Each module has ``FORMAT`` (its name), ``PLATFORM``, ``sniff(head, filename) -> bool`` and
``rows(path, *, community, group, tz, progress) -> Iterator[Posted | Event | Rejected]``:
messages as light :class:`Posted` tuples (the import's hot path); :func:`parse` gives the
same with every message an ``Event``. Parsers stream (memory does not grow with the file),
give every event a stable key (re-imports and overlapping exports add nothing twice) and
yield a :class:`Rejected` for each record they cannot read, with its line and reason. A
file that cannot be read at all raises :class:`ImportFormatError` naming the file and why.
A module may have ``canonical_group(path, group) -> str``: the id the platform's live
connector knows the exported chat by, when ``group`` names that chat (Telegram).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

from qunzhu import bounds
from qunzhu.adapters.importers.checked import CheckedRows, ReadNotes
from qunzhu.adapters.importers.common import (
    ImportFormatError,
    Posted,
    ProgressFn,
    Rejected,
    Row,
    as_events,
    detect_encoding,
    read_head,
)
from qunzhu.events import Event

__all__ = [
    "FORMATS",
    "CheckedRows",
    "ImportFormatError",
    "Posted",
    "ReadNotes",
    "Rejected",
    "Row",
    "detect",
    "group_of",
    "module_for",
    "parse",
    "parse_rows",
    "platform_of",
]

# format name -> module; the order is the order of detection (most specific first)
FORMATS: dict[str, str] = {
    "telegram-json": "telegram_json",
    "discord-json": "discord_json",
    "wechat-csv": "wechat_csv",
    "qq-txt": "qq_txt",
    "whatsapp-txt": "whatsapp_txt",
    "irc": "irc",
}
# formats read as text in an encoding found from the file (common.detect_encoding)
TEXT_FORMATS = ("wechat-csv", "qq-txt", "whatsapp-txt", "irc")


def module_for(fmt: str) -> ModuleType:
    if fmt not in FORMATS:
        raise ImportFormatError(fmt, f"unknown format (known: {', '.join(FORMATS)})")
    return import_module(f"{__name__}.{FORMATS[fmt]}")


def detect(path: Path) -> str:
    """The format of ``path`` from its first bytes; ImportFormatError when none fits."""
    try:
        head = read_head(path)
    except OSError as exc:
        raise ImportFormatError(path, f"cannot read: {exc.strerror or exc}") from None
    if not head.strip():
        raise ImportFormatError(path, "the file is empty")
    for fmt in FORMATS:
        if module_for(fmt).sniff(head, path.name):
            return fmt
    raise ImportFormatError(
        path,
        "not a chat export this version reads (expected one of "
        f"{', '.join(FORMATS)}); name it with --format if you know which",
    )


def parse(
    path: Path,
    fmt: str,
    *,
    community: str,
    group: str,
    tz: tzinfo,
    progress: ProgressFn | None = None,
    date_order: str | None = None,
) -> Iterator[Event | Rejected]:
    """Events (and rejects) of ``path`` read as ``fmt``; ``progress`` gets bytes read."""
    module = module_for(fmt)
    rows = parse_rows(
        path, fmt, community=community, group=group, tz=tz, progress=progress,
        date_order=date_order,
    )  # fmt: skip
    return as_events(rows, module.PLATFORM, community, group)


def parse_rows(
    path: Path,
    fmt: str,
    *,
    community: str,
    group: str,
    tz: tzinfo,
    progress: ProgressFn | None = None,
    stored_group: str | None = None,
    date_order: str | None = None,
) -> CheckedRows:
    """What :func:`parse` gives, with messages as light :class:`Posted` tuples (the import's
    hot path: ``Posted.event(platform, community, group)`` is the Event), every one within
    the bounds of qunzhu.bounds; ``.notes`` says what the reading noted (encoding, bytes
    skipped) once the rows are consumed. ``stored_group``: what :func:`group_of` said of
    ``group`` already (it reads the file). A format whose dates need deciding (WhatsApp's
    day/month order) decides here, before any row, or raises ImportFormatError asking for
    ``date_order``; ``.notes.decided`` says what and why."""
    for name, value in (("community", community), ("group", group)):
        try:  # every message would be refused for it: refuse the import instead
            bounds.check_identifier(name, value)
        except bounds.OutOfBounds as exc:
            raise ImportFormatError(path, f"--{name} {value[:40]!r}: {exc}") from None
    module = _checked(path, fmt)
    group = stored_group or group_of(path, fmt, group)
    notes = ReadNotes(encoding=detect_encoding(read_head(path)) if fmt in TEXT_FORMATS else None)
    extra: dict[str, Any] = {}
    if hasattr(module, "decision"):  # dates to decide from the whole file, or as given
        if date_order is not None and date_order not in module.DATE_ORDERS:
            raise ImportFormatError(path, f"--date-order {date_order!r}: one of dmy, mdy, ymd")
        extra["decided"] = module.decision(path, date_order)
        notes.decided.append(extra["decided"].why)
    items: Iterator[Row] = module.rows(
        path, community=community, group=group, tz=tz, progress=progress, **extra
    )
    return CheckedRows(items, (module.PLATFORM, community, group), str(path), notes)


def group_of(path: Path, fmt: str, group: str) -> str:
    """The group an import of ``path`` into ``--group group`` stores into: the platform's
    live id of the exported chat where ``group`` names it and the format knows that id
    (``rows.where`` of :func:`parse_rows` says the same), else ``group``."""
    canonical = getattr(module_for(fmt), "canonical_group", None)
    return group if canonical is None else str(canonical(path, group))


def platform_of(fmt: str) -> str:
    platform: str = module_for(fmt).PLATFORM
    return platform


def _checked(path: Path, fmt: str) -> ModuleType:
    module = module_for(fmt)
    try:
        head = read_head(path)
    except OSError as exc:
        raise ImportFormatError(path, f"cannot read: {exc.strerror or exc}") from None
    # named by the caller: read whatever the format can read (bad lines are quarantined);
    # a format that reads any text (READ_WHEN_NAMED) reads the file it is named for
    sniff = getattr(module, "sniff_given", module.sniff)
    if not sniff(head, path.name) and not getattr(module, "READ_WHEN_NAMED", False):
        raise ImportFormatError(path, f"does not look like {fmt}: {_first_line(head)!r}")
    return module


def _first_line(head: bytes) -> str:
    return head.split(b"\n", 1)[0][:80].decode("utf-8", "replace")
