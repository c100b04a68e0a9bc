from __future__ import annotations

import json
from pathlib import Path

import pytest

from qunzhu import events as ev
from qunzhu.adapters import importers
from qunzhu.adapters.importers.common import Rejected

BASE = 1_714_550_400  # 2024-05-01T08:00:00Z


def msg(i: int, sender: str, name: str, text: object = "", **extra: object) -> dict[str, object]:
    return {
        "id": i,
        "type": "message",
        "date": "2024-05-01T16:00:00",
        "date_unixtime": str(BASE + i * 60),
        "from": name,
        "from_id": sender,
        "text": text,
        "text_entities": [],
        **extra,
    }


def service(i: int, actor: str, actor_id: str, action: str, **extra: object) -> dict[str, object]:
    return {
        "id": i,
        "type": "service",
        "date": "2024-05-01T16:00:00",
        "date_unixtime": str(BASE + i * 60),
        "actor": actor,
        "actor_id": actor_id,
        "action": action,
        "text": "",
        **extra,
    }


MESSAGES = [
    service(1, "Alice", "user1", "invite_members", members=["Bob", "Carol"]),
    msg(2, "user1", "Alice", "Welcome both"),
    msg(3, "user2", "Bob", ["see ", {"type": "link", "text": "https://example.org"}, " ok"],
        reply_to_message_id=2, reactions=[{"type": "emoji", "count": 3, "emoji": "👍"}]),
    msg(4, "user3", "Carol", "", photo="photos/1.jpg"),
    msg(5, "user3", "Carol", "", file="stickers/x.webp", media_type="sticker"),
    msg(6, "user2", "Bob", "fwd", forwarded_from="Some Channel"),
    service(7, "Dan", "user4", "join_group_by_link", inviter="Alice"),
    service(8, "Alice", "user1", "remove_members", members=["Carol"]),
    service(9, "Bob", "user2", "remove_members", members=["Bob"]),
    service(10, "Alice", "user1", "pin_message", message_id=2),
    {"id": 11, "type": "message", "text": "no sender or date"},
]  # fmt: skip


def chat(messages: list[dict[str, object]], **top: object) -> dict[str, object]:
    return {"name": "学习群", "type": "private_supergroup", "id": 1001, **top,
            "messages": messages}  # fmt: skip


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(chat(MESSAGES), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def test_telegram_messages_with_entities_replies_media_and_reactions(export, parsed, messages_of):
    msgs = {m.message_id: m for m in messages_of(parsed(export, "telegram-json"))}
    assert sorted(msgs) == ["2", "3", "4", "5", "6"]
    assert msgs["3"].text == "see https://example.org ok"
    assert msgs["3"].reply_to == "2" and not msgs["3"].reply_inferred
    assert msgs["3"].reactions == 3
    assert (msgs["4"].kind, msgs["5"].kind) == ("image", "sticker")
    assert msgs["6"].forwarded
    assert msgs["2"].occurred_at.timestamp() == BASE + 120


def test_telegram_service_actions_become_member_events(export, parsed):
    items = parsed(export, "telegram-json")
    joins = [(j.member, j.inviter, j.via) for j in items if isinstance(j, ev.MemberJoined)]
    # the export's user2 is the Bot API's 2: what a connected bot will call them
    assert joins == [("2", "1", "added"), ("3", "1", "added"), ("4", "1", "link")]
    leaves = [(x.member, x.reason, x.by) for x in items if isinstance(x, ev.MemberLeft)]
    assert leaves == [("3", "removed", "1"), ("2", "left", None)]
    rejects = [r for r in items if isinstance(r, Rejected)]
    assert len(rejects) == 1 and "messages[10] (id 11)" in rejects[0].reason


def test_telegram_truncated_export_keeps_what_came_before(tmp_path, export, parsed, messages_of):
    data = export.read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(data[: data.index(b'"id": 6')])
    items = parsed(cut, "telegram-json")
    assert [m.message_id for m in messages_of(items)] == ["2", "3", "4", "5"]
    broken = [r for r in items if isinstance(r, Rejected) and "invalid JSON" in r.reason]
    assert len(broken) == 1 and broken[0].line > 1


def test_telegram_file_broken_from_the_start_is_refused(tmp_path):
    path = tmp_path / "result.json"
    path.write_text(
        '{"name": "x", "type": "private_group", "id": 1, "messages": [{"id": 1, "from_id"',
        encoding="utf-8",
    )
    with pytest.raises(importers.ImportFormatError, match=r"result\.json.*invalid JSON"):
        list(importers.parse(path, "telegram-json", community="c", group="g", tz=None))


def test_telegram_account_export_imports_the_chat_named_by_group(tmp_path, parsed, messages_of):
    account = {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 9, "first_name": "Me"},
        "chats": {
            "about": "chats",
            "list": [
                {"name": "Family", "type": "private_group", "id": 7,
                 "messages": [msg(1, "user9", "Me", "hi mum")]},
                chat(MESSAGES),
            ],
        },
    }  # fmt: skip
    path = tmp_path / "result.json"
    path.write_text(json.dumps(account, ensure_ascii=False), encoding="utf-8")
    assert importers.detect(path) == "telegram-json"
    by_name = messages_of(parsed(path, "telegram-json", group="学习群"))
    by_id = messages_of(parsed(path, "telegram-json", group="1001"))
    assert [m.message_id for m in by_name] == [m.message_id for m in by_id] == list("23456")
    with pytest.raises(importers.ImportFormatError, match=r"7 \(Family, private_group\)"):
        parsed(path, "telegram-json", group="nope")
