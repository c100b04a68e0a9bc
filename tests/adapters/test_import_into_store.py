"""Importing into the store (SQLite and PostgreSQL): counts, re-runs, overlaps, Ctrl-C."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_importer_discord_json import MESSAGES as DISCORD_MESSAGES
from test_importer_qq_txt import EXPORT as QQ_EXPORT
from test_importer_telegram_json import MESSAGES as TELEGRAM_MESSAGES
from test_importer_telegram_json import chat
from test_importer_wechat_csv import ROWS as WECHAT_ROWS
from test_importer_wechat_csv import write_csv
from test_importer_whatsapp_txt import ANDROID

from qunzhu.importing import import_file
from qunzhu.store.models import (
    Identity,
    Membership,
    MembershipEvent,
    Message,
    Quarantine,
    Referral,
)


def _count(store, model, *where) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _exports(tmp_path: Path) -> dict[str, Path]:
    import json

    out = {
        "wechat-csv": write_csv(tmp_path / "wechat.csv", WECHAT_ROWS),
        "telegram-json": tmp_path / "result.json",
        "discord-json": tmp_path / "discord.json",
        "qq-txt": tmp_path / "qq.txt",
        "whatsapp-txt": tmp_path / "whatsapp.txt",
        "irc": tmp_path / "2024-05-01.log",
    }
    out["telegram-json"].write_text(json.dumps(chat(TELEGRAM_MESSAGES)), encoding="utf-8")
    out["discord-json"].write_text(
        json.dumps({"guild": {"id": "1"}, "channel": {"id": "5"}, "messages": DISCORD_MESSAGES}),
        encoding="utf-8",
    )
    out["qq-txt"].write_text(QQ_EXPORT, encoding="utf-8")
    out["whatsapp-txt"].write_text(ANDROID, encoding="utf-8")
    out["irc"].write_text(
        "[10:00] <ann> hello\n=== bo [~b@h]  has joined #c\n[10:01] <bo> ann: hi\n"
        "garbage\n=== bo [~b@h]  has left #c []\n",
        encoding="utf-8",
    )
    return out


EXPECTED = {  # messages, joins, leaves, invites, replies, quarantined
    "wechat-csv": (6, 3, 1, 3, 1, 2),
    "telegram-json": (5, 3, 2, 3, 1, 1),
    "discord-json": (3, 1, 0, 0, 1, 1),
    "qq-txt": (4, 1, 1, 1, 1, 0),
    "whatsapp-txt": (3, 3, 2, 2, 0, 0),
    "irc": (2, 1, 1, 0, 1, 1),
}


def test_every_format_imports_once_and_a_second_run_adds_nothing(store, tmp_path):
    for fmt, path in _exports(tmp_path).items():
        first = import_file(store, path, community="club", group=fmt, fmt="auto", tz="UTC")
        got = tuple(first[k] for k in ("messages", "joins", "leaves", "invites", "replies",
                                       "quarantined"))  # fmt: skip
        assert first["format"] == fmt
        assert got == EXPECTED[fmt], fmt
        assert first["added"] == first["messages"], fmt
        stored = _count(store, Message)
        again = import_file(store, path, community="club", group=fmt, fmt=fmt, tz="UTC")
        assert again["added"] == 0 and again["added_events"] == 0, fmt
        assert again["messages"] == first["messages"]
        assert _count(store, Message) == stored
    assert _count(store, Message) == sum(e[0] for e in EXPECTED.values())
    assert _count(store, MembershipEvent) == sum(e[1] + e[2] for e in EXPECTED.values())
    assert _count(store, Quarantine) == sum(e[5] for e in EXPECTED.values())


def test_replies_and_invitations_are_linked_in_the_store(store, tmp_path):
    path = _exports(tmp_path)["wechat-csv"]
    import_file(store, path, community="club", group="wx", tz="UTC")
    assert _count(store, Message, Message.reply_to_id.is_not(None)) == 1
    with store.reading() as session:
        zhang = session.scalar(
            select(Identity.member_id).where(Identity.platform_user_id == "wxid_zhang")
        )
        li = session.scalar(
            select(Identity.member_id).where(Identity.platform_user_id == "wxid_li")
        )
        inviter = session.scalar(
            select(Membership.inviter_member_id).where(Membership.member_id == li)
        )
    assert inviter == zhang
    assert _count(store, Referral, Referral.inviter_member_id == zhang) == 3


def test_an_overlapping_export_adds_only_what_is_new(store, tmp_path):
    lines = [f"[10:{i:02d}] <u{i % 3}> message {i}\n" for i in range(40)]
    early = tmp_path / "2024-05-01.early.log"
    early.write_text("".join(lines[:25]), encoding="utf-8")
    later = tmp_path / "2024-05-01.later.log"
    later.write_text("".join(lines[10:]), encoding="utf-8")
    assert import_file(store, early, community="c", group="g", tz="UTC")["added"] == 25
    assert import_file(store, later, community="c", group="g", tz="UTC")["added"] == 15
    assert _count(store, Message) == 40


def test_an_interrupted_import_completes_on_a_second_run(store, tmp_path):
    # 6,000 lines: the parser reports progress every 2,000 lines, chunks are 500 events
    path = tmp_path / "2024-05-01.log"
    path.write_text(
        "".join(f"[{i // 300:02d}:{i % 60:02d}] <u{i % 7}> line {i}\n" for i in range(6000)),
        encoding="utf-8",
    )
    calls = []

    def ctrl_c(n: int) -> None:
        calls.append(n)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(store, path, community="c", group="g", tz="UTC", progress=ctrl_c)
    partial = _count(store, Message)
    assert 0 < partial < 6000
    again = import_file(store, path, community="c", group="g", tz="UTC")
    assert again["added"] == 6000 - partial
    assert _count(store, Message) == 6000


@pytest.mark.shared_data
def test_ubuntu_logs_import_into_the_store_and_reimport_adds_nothing(sqlite_store, shared_data):
    paths = sorted((shared_data / "irc" / "ubuntu").glob("*.raw.txt"))[:6]
    total = 0
    for path in paths:
        result = import_file(sqlite_store, path, community="ubuntu", group="#ubuntu", tz="UTC")
        assert result["quarantined"] == 0
        total += result["added"]
    assert total == _count(sqlite_store, Message) > 5000
    assert (
        sum(
            import_file(sqlite_store, p, community="ubuntu", group="#ubuntu", tz="UTC")["added"]
            for p in paths
        )
        == 0
    )
    assert _count(sqlite_store, Message, Message.reply_inferred.is_(True)) > 1000
