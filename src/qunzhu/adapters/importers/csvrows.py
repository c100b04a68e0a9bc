"""Streaming CSV with physical line numbers and per-line decoding (bad bytes → that row)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from qunzhu.adapters.importers.common import ProgressFn, detect_encoding, read_head

csv.field_size_limit(16 * 1024 * 1024)
_PROGRESS_EVERY = 2000  # lines between two progress reports, as numbered_lines


class Row(NamedTuple):  # a tuple: one is made per record of files of millions
    line: int  # physical line where the record starts (1-based)
    fields: list[str]
    undecodable: bool  # a line of the record was not in the file's encoding


# a Row without the Python-level __new__ of a NamedTuple (a frame per record)
_new_row: Callable[[type[Row], tuple[int, list[str], bool]], Row] = tuple.__new__


def csv_rows(path: Path, progress: ProgressFn | None = None) -> Iterator[Row]:
    encoding = detect_encoding(read_head(path))
    bad: set[int] = set()
    where = [0]

    def text_lines() -> Iterator[str]:
        # numbered_lines and the decoding in one generator: a layer less per line
        pending = 0
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                pending += len(raw)
                if progress is not None and number % _PROGRESS_EVERY == 0:
                    progress(pending)
                    pending = 0
                where[0] = number
                raw = raw.rstrip(b"\r\n")
                try:
                    text = raw.decode(encoding)
                except UnicodeDecodeError:
                    bad.add(number)
                    text = raw.decode(encoding, "replace")
                if number == 1:
                    text = text.lstrip("\ufeff")
                yield text + "\n"
        if progress is not None and pending:
            progress(pending)

    reader = csv.reader(text_lines(), strict=False)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Row(start, [f"csv error: {exc}"], True)
            start = where[0] + 1
            continue
        end = where[0]
        undecodable = bool(bad) and any(n in bad for n in range(start, end + 1))
        yield _new_row(Row, (start, fields, undecodable))
        if bad:
            bad.difference_update(range(start, end + 1))
        start = end + 1
