"""Streaming JSON for the exporters' one-big-document files (ijson, C backend).

Objects under a prefix come one at a time, so memory does not grow with the file. A
truncated or broken document ends the stream with :class:`BrokenJson`, which says where
(the line near which the parser stopped) and after how many good objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from qunzhu.adapters.importers.common import CountingReader, ProgressFn

BUFFER = 64 * 1024


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


def items(path: Path, prefix: str, progress: ProgressFn | None) -> Iterator[Any]:
    """Each object at ``prefix`` (e.g. ``messages.item``); BrokenJson if the file breaks."""
    good = 0
    with path.open("rb") as handle:
        reader = CountingReader(handle, progress)
        try:
            for obj in ijson.items(reader, prefix, use_float=True, buf_size=BUFFER):
                good += 1
                yield obj
        except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
            raise BrokenJson(_reason(exc), _lines_of(path, reader), good) from None


def events(path: Path, progress: ProgressFn | None) -> Iterator[tuple[str, str, Any]]:
    """Low-level (prefix, event, value) for documents that need to know where they are."""
    with path.open("rb") as handle:
        reader = CountingReader(handle, progress)
        try:
            yield from ijson.parse(reader, use_float=True, buf_size=BUFFER)
        except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
            raise BrokenJson(_reason(exc), _lines_of(path, reader), 0) from None
