"""Reading on past a corrupt record in a JSON export's array of messages.

ijson stops at the first bad byte, and everything after it would be lost. When it stops,
the array is read again from its start, one element at a time with the standard library's
decoder: elements already given are skipped, a corrupt element is skipped up to the next
element boundary (a comma followed by the same white space that came before the first
element: in a pretty-printed export, a new element at the array's own indentation) and
reported as :class:`Unreadable`, and the rest is read as usual. One bad byte then costs one
message, not the rest of the file.

Bytes are decoded with ``surrogateescape`` so that a byte that is not UTF-8 can be found
in the element it spoils: such an element is unreadable, its neighbours are not.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

BLOCK = 1 << 20
MAX_ELEMENT = 64 << 20  # an element (one message) this large is not read but skipped
_WHITE = re.compile(r"[ \t\r\n]*")
_BAD_BYTE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of a non-UTF-8 byte
_DECODE = json.JSONDecoder().raw_decode
_ANY_BOUNDARY = re.compile(r",\s*[{\[]")


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A stretch of the array that holds no readable element."""

    line: int  # where it starts (1-based)
    skipped: int  # bytes skipped
    reason: str
    snippet: str
    element: bool  # it began an element (a message is lost), not stray bytes between two


class _Buffer:
    """Decoded text of the file from an offset on, read in blocks, its front dropped as it
    is consumed (lines counted on the way, so every position has its line)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self.text = ""
        self.eof = False
        self.line = 1  # line of text[0]

    def more(self) -> bool:
        if self.eof:
            return False
        data = self.handle.read(BLOCK)
        self.eof = not data
        self.text += self.decoder.decode(data, final=self.eof)
        return True

    def drop(self, pos: int) -> int:
        """Forget text before ``pos``; the new index of what was at ``pos``."""
        if pos < BLOCK:
            return pos
        self.line += self.text.count("\n", 0, pos)
        self.text = self.text[pos:]
        return 0

    def line_at(self, pos: int) -> int:
        return self.line + self.text.count("\n", 0, pos)


def array_start(path: Path, key: str, opener: str = "[") -> int | None:
    """Byte offset just after the ``[`` of the first ``"key": [`` (None when there is none).
    Inside a JSON string a quote is escaped, so ``"key":`` is found only as a key."""
    pattern = re.compile(
        rb'"' + re.escape(key.encode()) + rb'"\s*:\s*' + re.escape(opener.encode())
    )
    offset = 0
    with path.open("rb") as handle:
        tail = b""
        while block := handle.read(BLOCK):
            found = pattern.search(tail + block)
            if found:
                return offset - len(tail) + found.end()
            tail = block[-64:]
            offset += len(block)
    return None


def elements(path: Path, start: int, skip: int) -> Iterator[Any | Unreadable]:
    """The array's elements from byte ``start`` (after its ``[``), the first ``skip`` readable
    ones left out, each corrupt stretch as one :class:`Unreadable`."""
    with path.open("rb") as handle:
        handle.seek(start)
        buf = _Buffer(handle)
        buf.line += _lines_before(path, start)
        buf.more()
        boundary: re.Pattern[str] | None = None
        pos = 0
        while True:
            pos = _skip_white(buf, pos)
            if pos >= len(buf.text):
                if not buf.more():
                    yield Unreadable(buf.line_at(pos), 0, "the file ends inside the array "
                                     "(truncated?)", "", element=False)  # fmt: skip
                    return
                continue
            char = buf.text[pos]
            if char == "]":
                return
            if char == ",":
                pos += 1
                continue
            if char == "{" or char == "[":
                if boundary is None:  # learnt from the first element: what comes before one
                    boundary = _boundary_after(buf.text, pos)
                try:
                    value, end = _decode_whole(buf, pos)
                except json.JSONDecodeError as exc:
                    stop = _next_element(buf, boundary, max(exc.pos, pos + 1))
                    why = f"invalid JSON: {exc.msg.removesuffix(' at')}"
                    yield _unreadable(buf, pos, stop, why, element=True)
                    if stop >= len(buf.text) and buf.eof:
                        return  # the file ends inside this element: nothing follows
                    pos = buf.drop(stop)
                    continue
                except RecursionError:
                    stop = _next_element(buf, boundary, pos + 1)
                    yield _unreadable(buf, pos, stop, "nested far too deep", element=True)
                    if stop >= len(buf.text) and buf.eof:
                        return  # the file ends inside this element: nothing follows
                    pos = buf.drop(stop)
                    continue
                if _BAD_BYTE.search(buf.text, pos, end):
                    yield _unreadable(buf, pos, end, "bytes that are not UTF-8", element=True)
                elif skip:
                    skip -= 1
                else:
                    yield value
                pos = buf.drop(end)
                continue
            stop = _next_opener(buf, pos + 1)  # the next bracket: tried as an element
            yield _unreadable(buf, pos, stop, "stray bytes between two messages", element=False)
            if stop >= len(buf.text) and buf.eof:
                return
            pos = buf.drop(stop)


def _lines_before(path: Path, offset: int) -> int:
    count = 0
    with path.open("rb") as handle:
        left = offset
        while left > 0 and (block := handle.read(min(left, BLOCK))):
            count += block.count(b"\n")
            left -= len(block)
    return count


def _skip_white(buf: _Buffer, pos: int) -> int:
    found = _WHITE.match(buf.text, pos)
    return found.end() if found else pos


def _boundary_after(text: str, pos: int) -> re.Pattern[str]:
    """``,`` + the white space that led to the first element + its opening bracket."""
    lead = pos
    while lead > 0 and text[lead - 1] in " \t\r\n":
        lead -= 1
    return re.compile(re.escape("," + text[lead:pos] + text[pos]))


def _decode_whole(buf: _Buffer, pos: int) -> tuple[Any, int]:
    """Decode the element at ``pos``, reading on while it may just be cut by the buffer."""
    while True:
        try:
            return _DECODE(buf.text, pos)
        except json.JSONDecodeError as exc:
            cut = exc.pos >= len(buf.text) - 1 or exc.msg.startswith("Unterminated")
            if not cut or len(buf.text) - pos > MAX_ELEMENT or not buf.more():
                raise


def _next_element(buf: _Buffer, boundary: re.Pattern[str] | None, pos: int) -> int:
    """Where the next element starts after ``pos`` (its bracket), or the end of the file."""
    start = pos
    while True:
        found = (boundary or _ANY_BOUNDARY).search(buf.text, pos)
        if found:
            return found.end() - 1
        searched = len(buf.text)
        if not buf.more():
            # the layout learnt from the first element is not kept up to the end: any
            # comma before a bracket will do (the file is all here now)
            found = _ANY_BOUNDARY.search(buf.text, start)
            return found.end() - 1 if found else searched
        pos = max(pos, searched - 256)  # search on from where this search ended


_OPENER = re.compile(r"[{\[\]]")


def _next_opener(buf: _Buffer, pos: int) -> int:
    """The next bracket after stray bytes (an element's start, or the array's end)."""
    while True:
        found = _OPENER.search(buf.text, pos)
        if found:
            return found.start()
        searched = len(buf.text)
        if not buf.more():
            return searched
        pos = searched


def _unreadable(buf: _Buffer, start: int, stop: int, why: str, *, element: bool) -> Unreadable:
    stretch = buf.text[start:stop]
    size = len(stretch.encode("utf-8", "surrogateescape"))
    snippet = stretch[:300].encode("utf-8", "replace").decode("utf-8")
    return Unreadable(buf.line_at(start), size, why, snippet, element=element)
