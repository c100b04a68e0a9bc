"""`qunzhu ingest` and `qunzhu import` on hostile input (SQLite and PostgreSQL): a bad line
is quarantined with its line number and a reason, the good lines around it are stored, and
the run ends without a traceback."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from qunzhu.cli.main import app
from qunzhu.store.models import Message, Quarantine

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).isoformat()


def _event(i: int, **over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "type": "message_posted",
        "platform": "api",
        "community": "demo-c",
        "group": "g1",
        "member": "u1",
        "occurred_at": T,
        "message_id": str(i),
        "text": f"第{i}条",
    }
    return data | over


def _payment(i: int, **over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "type": "payment_received",
        "platform": "api",
        "community": "demo-c",
        "group": "g1",
        "member": "u1",
        "occurred_at": T,
        "payment_id": f"p{i}",
        "amount_cents": 100,
    }
    return data | over


# (line, why it is refused) — every other line is good
HOSTILE = [
    (json.dumps(_event(2, occurred_at=1e20)), "outside 1970"),
    (json.dumps(_event(3, occurred_at=-1e12)), "outside 1970"),
    (json.dumps(_event(4, occurred_at="9999-12-31T00:00:00Z")), "outside 1970"),
    (json.dumps(_event(5, text=None)), "must not be null"),
    (json.dumps(_payment(6, amount_cents=10**30)), "outside 0"),
    (json.dumps(_payment(7, amount_cents=1e30)), "must be an integer"),
    ("[" * 100_000 + "]" * 100_000, "nested"),
    (json.dumps(_event(8, community="demo-c\x00")), "NUL"),
    (json.dumps(_event(9, member="u\x00")), "NUL"),
    (json.dumps(_event(10, text="x" * (2 << 20))), "bytes, at most"),
    (json.dumps(_event(11, member=0)).replace('"member": 0', '"member": ' + "9" * 5000), "digits"),
    (json.dumps(_event(13, member=2**200)), "far too long"),
]


def test_ingest_quarantines_each_hostile_line_and_keeps_the_good_ones(
    cli, cli_env, tmp_path, store
):
    cli.invoke(app, ["community", "create", "demo-c"])
    lines = [json.dumps(_event(1))]
    for line, _ in HOSTILE:
        lines += [line, json.dumps(_event(100 + len(lines)))]
    lines.append(json.dumps(_event(12, text="NUL\x00 in the text is removed")))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli.invoke(app, ["ingest", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    reasons = {q["line"]: q["reason"] for q in report["quarantined"]}
    assert sorted(reasons) == [2 + 2 * n for n in range(len(HOSTILE))]
    for n, (_, why) in enumerate(HOSTILE):
        assert why in reasons[2 + 2 * n], reasons[2 + 2 * n]
    good = len(lines) - len(HOSTILE)
    assert report["added"] == good
    with store.reading() as s:
        assert s.scalar(select(func.count()).select_from(Quarantine)) == len(HOSTILE)
        texts = set(s.scalars(select(Message.text)))
    assert len(texts) == good
    assert "NUL in the text is removed" in texts


def test_import_that_skipped_part_of_a_json_export_exits_3_and_says_how_much(
    cli, cli_env, tmp_path, store
):
    messages = [
        {
            "id": i,
            "type": "message",
            "date_unixtime": str(1714557600 + i),
            "from": "A",
            "from_id": "user1",
            "text": f"message {i}",
        }
        for i in range(1, 21)
    ]
    data = json.dumps({"name": "g", "type": "private_group", "id": 1, "messages": messages},
                      indent=1).encode()  # fmt: skip
    at = data.index(b"message 10")
    path = tmp_path / "result.json"
    path.write_bytes(data[:at] + b"\xff" + data[at:])
    args = ["import", str(path), "-c", "c1", "-g", "g1", "--json"]
    result = cli.invoke(app, args)
    assert result.exit_code == 3, result.output
    summary = json.loads(result.stdout)
    assert summary["added"] == 19
    assert summary["unreadable_stretches"] == 1 and summary["unreadable_bytes"] > 100
    table = cli.invoke(app, args[:-1])
    assert table.exit_code == 3
    assert "could not be read and were skipped" in table.output
