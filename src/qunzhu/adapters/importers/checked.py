"""A parser's rows held to the bounds every event is held to, and what the reading noted.

Events an importer builds are checked as they are built (:mod:`qunzhu.events`); light
messages (:class:`Posted`) are not events, so they are checked here, on the import's hot
path: a few comparisons per message, and only a message that fails one of them is built
as an event, which cleans it (NUL removed from its text) or refuses it with a reason. A
message outside the bounds is quarantined with its id, sender and time, never stored.

What the reading noted — the text encoding detected, the bytes of the file that no record
could be read from — is in :attr:`CheckedRows.notes` once the rows are consumed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from qunzhu import bounds
from qunzhu.adapters.importers.common import Noted, Posted, Rejected, Row, Skipped, Stored
from qunzhu.events import EventError

_NUL = "\x00"
_MAX_ID = bounds.IDENTIFIER_LIMITS["message_id"]


@dataclass
class ReadNotes:
    """What reading the file noted, beside its records."""

    encoding: str | None = None  # text formats: the encoding the file was read in
    unreadable_bytes: int = 0  # bytes no record could be read from (skipped)
    unreadable_stretches: int = 0
    decided: list[str] = field(default_factory=list)  # what the reading decided, and why

    def as_dict(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "unreadable_bytes": self.unreadable_bytes,
            "unreadable_stretches": self.unreadable_stretches,
            "decided": list(self.decided),
        }


class CheckedRows:
    """Iterates a parser's rows, each message within bounds or replaced by its reject."""

    def __init__(
        self, rows: Iterator[Row], where: tuple[str, str, str], source: str, notes: ReadNotes
    ) -> None:
        self.rows = rows
        self.where = where  # (platform, community, group)
        self.source = source
        self.notes = notes

    def __iter__(self) -> Iterator[Stored]:
        # years strictly inside the bounds are inside whatever the zone (see check_time)
        earliest, latest = bounds.EARLIEST.year, bounds.LATEST.year - 1
        nul, max_text = _NUL, bounds.MAX_TEXT
        max_name, max_id, max_member = bounds.MAX_NAME, _MAX_ID, bounds.MAX_IDENTIFIER
        for row in self.rows:
            if type(row) is Posted:
                text = row.text
                if (
                    earliest < row.occurred_at.year < latest
                    and len(text) <= max_text
                    and nul not in text
                    and len(row.message_id) <= max_id
                    and nul not in row.message_id
                    and len(row.member) <= max_member
                    and nul not in row.member
                    and len(row.member_name) <= max_name
                    and nul not in row.member_name
                    and 0 <= row.reactions <= bounds.MAX_INT
                    and (row.reply_to is None or nul not in row.reply_to)
                ):
                    yield row
                else:
                    yield self._checked(row)
            elif isinstance(row, Noted):
                self.notes.decided.append(row.text)
            else:
                if isinstance(row, Skipped):
                    self.notes.unreadable_bytes += row.skipped
                    self.notes.unreadable_stretches += 1
                yield row

    def _checked(self, row: Posted) -> Stored:
        """The message as its event makes it (cleaned), or the reason it cannot be one."""
        try:
            event = row.event(*self.where)
        except EventError as exc:
            where = (
                f"message {row.message_id[:40]!r} from {row.member[:40]!r} at {_shown_time(row)}"
            )
            return Rejected(self.source, 0, f"{where}: {exc}", row.text[:4000])
        return row._replace(
            text=event.text,
            member_name=event.member_name,
            attachment=event.attachment,
            reply_to=event.reply_to,
        )


def _shown_time(row: Posted) -> str:
    try:
        return row.occurred_at.isoformat()
    except (ValueError, OverflowError):
        return repr(row.occurred_at)
