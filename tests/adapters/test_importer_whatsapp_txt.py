from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from qunzhu import events as ev
from qunzhu.adapters import importers
from qunzhu.adapters.importers.common import Rejected

ANDROID = """\
12/31/21, 11:58 PM - Messages and calls are end-to-end encrypted.
12/31/21, 11:58 PM - Alice created group "Runners"
12/31/21, 11:59 PM - Alice added Bob and Carol
12/31/21, 11:59 PM - Alice: Happy new year!
1/1/22, 12:01 AM - Bob: Thanks
and a second line
1/1/22, 12:02 AM - Dan joined using this group's invite link
1/1/22, 12:03 AM - Carol: <Media omitted>
1/1/22, 12:04 AM - Alice removed Carol
1/1/22, 12:05 AM - Bob left
1/1/22, 12:06 AM - You: This message was deleted
"""

IOS = """\
[31/12/2021, 23:58:00] Runners: \u200eMessages and calls are end-to-end encrypted.
[31/12/2021, 23:59:00] Alice: \u200eimage omitted
[31/12/2021, 23:59:30] Bob: 13th is fine
[13/01/2022, 08:00:00] \u200eDan left
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_whatsapp_android_month_first_12_hour(tmp_path, parsed, messages_of):
    items = parsed(_write(tmp_path, "WhatsApp Chat with Runners.txt", ANDROID), "whatsapp-txt")
    msgs = messages_of(items)
    assert [(m.member, m.text, m.kind) for m in msgs] == [
        ("Alice", "Happy new year!", "text"),
        ("Bob", "Thanks\nand a second line", "text"),
        ("Carol", "<Media omitted>", "other"),
    ]
    assert msgs[0].occurred_at == datetime(2021, 12, 31, 23, 59, tzinfo=UTC)
    assert msgs[1].occurred_at == datetime(2022, 1, 1, 0, 1, tzinfo=UTC)
    joins = [(j.member, j.inviter, j.via) for j in items if isinstance(j, ev.MemberJoined)]
    assert joins == [("Bob", "Alice", "added"), ("Carol", "Alice", "added"), ("Dan", None, "link")]
    leaves = [(x.member, x.reason, x.by) for x in items if isinstance(x, ev.MemberLeft)]
    assert leaves == [("Carol", "removed", "Alice"), ("Bob", "left", None)]
    (recall,) = [i for i in items if isinstance(i, ev.MessageRecalled)]
    assert recall.member == "me"


def test_whatsapp_ios_day_first(tmp_path, parsed, messages_of):
    path = _write(tmp_path, "_chat.txt", IOS)
    assert importers.detect(path) == "whatsapp-txt"
    items = parsed(path, "whatsapp-txt")
    msgs = messages_of(items)
    assert [(m.member, m.kind) for m in msgs] == [("Alice", "image"), ("Bob", "text")]
    (left,) = [i for i in items if isinstance(i, ev.MemberLeft)]
    assert left.occurred_at == datetime(2022, 1, 13, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("line", ["13/13/22, 10:00 - Bob: impossible", "2/30/22, 10:00 - Bob: x"])
def test_whatsapp_impossible_dates_are_quarantined(tmp_path, parsed, line):
    path = _write(tmp_path, "chat.txt", ANDROID + line + "\n")
    rejects = [i for i in parsed(path, "whatsapp-txt") if isinstance(i, Rejected)]
    assert len(rejects) == 1 and rejects[0].line == 12 and "impossible date" in rejects[0].reason
