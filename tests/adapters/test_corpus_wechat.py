"""The WeChat CSV samples in corpus/wechat/: each is read exactly as written beside it
(counts, authors, times, texts, reply links, joins with inviters, leaves, recalls, the
rows quarantined with their line), and no member is ever named after markup.

Where the shapes were learned: the columns from WeChatMsg / 留痕's CSV exporter
(LC044/WeChatMsg, app/DataBase/exporter_csv.py and the query in msg.py); the system XML
(revokemsg, pat, sysmsgtemplate with link_list) and the quote XML (appmsg 57 with refermsg)
from WeChat bot frameworks' and chat-database parsers' fixtures; each sample's ``source``
names its own. The people, ids and texts are made up here.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from qunzhu import events as ev
from qunzhu.adapters.importers.common import Rejected

CORPUS = Path(__file__).parent / "corpus" / "wechat"
SAMPLES = sorted(p.stem for p in CORPUS.glob("*.csv"))


def _expected(sample: str) -> dict[str, Any]:
    return json.loads((CORPUS / f"{sample}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_wechat_sample_reads_as_written_beside_it(sample, parsed):
    want = _expected(sample)
    items = parsed(CORPUS / f"{sample}.csv", "wechat-csv", tz=ZoneInfo(want["tz"]))
    kinds = Counter("Rejected" if isinstance(i, Rejected) else type(i).__name__ for i in items)
    assert dict(kinds) == want["counts"]
    msgs = [i for i in items if isinstance(i, ev.MessagePosted)]
    position = {m.message_id: n for n, m in enumerate(msgs)}
    assert [
        [m.member, m.occurred_at.isoformat(), m.kind, m.text, position.get(m.reply_to or "")]
        for m in msgs
    ] == want["messages"]
    assert not any(m.reply_to and m.reply_to not in position for m in msgs)  # all inside
    assert [
        [j.member, j.member_name, j.inviter, j.via, j.occurred_at.isoformat()]
        for j in items
        if isinstance(j, ev.MemberJoined)
    ] == want["joins"]
    assert [
        [lf.member, lf.reason, lf.by, lf.occurred_at.isoformat()]
        for lf in items
        if isinstance(lf, ev.MemberLeft)
    ] == want["leaves"]
    assert [
        [r.member, r.occurred_at.isoformat()] for r in items if isinstance(r, ev.MessageRecalled)
    ] == want["recalls"]
    rejected = [r for r in items if isinstance(r, Rejected)]
    assert [r.line for r in rejected] == [line for line, _ in want["rejected"]]
    for record, (_, reason) in zip(rejected, want["rejected"], strict=True):
        assert reason in record.reason
    people = {i.member for i in items if isinstance(i, ev.Event)}
    people |= {getattr(i, "inviter", None) or getattr(i, "by", None) for i in items}
    assert sorted(p for p in people if p) == want["members"]  # no phantom, no markup


def test_every_wechat_sample_has_its_expectations_and_source():
    assert SAMPLES
    for sample in SAMPLES:
        assert _expected(sample)["source"].strip(), sample
