"""A Telegram group's exported history, then its bot: one member per person, one group.

The export (tests/adapters/corpus/telegram/single_chat.json) names people ``user…`` and the
chat by its bare id; the bot (fake Bot API, real webhook and pipeline) says the Bot API ids.
"""

from __future__ import annotations

import time
from pathlib import Path

from connector_fakes import telegram as tg
from qunzhu_tests_connectors import count, post_update, rows, serving, telegram_bot
from sqlalchemy import select

from qunzhu.importing import import_file
from qunzhu.store.models import Group, Identity, Member, Message

EXPORT = Path(__file__).parents[1] / "adapters" / "corpus" / "telegram" / "single_chat.json"
CHAT = -1001482056085  # the exported chat 1482056085, a private_supergroup
NOW = int(time.time()) - 600
PEOPLE = ("509128351", "611223344", "702334455")  # Lin Wei, Zhou Min, Wang Fang
CHATS = ("-1001482056085", "-1001700000001")  # anonymous admins; the linked channel


def test_an_imported_group_and_its_bot_share_members_and_the_group(store, hub, fake_telegram):
    summary = import_file(store, EXPORT, community="acme", group="1482056085", tz="UTC")
    assert summary["group"] == str(CHAT) and summary["added"] == 7
    telegram_bot(store, hub, fake_telegram)
    as_group = {"id": CHAT, "title": "读书会 Reading Club", "type": "supergroup"}
    anonymous = tg.message_update(3, 31, 1087968824, "下周换书", date=NOW, chat_id=CHAT)
    anonymous["message"]["from"].update(is_bot=True, first_name="Group")
    anonymous["message"]["sender_chat"] = as_group
    updates = [
        tg.message_update(1, 30, 611223344, "第四章读完了", date=NOW, chat_id=CHAT),
        tg.message_update(
            2, 32, 509128351, "好快", date=NOW + 1, chat_id=CHAT,
            reply_to_message={"message_id": 30, "from": tg.user(611223344), "chat": as_group,
                              "date": NOW, "text": "第四章读完了"},
        ),
        anonymous,
        # a message both exported and seen by the bot (Zhou Min's "收到", id 10): once
        tg.message_update(4, 10, 611223344, "收到", date=NOW, chat_id=CHAT),
        tg.chat_member_update(5, 702334455, "member", "left", date=NOW + 2, chat_id=CHAT),
    ]  # fmt: skip
    with serving(store, hub) as server:
        for update in updates:
            assert post_update(server, update).status_code == 200
    assert rows(store, select(Group.platform, Group.platform_group_id)) == [("telegram", str(CHAT))]
    identities = rows(store, select(Identity.platform_user_id))
    assert sorted(i for (i,) in identities) == sorted(PEOPLE + CHATS)
    assert count(store, Member) == len(PEOPLE + CHATS)
    assert count(store, Message) == 7 + 3
    bots = rows(store, select(Identity.platform_user_id).join(Member).where(Member.is_bot))
    assert sorted(b for (b,) in bots) == sorted(CHATS)
