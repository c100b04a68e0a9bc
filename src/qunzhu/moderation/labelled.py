"""Labelled message files for training and evaluation: CSV or TSV with a header.

The label column is ``label`` or ``target`` (``1``, ``spam``, ``true``, ``yes`` are
positive; ``0``, ``ham``, ``false``, ``no`` negative); the text column is ``text`` or
``input``. A row with another label is an error naming the file and line.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

POSITIVE = frozenset({"1", "spam", "true", "yes", "ad", "ads"})
NEGATIVE = frozenset({"0", "ham", "false", "no", "normal"})
LABEL_COLUMNS = ("label", "target")
TEXT_COLUMNS = ("text", "input")


class LabelledFileError(ValueError):
    """A labelled file that cannot be read; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    spam: bool
    weight: float = 1.0  # how much the example counts in training


def _dialect(path: Path, first_line: str) -> str:
    if path.suffix.lower() == ".tsv" or ("\t" in first_line and "," not in first_line):
        return "\t"
    return ","


def read_labelled(path: Path) -> list[Example]:
    return list(iter_labelled(path))


def iter_labelled(path: Path) -> Iterator[Example]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise LabelledFileError(f"{path}: cannot open ({exc.strerror or exc})") from None
    with handle:
        first = handle.readline()
        handle.seek(0)
        reader = csv.DictReader(handle, delimiter=_dialect(path, first))
        header = [name.strip().lower() for name in (reader.fieldnames or [])]
        label_col = next((c for c in LABEL_COLUMNS if c in header), None)
        text_col = next((c for c in TEXT_COLUMNS if c in header), None)
        if label_col is None or text_col is None:
            raise LabelledFileError(
                f"{path}: the header needs a label column (label or target) and a text "
                f"column (text or input); it has {', '.join(header) or 'nothing'}"
            )
        reader.fieldnames = header
        try:
            for row in reader:
                raw = (row.get(label_col) or "").strip().lower()
                if raw in POSITIVE:
                    spam = True
                elif raw in NEGATIVE:
                    spam = False
                else:
                    raise LabelledFileError(
                        f"{path}:{reader.line_num}: label {raw!r} is neither spam (1, spam) "
                        "nor normal (0, ham)"
                    )
                yield Example(text=row.get(text_col) or "", spam=spam)
        except csv.Error as exc:
            raise LabelledFileError(f"{path}:{reader.line_num}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise LabelledFileError(f"{path}: not UTF-8 ({exc.reason})") from None
