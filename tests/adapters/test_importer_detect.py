from __future__ import annotations

import json
from pathlib import Path

import pytest

from qunzhu.adapters import importers

SAMPLES = {
    "wechat-csv": ("chat.csv", "localId,TalkerId,Type,SubType,IsSender,CreateTime,StrTime,"
                   "StrContent,NickName,Sender\n1,1,1,0,0,1700000000,,hi,a,wxid_a\n"),
    "telegram-json": ("result.json", json.dumps({"name": "g", "type": "private_group", "id": 1,
                      "messages": [{"id": 1, "type": "message", "date": "2024-01-01T00:00:00",
                                    "date_unixtime": "1704067200", "from": "a",
                                    "from_id": "user1", "text": "hi"}]})),
    "discord-json": ("general.json", json.dumps({"guild": {"id": "1"}, "channel": {"id": "2"},
                     "messages": []})),
    "qq-txt": ("qq.txt", "消息记录（此消息记录为文本格式，不支持重新导入）\n\n"
               "2019-03-01 20:15:40 小明(123456)\n你好\n"),
    "whatsapp-txt": ("WhatsApp Chat.txt",
                     "1/2/22, 10:00 AM - Bob: hi\n1/2/22, 10:01 AM - Al: yo\n"),
    "irc": ("2024-01-01.log", "[10:00] <a> hi\n=== b [~b@h]  has joined #c\n"),
}  # fmt: skip


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_each_format_is_detected_from_its_content(tmp_path: Path, fmt: str):
    name, text = SAMPLES[fmt]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert importers.detect(path) == fmt


@pytest.mark.parametrize(
    ("content", "why"),
    [(b"", "empty"), (b"\x00\x01\x02binary\xff" * 50, "not a chat export"),
     (b"just some notes\nnothing here\n", "not a chat export"),
     (b'{"a": 1}', "not a chat export")],
)  # fmt: skip
def test_files_of_no_known_format_are_refused_naming_the_file(tmp_path, content, why):
    path = tmp_path / "mystery.dat"
    path.write_bytes(content)
    with pytest.raises(importers.ImportFormatError, match=rf"mystery\.dat: .*{why}"):
        importers.detect(path)


def test_a_file_given_the_wrong_format_is_refused(tmp_path):
    name, text = SAMPLES["irc"]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(importers.ImportFormatError, match="does not look like telegram-json"):
        importers.parse(path, "telegram-json", community="c", group="g", tz=None)


def test_an_unknown_format_name_is_refused():
    with pytest.raises(importers.ImportFormatError, match="unknown format"):
        importers.module_for("myspace-xml")


def test_the_fast_message_key_is_the_key_the_event_derives_itself():
    from datetime import UTC, datetime

    from qunzhu import events as ev
    from qunzhu.adapters.importers.common import message_key

    derived = ev.MessagePosted(
        platform="irc",
        community="c",
        group="#g",
        member="m",
        occurred_at=datetime(2024, 1, 1, tzinfo=UTC),
        message_id="42",
    )
    assert message_key("irc", "c", "#g", "42") == derived.key
