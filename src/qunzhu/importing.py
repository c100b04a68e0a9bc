"""Import a chat export: its parser, the import pipeline, and a tally of what the file held.

Used by `qunzhu import` and the API's upload. The parser streams, messages as light tuples
(:class:`~qunzhu.adapters.importers.Posted`), the rest as events and rejects; all of it goes
through the one :class:`~qunzhu.pipeline.Pipeline`, built for mode ``import`` (its bulk
writer: messages by one ``executemany`` per chunk, several chunks per transaction). A re-run
(after Ctrl-C, a kill, or on an overlapping export) adds only what is missing; a chunk that
fails is isolated by the pipeline's one handler, which quarantines what still fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.adapters.importers.common import Posted, Stored
from qunzhu.pipeline import IngestReport
from qunzhu.spec.zones import spec_zone
from qunzhu.store import Store
from qunzhu.store.batch import Place
from qunzhu.store.models import Community
from qunzhu.store.quarantine import RejectedRecord
from qunzhu.wiring import build_pipeline


@dataclass
class ImportTally:
    """What the file itself held (independent of what the database already had)."""

    file: str
    format: str
    messages: int = 0
    joins: int = 0
    leaves: int = 0
    invites: int = 0
    replies: int = 0
    inferred_replies: int = 0
    renames: int = 0
    other: int = 0
    members: set[str] = field(default_factory=set)
    quarantined: list[dict[str, Any]] = field(default_factory=list)

    def count(self, item: object) -> None:
        if isinstance(item, ev.MessagePosted):
            self.messages += 1
            self.members.add(item.member)
            if item.reply_to:
                self.replies += 1
                self.inferred_replies += item.reply_inferred
        elif isinstance(item, ev.MemberJoined):
            self.joins += 1
            self.members.add(item.member)
            self.invites += item.inviter is not None
        elif isinstance(item, ev.MemberLeft):
            self.leaves += 1
            self.members.add(item.member)
        elif isinstance(item, ev.InviteUsed):
            pass  # the join it belongs to is counted as the invite
        elif isinstance(item, ev.MemberRenamed):
            self.renames += 1
        elif isinstance(item, ev.Event):
            self.other += 1

    def counted(self, items: Iterable[Any]) -> Iterator[Any]:
        members = self.members
        posted = 0  # messages counted here, added to self.messages as other items come
        try:
            for item in items:
                if type(item) is Posted:  # the hot path: most of a file
                    posted += 1
                    members.add(item.member)
                    if item.reply_to:
                        self.replies += 1
                        self.inferred_replies += item.reply_inferred
                    yield item
                    continue
                if isinstance(item, RejectedRecord) and item.source != self.file:
                    item = replace(item, source=self.file)  # an upload's name, not its path
                self.messages, posted = self.messages + posted, 0
                self.count(item)
                yield item
        finally:
            self.messages += posted


def summary(tally: ImportTally, report: IngestReport) -> dict[str, Any]:
    quarantined = [*tally.quarantined, *report.quarantined]
    return {
        "file": tally.file,
        "format": tally.format,
        "messages": tally.messages,
        "members": len(tally.members),
        "joins": tally.joins,
        "leaves": tally.leaves,
        "invites": tally.invites,
        "replies": tally.replies,
        "inferred_replies": tally.inferred_replies,
        "renames": tally.renames,
        "quarantined": len(quarantined),
        "quarantined_records": quarantined[:1000],
        "added": report.count("message_posted"),
        "added_events": report.added,
        "duplicates": report.duplicates,
        "new_members": report.new_members,
    }


def import_file(
    store: Store,
    path: Path,
    *,
    community: str,
    group: str,
    fmt: str = "auto",
    tz: str | None = None,
    progress: Callable[[int], None] | None = None,
    source: str | None = None,
    date_order: str | None = None,
) -> dict[str, Any]:
    """Import one export file; ``progress`` is told the bytes read as the parser reads them.
    ``date_order`` (dmy, mdy, ymd) settles the dates of a WhatsApp export the file itself
    cannot settle.

    Raises ImportFormatError when the format is not recognised, the file is unreadable, or
    its dates cannot be read without ``date_order``.
    """
    from qunzhu.adapters import importers

    chosen = importers.detect(path) if fmt == "auto" else fmt
    stored = importers.group_of(path, chosen, group)
    moved = _adopt_group(store, path, chosen, community, group, stored)
    zone = ZoneInfo(tz) if tz else import_zone(store, community, stored, group)
    name = str(source or path)
    tally = ImportTally(file=name, format=chosen)
    rows = importers.parse_rows(
        path,
        chosen,
        community=community,
        group=group,
        tz=zone,
        progress=progress,
        stored_group=stored,
        date_order=date_order,
    )
    where = (community, importers.platform_of(chosen), rows.where[2])
    report = load(store, tally.counted(rows), where, source=name)
    notes = rows.notes.as_dict()
    if stored != group:
        notes["decided"] = [
            f"--group {group} names the exported chat: stored as group {stored}, the id its "
            "live connector knows, so history and live meet in one group",
            *([moved] if moved else []),
            *notes["decided"],
        ]
    return {**summary(tally, report), **notes, "group": stored}


def _adopt_group(
    store: Store, path: Path, fmt: str, community: str, label: str, stored: str
) -> str | None:
    """An earlier import of the chat under ``label`` moves to ``stored`` (its live id)."""
    from qunzhu.adapters import importers
    from qunzhu.adapters.importers.relabel import GroupsToMerge, relabel

    if stored == label:
        return None
    module = importers.module_for(fmt)
    try:
        with store.unit_of_work() as session:
            return relabel(
                session.connection(),
                community,
                module.PLATFORM,
                label,
                stored,
                getattr(module, "service_keys", None),
            )
    except GroupsToMerge as exc:
        raise importers.ImportFormatError(path, str(exc)) from None


def import_zone(store: Store, community: str, group: str, label: str | None = None) -> tzinfo:
    """The zone of times an export writes without one, when the import names none: the
    group's in the community's spec (under its stored id, else under the ``--group`` the
    operator gave, which a spec written before ids were mapped uses), else the community's,
    else QUNZHU_TIMEZONE."""
    with store.reading() as session:
        text = session.scalar(select(Community.spec_yaml).where(Community.slug == community))
    own = spec_zone(text, store.settings.tz, group)
    if label and label != group and own == spec_zone(text, store.settings.tz):
        return spec_zone(text, store.settings.tz, label)
    return own


def load(
    store: Store, rows: Iterable[Stored], where: tuple[str, str, str], *, source: str
) -> IngestReport:
    """Store one file's rows into the group ``where`` = (community slug, platform, group):
    the import pipeline (bulk writer) run over them."""
    pipeline = build_pipeline(store, "import", create_communities=True)
    return pipeline.run(rows, source=source, place=Place(*where))
