"""Streaming JSON for the exporters' one-big-document files (ijson, C backend).

Objects under a prefix come one at a time, so memory does not grow with the file. A broken
top-level array of messages is read on past each corrupt stretch (:mod:`jsonsalvage`); a
document that cannot be read at all ends the stream with :class:`BrokenJson`, which says
where (the line near which the parser stopped) and after how many good objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from qunzhu.adapters.importers import jsonsalvage
from qunzhu.adapters.importers.common import CountingReader, ProgressFn, Skipped
from qunzhu.adapters.importers.jsonsalvage import Unreadable

BUFFER = 64 * 1024


# ijson keeps a path string per open level: its memory grows with the square of the depth
# (20,000 levels: 1 GB; 100,000 would take the machine). Before a document gets that deep
# the reader stops it, and the array is read on by jsonsalvage, whose decoder refuses
# an element nested too deep. The estimate counts brackets inside strings too, so a file
# whose texts hold many "[" is read the slower way, never wrongly.
MAX_DEPTH_ESTIMATE = 4096


class TooDeep(ValueError):
    pass


class _GuardedReader(CountingReader):
    depth = 0

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        self.depth += data.count(b"[") + data.count(b"{") - data.count(b"]") - data.count(b"}")
        if self.depth > MAX_DEPTH_ESTIMATE:
            raise TooDeep(f"nested more than {MAX_DEPTH_ESTIMATE} levels deep")
        return data


class BrokenJson(Exception):
    def __init__(self, reason: str, lines: tuple[int, int], good: int) -> None:
        first, last = lines
        where = f"line {first}" if first == last else f"lines {first}-{last}"
        super().__init__(f"invalid JSON at {where} after {good} good record(s): {reason}")
        self.reason = reason
        self.line = first
        self.good = good


def _lines_of(path: Path, reader: CountingReader) -> tuple[int, int]:
    """The lines of the last block the parser read: where its fault is."""
    start = line_at(path, reader.consumed - reader.last)
    with path.open("rb") as handle:
        handle.seek(reader.consumed - reader.last)
        block = handle.read(reader.last)
    return start, start + block.rstrip(b"\n").count(b"\n")


def line_at(path: Path, offset: int) -> int:
    """1-based line number of byte ``offset`` (counted in blocks: errors are rare)."""
    line = 1
    with path.open("rb") as handle:
        left = offset
        while left > 0:
            block = handle.read(min(left, 1 << 20))
            if not block:
                break
            line += block.count(b"\n")
            left -= len(block)
    return line


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def items(path: Path, prefix: str, progress: ProgressFn | None) -> Iterator[Any | Unreadable]:
    """Each object at ``prefix`` (e.g. ``messages.item``). Where the file breaks, a
    top-level array is read on past the break (:mod:`jsonsalvage`): each corrupt stretch
    comes as one :class:`Unreadable`, the good elements after it as usual. BrokenJson when
    nothing at all could be read, or the broken array is not at the top."""
    good = 0
    with path.open("rb") as handle:
        reader = _GuardedReader(handle, progress)
        try:
            for obj in ijson.items(reader, prefix, use_float=True, buf_size=BUFFER):
                good += 1
                yield obj
            return
        except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
            broken = BrokenJson(_reason(exc), _lines_of(path, reader), good)
            seen = reader.consumed
    key, _, rest = prefix.partition(".")
    start = jsonsalvage.array_start(path, key) if rest == "item" else None
    if start is None:
        raise broken
    held: list[Unreadable] = []  # stretches before the first good element
    found = good > 0
    for element in jsonsalvage.elements(path, start, skip=good):
        if type(element) is Unreadable and not found:
            held.append(element)
            continue
        if not found:
            found = True
            yield from held
        yield element
    if not found:
        raise broken
    if progress is not None:
        progress(max(path.stat().st_size - seen, 0))


def events(path: Path, progress: ProgressFn | None) -> Iterator[tuple[str, str, Any]]:
    """Low-level (prefix, event, value) for documents that need to know where they are."""
    with path.open("rb") as handle:
        reader = _GuardedReader(handle, progress)
        try:
            yield from ijson.parse(reader, use_float=True, buf_size=BUFFER)
        except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
            raise BrokenJson(_reason(exc), _lines_of(path, reader), 0) from None


def skipped(source: str, stretch: Unreadable) -> Skipped:
    """The quarantine record of a stretch the reader could not read."""
    what = "one message lost" if stretch.element else "no message in it"
    return Skipped(
        source,
        stretch.line,
        f"{stretch.reason}; {stretch.skipped:,} bytes skipped from line {stretch.line} ({what})",
        stretch.snippet,
        skipped=stretch.skipped,
    )


def offset_of_line(path: Path, line: int) -> int:
    """Byte offset where 1-based ``line`` starts (counted in blocks: breaks are rare)."""
    offset, seen = 0, 1
    with path.open("rb") as handle:
        while seen < line and (block := handle.read(1 << 20)):
            at = -1
            while seen < line:
                at = block.find(b"\n", at + 1)
                if at < 0:
                    break
                seen += 1
            if seen == line and at >= 0:
                return offset + at + 1
            offset += len(block)
    return offset


def left_after(path: Path, line: int) -> int:
    """Bytes from the start of ``line`` to the end of the file: what a break left unread."""
    return max(path.stat().st_size - offset_of_line(path, line), 0)
