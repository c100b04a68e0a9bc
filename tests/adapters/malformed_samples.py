"""Sample exports made in the tests, N plain messages each (one record = one message), and
the hostile changes made to them: the malformed-input corpus of the importer tests.

Every message says ``message <i>`` so what was stored can be told apart; times run a minute
apart from 2024-05-01 10:00 UTC (an IRC log of up to 14 hours stays on its day).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
FILE_NAMES = {
    "irc": "2024-05-01.log",
    "whatsapp-txt": "whatsapp.txt",
    "qq-txt": "qq.txt",
    "wechat-csv": "wechat.csv",
    "telegram-json": "result.json",
    "discord-json": "discord.json",
}
JSON_FORMATS = ("telegram-json", "discord-json")


def _at(i: int) -> datetime:
    return T0 + timedelta(minutes=i)


def irc(n: int, text: Callable[[int], str]) -> str:
    return "".join(f"[{_at(i):%H:%M}] <nick{i % 5}> {text(i)}\n" for i in range(n))


def whatsapp(n: int, text: Callable[[int], str]) -> str:
    # German Android dates (01.05.24): dotted dates are day-first, so a file of one day, with
    # no number above 12, still tells its date order (otherwise the import would ask)
    return "".join(f"{_at(i):%d.%m.%y, %H:%M} - Person {i % 5}: {text(i)}\n" for i in range(n))


def qq(n: int, text: Callable[[int], str]) -> str:
    head = "消息记录（此消息记录为文本格式，不支持重新导入）\n\n"
    return head + "".join(
        f"{_at(i):%Y-%m-%d %H:%M:%S} 昵称{i % 5}(2000{i % 5})\n{text(i)}\n\n" for i in range(n)
    )


def wechat(n: int, text: Callable[[int], str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime",
                     "StrTime", "StrContent", "NickName", "Sender"])  # fmt: skip
    for i in range(n):
        when = _at(i)
        writer.writerow([i + 1, 1, 1, 0, 0, int(when.timestamp()),
                         f"{when:%Y-%m-%d %H:%M:%S}", text(i), f"昵称{i % 5}",
                         f"wxid_{i % 5}"])  # fmt: skip
    return out.getvalue()


def telegram(n: int, text: Callable[[int], str]) -> str:
    messages = [
        {
            "id": i + 1,
            "type": "message",
            "date": f"{_at(i):%Y-%m-%dT%H:%M:%S}",
            "date_unixtime": str(int(_at(i).timestamp())),
            "from": f"User {i % 5}",
            "from_id": f"user{i % 5}",
            "text": text(i),
        }
        for i in range(n)
    ]
    chat = {"name": "g", "type": "private_supergroup", "id": 42, "messages": messages}
    return json.dumps(chat, ensure_ascii=False, indent=1)


def discord(n: int, text: Callable[[int], str]) -> str:
    messages = [
        {
            "id": str(9000 + i),
            "type": "Default",
            "timestamp": _at(i).isoformat(),
            "content": text(i),
            "author": {"id": str(i % 5), "name": f"user{i % 5}"},
            "attachments": [],
            "reactions": [],
        }
        for i in range(n)
    ]
    data = {"guild": {"id": "1"}, "channel": {"id": "5"}, "messages": messages}
    return json.dumps(data, ensure_ascii=False, indent=2)


WRITERS: dict[str, Callable[[int, Callable[[int], str]], str]] = {
    "irc": irc,
    "whatsapp-txt": whatsapp,
    "qq-txt": qq,
    "wechat-csv": wechat,
    "telegram-json": telegram,
    "discord-json": discord,
}


def plain(i: int) -> str:
    return f"message {i}"


def sample(
    folder: Path, fmt: str, n: int, text: Callable[[int], str] = plain, encoding: str = "utf-8"
) -> Path:
    path = folder / FILE_NAMES[fmt]
    path.write_bytes(WRITERS[fmt](n, text).encode(encoding))
    return path


def insert(path: Path, at: int, data: bytes) -> Path:
    """``data`` put into the file before byte ``at``."""
    whole = path.read_bytes()
    path.write_bytes(whole[:at] + data + whole[at:])
    return path


def byte_inside_message(path: Path, i: int) -> int:
    """A byte offset inside the text of message ``i`` (after ``message ``)."""
    return path.read_bytes().index(f"message {i}".encode()) + len("message ")
