from __future__ import annotations

import json
from pathlib import Path

import pytest

from qunzhu import events as ev
from qunzhu.adapters.importers.common import Rejected


def author(i: int, name: str) -> dict[str, object]:
    return {"id": str(i), "name": name, "discriminator": "0000", "nickname": name.title(),
            "isBot": False}  # fmt: skip


def message(i: int, who: int, content: str = "", type_: str = "Default", **extra: object):
    return {"id": str(1000 + i), "type": type_, "timestamp": f"2024-05-01T10:{i:02d}:00+00:00",
            "timestampEdited": None, "isPinned": False, "content": content,
            "author": author(who, f"user{who}"), "attachments": [], "embeds": [], "stickers": [],
            "reactions": [], "mentions": [], **extra}  # fmt: skip


MESSAGES = [
    message(1, 1, type_="GuildMemberJoin"),
    message(2, 1, "hello there"),
    message(3, 2, "hi!", type_="Reply", reference={"messageId": "1002", "channelId": "5"},
            reactions=[{"emoji": {"name": "👋"}, "count": 2}],
            mentions=[author(1, "user1")]),
    message(4, 2, "", attachments=[{"id": "9", "url": "x", "fileName": "cat.png",
                                    "fileSizeBytes": 10}]),
    message(5, 1, "", type_="ChannelPinnedMessage"),
    {"id": "1006", "type": "Default", "content": "no author"},
]  # fmt: skip


@pytest.fixture
def export(tmp_path: Path) -> Path:
    data = {"guild": {"id": "1", "name": "G"}, "channel": {"id": "5", "name": "general"},
            "messages": MESSAGES, "messageCount": len(MESSAGES)}  # fmt: skip
    path = tmp_path / "G - general [5].json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def test_discord_messages_replies_joins_and_attachments(export, parsed, messages_of):
    items = parsed(export, "discord-json")
    msgs = messages_of(items)
    assert [(m.message_id, m.member, m.kind) for m in msgs] == [
        ("1002", "1", "text"),
        ("1003", "2", "text"),
        ("1004", "2", "image"),
    ]
    assert msgs[1].reply_to == "1002" and msgs[1].reactions == 2 and msgs[1].mentions == ("1",)
    (join,) = [i for i in items if isinstance(i, ev.MemberJoined)]
    assert join.member == "1" and join.member_name == "User1"
    (bad,) = [i for i in items if isinstance(i, Rejected)]
    assert "messages[5] (id 1006)" in bad.reason and "author" in bad.reason


def test_discord_truncated_file_keeps_the_good_messages(tmp_path, export, parsed, messages_of):
    data = export.read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(data[: data.index(b'"1004"')])
    items = parsed(cut, "discord-json")
    assert [m.message_id for m in messages_of(items)] == ["1002", "1003"]
    assert any(isinstance(i, Rejected) and "invalid JSON" in i.reason for i in items)
