"""Write plausible synthetic chat exports, one file per format, streaming (any size).

`python bench/gen_exports.py --out DIR [--messages N] [--formats irc,wechat-csv,…]`

Each file holds N messages from a few thousand members over many days, with joins
(some invited), leaves, replies where the format has them (addressing for IRC and QQ),
media, and the system lines each exporter writes. The same seed writes the same files.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

START = datetime(2023, 1, 1, 8, 0, tzinfo=UTC)
_ZH_WORDS = (
    "群主 今天 明天 作业 提交 请问 谁 知道 怎么 部署 模型 好的 收到 谢谢 分享 链接 代码 直播 "
    "几点 开始 课程 报名 打卡 资料 老师 同学 问题 解决 了 吗 的 一下 大家"
)
_EN_WORDS = (
    "the a to is it how do i install ubuntu grub kernel driver works fine try reboot "
    "thanks anyone know why error package apt update sudo please help"
)
ZH = tuple(_ZH_WORDS.split())
EN = tuple(_EN_WORDS.split())


class World:
    """Members, their ids and names, and a clock that moves a few seconds per message."""

    def __init__(self, seed: int, members: int = 3000) -> None:
        self.rng = random.Random(seed)
        self.ids = [f"{100000 + i}" for i in range(members)]
        self.names = [f"member{i}" for i in range(members)]
        self.now = START
        self.active = list(range(50))

    def tick(self) -> datetime:
        self.now += timedelta(seconds=self.rng.randint(1, 9))
        return self.now

    def speaker(self) -> int:
        return self.rng.choice(self.active)

    def newcomer(self) -> int:
        i = len(self.active) % len(self.ids)
        self.active.append(i)
        return i

    def text(self, words: tuple[str, ...] | list[str], sep: str) -> str:
        return sep.join(self.rng.choices(words, k=self.rng.randint(2, 16)))


def _plan(world: World, n: int) -> Any:
    """(kind, who, other) for n messages plus joins and leaves in between."""
    rng = world.rng
    for i in range(n):
        if i % 50 == 25:
            inviter = world.speaker() if rng.random() < 0.5 else None
            yield "join", world.newcomer(), inviter
        if i % 200 == 100 and len(world.active) > 60:
            yield "leave", world.active.pop(rng.randrange(len(world.active))), None
        yield "message", world.speaker(), None


def irc(out: TextIO, n: int, seed: int) -> None:
    w = World(seed)
    last: dict[int, bool] = {}
    for kind, who, _ in _plan(w, n):
        w.tick()
        nick = w.names[who]
        if kind == "join":
            out.write(f"=== {nick} [~{nick}@host-{who}.example.net]  has joined #bench\n")
        elif kind == "leave":
            out.write(f"=== {nick} [~{nick}@host-{who}.example.net]  has left #bench []\n")
        else:
            stamp = w.now.strftime("%H:%M")
            text = w.text(EN, " ")
            if last and w.rng.random() < 0.25:
                text = f"{w.names[w.rng.choice(list(last))]}: {text}"
            last[who] = True
            if len(last) > 30:
                last.pop(next(iter(last)))
            out.write(f"[{stamp}] <{nick}> {text}\n")


def wechat_csv(out: TextIO, n: int, seed: int) -> None:
    w = World(seed)
    writer = csv.writer(out)
    writer.writerow(
        [
            "localId",
            "TalkerId",
            "Type",
            "SubType",
            "IsSender",
            "CreateTime",
            "StrTime",
            "StrContent",
            "NickName",
            "Sender",
        ]
    )
    recent: list[tuple[int, int, str]] = []
    for local_id, (kind, who, other) in enumerate(_plan(w, n), start=1):
        when = w.tick()
        stamp, text_time = int(when.timestamp()), when.strftime("%Y-%m-%d %H:%M:%S")
        name = w.names[who]
        if kind == "join":
            line = (
                f'"{w.names[other]}"邀请"{name}"加入了群聊'
                if other is not None
                else f'"{name}"通过扫描"{w.names[w.speaker()]}"分享的二维码加入群聊'
            )
            writer.writerow([local_id, 1, 10000, 0, 0, stamp, text_time, line, "", ""])
        elif kind == "leave":
            line = f'"{w.names[w.speaker()]}"将"{name}"移出了群聊'
            writer.writerow([local_id, 1, 10000, 0, 0, stamp, text_time, line, "", ""])
        else:
            roll = w.rng.random()
            text = w.text(ZH, "")
            if roll < 0.08 and recent:
                q_time, q_who, q_text = w.rng.choice(recent)
                xml = (
                    f"<msg><appmsg><title>{text}</title><type>57</type><refermsg>"
                    f"<chatusr>wxid_{w.ids[q_who]}</chatusr><content>{q_text}</content>"
                    f"<createtime>{q_time}</createtime></refermsg></appmsg></msg>"
                )
                row = [49, 57, xml]
            elif roll < 0.15:
                row = [3, 0, "<img/>"]
            else:
                row = [1, 0, text]
                recent.append((stamp, who, text))
                recent = recent[-20:]
            writer.writerow(
                [
                    local_id,
                    1,
                    row[0],
                    row[1],
                    0,
                    stamp,
                    text_time,
                    row[2],
                    name,
                    f"wxid_{w.ids[who]}",
                ]
            )


def telegram_json(out: TextIO, n: int, seed: int) -> None:
    w = World(seed)
    out.write(
        '{\n "name": "Bench group",\n "type": "private_supergroup",\n "id": 4242,\n "messages": ['
    )
    first = True
    for msg_id, (kind, who, other) in enumerate(_plan(w, n), start=1):
        when = w.tick()
        item: dict[str, Any] = {
            "id": msg_id,
            "date": when.strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(int(when.timestamp())),
        }
        if kind == "join" and other is not None:
            item.update(
                type="service",
                actor=w.names[other],
                actor_id=f"user{w.ids[other]}",
                action="invite_members",
                members=[w.names[who]],
                text="",
            )
        elif kind == "join":
            item.update(
                type="service",
                actor=w.names[who],
                actor_id=f"user{w.ids[who]}",
                action="join_group_by_link",
                inviter=w.names[w.speaker()],
                text="",
            )
        elif kind == "leave":
            item.update(
                type="service",
                actor=w.names[who],
                actor_id=f"user{w.ids[who]}",
                action="remove_members",
                members=[w.names[who]],
                text="",
            )
        else:
            text = w.text(EN, " ")
            item.update(
                type="message",
                **{"from": w.names[who]},
                from_id=f"user{w.ids[who]}",
                text=text,
                text_entities=[{"type": "plain", "text": text}],
            )
            if msg_id > 10 and w.rng.random() < 0.2:
                item["reply_to_message_id"] = msg_id - w.rng.randint(1, 10)
            if w.rng.random() < 0.1:
                item["reactions"] = [{"type": "emoji", "count": w.rng.randint(1, 5), "emoji": "👍"}]
        out.write(("\n  " if first else ",\n  ") + json.dumps(item, ensure_ascii=False))
        first = False
    out.write("\n ]\n}\n")


def discord_json(out: TextIO, n: int, seed: int) -> None:
    w = World(seed)
    out.write(
        '{\n  "guild": {"id": "1", "name": "Bench"},\n'
        '  "channel": {"id": "2", "type": "GuildTextChat", "name": "general"},\n'
        '  "messages": ['
    )
    first = True
    count = 0
    for msg_id, (kind, who, _) in enumerate(_plan(w, n), start=10**17):
        when = w.tick()
        if kind == "leave":
            continue  # DiscordChatExporter has no leave messages
        author = {
            "id": w.ids[who],
            "name": w.names[who],
            "discriminator": "0000",
            "nickname": w.names[who],
            "isBot": False,
        }
        item: dict[str, Any] = {
            "id": str(msg_id),
            "type": "Default",
            "timestamp": when.isoformat(),
            "timestampEdited": None,
            "isPinned": False,
            "content": "",
            "author": author,
            "attachments": [],
            "embeds": [],
            "stickers": [],
            "reactions": [],
            "mentions": [],
        }
        if kind == "join":
            item["type"] = "GuildMemberJoin"
        else:
            count += 1
            item["content"] = w.text(EN, " ")
            if count > 10 and w.rng.random() < 0.2:
                item["type"] = "Reply"
                item["reference"] = {
                    "messageId": str(msg_id - w.rng.randint(1, 10)),
                    "channelId": "2",
                    "guildId": "1",
                }
        out.write(("\n    " if first else ",\n    ") + json.dumps(item, ensure_ascii=False))
        first = False
    out.write(f'\n  ],\n  "messageCount": {count}\n}}\n')


def qq_txt(out: TextIO, n: int, seed: int) -> None:
    w = World(seed)
    out.write(
        "消息记录（此消息记录为文本格式，不支持重新导入）\n\n"
        + "=" * 64
        + "\n消息分组:我的QQ群\n"
        + "=" * 64
        + "\n消息对象:基准群\n"
        + "=" * 64
        + "\n\n"
    )
    for kind, who, other in _plan(w, n):
        when = w.tick().strftime("%Y-%m-%d %H:%M:%S")
        name, number = w.names[who], w.ids[who]
        if kind == "join":
            body = (
                f"{w.names[other]}({w.ids[other]})邀请{name}({number})加入了本群"
                if other is not None
                else f"{name}({number})加入本群"
            )
            out.write(f"{when} 系统消息(10000)\n{body}\n\n")
        elif kind == "leave":
            out.write(f"{when} 系统消息(10000)\n{name}({number})退出了本群\n\n")
        else:
            text = w.text(ZH, "")
            if w.rng.random() < 0.1:
                text = f"@{w.names[w.speaker()]} {text}"
            if w.rng.random() < 0.1:
                text += "\n" + w.text(ZH, "")
            out.write(f"{when} {name}({number})\n{text}\n\n")


def whatsapp_txt(out: TextIO, n: int, seed: int) -> None:
    w = World(seed)
    for kind, who, other in _plan(w, n):
        when = w.tick()
        stamp = f"{when.month}/{when.day}/{when.strftime('%y')}, {when.strftime('%I:%M %p')}"
        name = w.names[who]
        if kind == "join":
            line = (
                f"{w.names[other]} added {name}"
                if other is not None
                else f"{name} joined using this group's invite link"
            )
            out.write(f"{stamp} - {line}\n")
        elif kind == "leave":
            out.write(f"{stamp} - {name} left\n")
        else:
            out.write(f"{stamp} - {name}: {w.text(EN, ' ')}\n")


WRITERS: dict[str, tuple[str, Callable[[TextIO, int, int], None]]] = {
    "irc": ("2023-01-01.bench.log", irc),
    "wechat-csv": ("wechat.csv", wechat_csv),
    "telegram-json": ("result.json", telegram_json),
    "discord-json": ("discord.json", discord_json),
    "qq-txt": ("qq.txt", qq_txt),
    "whatsapp-txt": ("whatsapp.txt", whatsapp_txt),
}


def write(fmt: str, folder: Path, n: int, seed: int = 7) -> Path:
    name, writer = WRITERS[fmt]
    path = folder / name
    with path.open("w", encoding="utf-8", newline="" if fmt == "wechat-csv" else None) as out:
        writer(out, n, seed)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--formats", default=",".join(WRITERS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for fmt in args.formats.split(","):
        print(write(fmt, args.out, args.messages))


if __name__ == "__main__":
    main()
