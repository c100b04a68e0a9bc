"""The Telegram and Discord export samples of tests/adapters/corpus/, each read exactly as
its ``*.expected.json`` beside it says: messages (id, author, name, time, reply link, kind),
joins, leaves, members flagged as bots, rejects, the group stored into and what the summary
says was decided. Where each sample's shape was learned is its ``learned_from`` (the
samples' content is our own)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from qunzhu import events as ev
from qunzhu.adapters import importers
from qunzhu.adapters.importers.common import Rejected, as_events

CORPUS = Path(__file__).parent / "corpus"
SAMPLES = sorted(
    p for folder in ("telegram", "discord") for p in (CORPUS / folder).glob("*.json")
    if not p.name.endswith(".expected.json")
)  # fmt: skip


def _expected(sample: Path) -> dict[str, Any]:
    return dict(json.loads(sample.with_suffix(".expected.json").read_text(encoding="utf-8")))


def _read(sample: Path, want: dict[str, Any]) -> tuple[str, list[Any], list[str]]:
    fmt, group = want["format"], want["group"]
    assert importers.detect(sample) == fmt
    stored = importers.group_of(sample, fmt, group)
    rows = importers.parse_rows(
        sample, fmt, community="corpus", group=group, tz=ZoneInfo(want["tz"]), stored_group=stored
    )
    items = list(as_events(rows, importers.platform_of(fmt), "corpus", rows.where[2]))
    return rows.where[2], items, rows.notes.decided


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_sample_reads_exactly_as_written_beside_it(sample: Path) -> None:
    want = _expected(sample)
    assert want["learned_from"]
    group, items, decided = _read(sample, want)
    assert group == want["stored_group"]
    messages = [i for i in items if isinstance(i, ev.MessagePosted)]
    assert {m.group for m in messages} <= {group}
    got = [
        [m.message_id, m.member, m.member_name, m.occurred_at.astimezone(ZoneInfo("UTC"))
         .isoformat(), m.reply_to, m.kind]
        for m in messages
    ]  # fmt: skip
    assert got == want["messages"]
    for message_id, mentioned in want.get("mentions", {}).items():
        assert [list(m.mentions) for m in messages if m.message_id == message_id] == [mentioned]
    assert sorted({m.member for m in messages if m.member_is_bot}) == sorted(want["bots"])
    joins = [
        [j.member, j.via, j.inviter, j.occurred_at.isoformat()]
        for j in items
        if isinstance(j, ev.MemberJoined)
    ]
    assert joins == want["joins"]
    leaves = [
        [x.member, x.reason, x.by, x.occurred_at.isoformat()]
        for x in items
        if isinstance(x, ev.MemberLeft)
    ]
    assert leaves == want["leaves"]
    people = {i.member for i in items if isinstance(i, ev.Event)}
    assert len(people) == want["members"]
    assert len([i for i in items if isinstance(i, Rejected)]) == want["rejected"]
    assert len(decided) == (1 if want["decided"] else 0)
    for words in want["decided"]:
        assert words in decided[0]


def test_forum_topic_messages_are_not_replies_to_the_topic() -> None:
    """The forum sample is the issue's case: three messages point at a topic's creation and
    one replies to a member; before, all three counted as replies, now the one."""
    sample = CORPUS / "telegram" / "forum_group.json"
    raw = json.loads(sample.read_text(encoding="utf-8"))["messages"]
    pointing = [m for m in raw if m["type"] == "message" and "reply_to_message_id" in m]
    assert len(pointing) == 3
    _group, items, _ = _read(sample, _expected(sample))
    assert [m.reply_to for m in items if isinstance(m, ev.MessagePosted) and m.reply_to] == ["2"]


def test_an_import_into_an_own_label_keeps_it() -> None:
    """A --group that names no chat of the export is the operator's own label."""
    sample = CORPUS / "telegram" / "single_chat.json"
    assert importers.group_of(sample, "telegram-json", "book-club") == "book-club"
    assert importers.group_of(sample, "telegram-json", "-1001482056085") == "-1001482056085"
    assert importers.group_of(sample, "telegram-json", "读书会 Reading Club") == "-1001482056085"
