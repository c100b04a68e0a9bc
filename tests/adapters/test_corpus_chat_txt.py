"""The corpus of WhatsApp and QQ text exports: one sample per layout, locale and encoding
(tests/adapters/corpus/<platform>/), each beside its ``.expected.json``.

The samples are written here, with our own content, in the exact shapes the tools write;
each expected file's ``source`` says where the shape was learned (other parsers' fixtures
and tests, read through code search). What is expected is written out in full — every
message's sender, time, kind and text, every join, leave and recall, every reply link and
quarantined line, and what the reader decided about dates — and checked exactly.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from qunzhu import events as ev
from qunzhu.adapters import importers
from qunzhu.adapters.importers.common import Rejected

CORPUS = Path(__file__).parent / "corpus"
# the text chat exports; the other folders of the corpus have their own tests
CASES = sorted(p for d in ("whatsapp", "qq") for p in (CORPUS / d).glob("*.expected.json"))
UTC = ZoneInfo("UTC")


def _sample(case: Path, expected: dict[str, Any]) -> Path:
    return case.parent / expected.get("sample", case.name.replace(".expected.json", ".txt"))


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name[:-14]}")
def test_each_sample_reads_exactly_as_expected(case: Path):
    expected = json.loads(case.read_text(encoding="utf-8"))
    assert expected["source"], "each sample says where its shape was learned"
    path = _sample(case, expected)
    fmt = expected["format"]
    if expected.get("detected", True):
        assert importers.detect(path) == fmt
    given = expected.get("date_order")
    if "error" in expected:
        with pytest.raises(importers.ImportFormatError, match=expected["error"]):
            importers.parse_rows(path, fmt, community="c1", group="g1", tz=UTC, date_order=given)
        return
    rows = importers.parse_rows(path, fmt, community="c1", group="g1", tz=UTC, date_order=given)
    items = [
        r.event("whatsapp" if fmt == "whatsapp-txt" else "qq", "c1", "g1")
        if isinstance(r, importers.Posted)
        else r
        for r in rows
    ]
    messages = [i for i in items if isinstance(i, ev.MessagePosted)]
    got = [[m.member, m.member_name, _at(m.occurred_at), m.kind, m.text] for m in messages]
    assert got == expected["messages"]
    joins = [[j.member, j.inviter, j.via] for j in items if isinstance(j, ev.MemberJoined)]
    assert joins == expected.get("joins", [])
    leaves = [[x.member, x.reason, x.by] for x in items if isinstance(x, ev.MemberLeft)]
    assert leaves == expected.get("leaves", [])
    recalls = [r.member for r in items if isinstance(r, ev.MessageRecalled)]
    assert recalls == expected.get("recalls", [])
    rejects = [[r.line, r.reason] for r in items if isinstance(r, Rejected)]
    assert len(rejects) == len(expected.get("rejects", []))
    for (line, reason), (want_line, want_reason) in zip(
        rejects, expected.get("rejects", []), strict=True
    ):
        assert line == want_line and want_reason in reason
    index = {m.message_id: n for n, m in enumerate(messages)}
    replies = [[n, index.get(m.reply_to)] for n, m in enumerate(messages) if m.reply_to]
    assert replies == expected.get("replies", [])
    members = {m.member for m in messages} | {
        i.member for i in items if isinstance(i, ev.MemberJoined | ev.MemberLeft)
    }
    assert sorted(members) == sorted(expected["members"])
    if "decided" in expected:
        assert any(expected["decided"] in said for said in rows.notes.decided)
    if "encoding" in expected:
        assert rows.notes.encoding == expected["encoding"]


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def test_the_corpus_covers_each_platform():
    assert {p.parent.name for p in CASES} == {"whatsapp", "qq"}
    assert len(CASES) >= 20
