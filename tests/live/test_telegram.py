"""Telegram end to end: the webhook and polling against a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import time

import httpx
import pytest
from connector_fakes import telegram as tg
from qunzhu_tests_connectors import SPAM, count, post_update, rows, serving, telegram_bot
from sqlalchemy import select

from qunzhu.events import Action
from qunzhu.store.connectors import ConnectorAction, ConnectorAlert, ConnectorGroup
from qunzhu.store.models import Group, Identity, Membership, Message

CHAT = "-1001234567890"
NOW = int(time.time()) - 600


@pytest.fixture
def fake(fake_telegram: tg.FakeTelegram) -> tg.FakeTelegram:
    return fake_telegram


def test_an_ad_is_deleted_and_its_sender_warned(store, hub, fake):
    telegram_bot(store, hub, fake)
    with serving(store, hub) as server:
        assert (
            post_update(server, tg.message_update(1, 501, 1001, SPAM, date=NOW)).status_code == 200
        )
        assert (
            post_update(server, tg.message_update(2, 502, 1002, "大家早上好", date=NOW)).status_code
            == 200
        )
        assert hub.executor.drain()
    assert fake.called("deleteMessage") == [{"chat_id": CHAT, "message_id": 501}]
    [warn] = fake.called("sendMessage")
    assert warn["chat_id"] == CHAT and "禁止留联系方式拉人" in warn["text"]
    assert count(store, Message) == 2
    assert {r.status for r in rows(store, select(ConnectorAction.status))} == {"sent"}


def test_the_third_offence_mutes(store, hub, fake):
    telegram_bot(store, hub, fake)
    with serving(store, hub) as server:
        for n in range(3):
            post_update(
                server, tg.message_update(10 + n, 600 + n, 1001, f"{SPAM} {n}", date=NOW + n)
            )
            assert hub.executor.drain()
    [mute] = fake.called("restrictChatMember")
    assert mute["user_id"] == 1001 and mute["permissions"]["can_send_messages"] is False
    assert mute["until_date"] > time.time()
    assert len(fake.called("deleteMessage")) == 3


def test_a_join_over_the_cap_is_waitlisted(store, hub, fake):
    telegram_bot(store, hub, fake)
    with serving(store, hub) as server:
        for n, uid in enumerate((2001, 2002, 2003)):
            update = tg.chat_member_update(20 + n, uid, "left", "member", date=NOW + n)
            assert post_update(server, update).status_code == 200
        assert hub.executor.drain()
    # cap 2, policy waitlist: the third joiner is let out again (no pending request: a kick
    # that lets them come back) and told their waitlist position
    assert [p["user_id"] for p in fake.called("banChatMember")] == [2003]
    assert fake.called("unbanChatMember")[0]["only_if_banned"] is True
    assert "候补" in fake.called("sendMessage")[0]["text"]


def test_a_forged_secret_is_refused_and_nothing_stored(store, hub, fake):
    telegram_bot(store, hub, fake)
    with serving(store, hub) as server:
        assert (
            post_update(
                server, tg.message_update(1, 501, 1001, "hi", date=NOW), "forged"
            ).status_code
            == 401
        )
        answer = httpx.post(f"{server.url}/hooks/telegram/tgbot", json={"update_id": 2})
        assert answer.status_code == 401
    assert count(store, Message) == 0 and fake.calls == []


def test_a_redelivered_update_is_stored_and_acted_on_once(store, hub, fake):
    telegram_bot(store, hub, fake)
    with serving(store, hub) as server:
        update = tg.message_update(5, 777, 1001, SPAM, date=NOW)
        for _ in range(3):
            assert post_update(server, update).status_code == 200
        assert hub.executor.drain()
    assert count(store, Message) == 1
    assert len(fake.called("deleteMessage")) == 1


def test_retry_after_is_honoured(store, hub, fake):
    telegram_bot(store, hub, fake)
    fake.fail("deleteMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    with serving(store, hub) as server:
        started = time.monotonic()
        post_update(server, tg.message_update(1, 501, 1001, SPAM, date=NOW))
        assert hub.executor.drain()
        waited = time.monotonic() - started
    assert len(fake.called("deleteMessage")) == 2
    assert waited >= 1.0  # it waited the platform's number before trying again
    [row] = rows(
        store,
        select(ConnectorAction.attempts, ConnectorAction.status).where(
            ConnectorAction.kind == "delete_message"
        ),
    )
    assert tuple(row) == (2, "sent")


def test_a_server_error_is_retried(store, hub, fake):
    telegram_bot(store, hub, fake)
    fake.fail("deleteMessage", 502, "Bad Gateway")
    with serving(store, hub) as server:
        post_update(server, tg.message_update(1, 501, 1001, SPAM, date=NOW))
        assert hub.executor.drain()
    assert len(fake.called("deleteMessage")) == 2


def test_a_kicked_bot_disables_the_group_with_a_visible_reason(store, hub, fake):
    telegram_bot(store, hub, fake)
    fake.fail("deleteMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
    with serving(store, hub) as server:
        post_update(server, tg.message_update(1, 501, 1001, SPAM, date=NOW))
        assert hub.executor.drain()
        post_update(server, tg.message_update(2, 502, 1001, SPAM + "!", date=NOW + 1))
        assert hub.executor.drain()
    [(status, reason)] = rows(store, select(ConnectorGroup.status, ConnectorGroup.reason))
    assert status == "disabled" and "kicked" in reason
    assert count(store, ConnectorAlert, ConnectorAlert.kind == "connector_disabled") == 1
    assert len(fake.called("deleteMessage")) == 1  # nothing more is tried in that chat
    skipped = rows(store, select(ConnectorAction.kind).where(ConnectorAction.status == "skipped"))
    assert skipped


def test_removing_the_bot_disables_the_group(store, hub, fake):
    telegram_bot(store, hub, fake)
    with serving(store, hub) as server:
        post_update(server, tg.my_chat_member_update(1, "kicked", date=NOW, actor=1001))
    [(status, reason)] = rows(store, select(ConnectorGroup.status, ConnectorGroup.reason))
    assert status == "disabled" and "removed" in reason


def test_a_join_through_a_named_link_credits_its_referrer(store, hub, fake):
    telegram_bot(store, hub, fake)
    with serving(store, hub) as server:
        post_update(server, tg.chat_member_update(1, 3001, "left", "member", date=NOW))
        hub.executor.submit(
            [
                Action(
                    kind="create_invite_link",
                    platform="telegram",
                    community="acme",
                    group=CHAT,
                    member="3001",
                    detail={"referrer": "3001", "member_limit": 5},
                )
            ]
        )
        assert hub.executor.drain()
        [made] = fake.called("createChatInviteLink")
        assert made["member_limit"] == 5 and made["name"].startswith("ref:3001")
        [(result,)] = rows(
            store,
            select(ConnectorAction.result).where(ConnectorAction.kind == "create_invite_link"),
        )
        link = {
            "invite_link": result["invite_link"],
            "creator": tg.BOT,
            "name": made["name"],
            "creates_join_request": False,
            "is_primary": False,
            "is_revoked": False,
        }
        post_update(
            server, tg.chat_member_update(2, 3002, "left", "member", date=NOW + 5, invite_link=link)
        )
    inviter = rows(
        store,
        select(Membership.inviter_member_id, Membership.join_via)
        .join(Identity, Identity.member_id == Membership.member_id)
        .where(Identity.platform_user_id == "3002"),
    )
    referrer = rows(store, select(Identity.member_id).where(Identity.platform_user_id == "3001"))
    assert inviter[0].inviter_member_id == referrer[0].member_id
    assert inviter[0].join_via == "link"


def test_join_requests_are_approved_and_declined(store, hub, fake):
    telegram_bot(store, hub, fake)
    with serving(store, hub) as server:
        post_update(server, tg.join_request_update(1, 4001, date=NOW))
        post_update(server, tg.join_request_update(2, 4002, date=NOW))
        assert hub.executor.drain()
        base = {"platform": "telegram", "community": "acme", "group": CHAT}
        hub.executor.submit(
            [
                Action(kind="approve_join", member="4001", **base),
                Action(kind="decline_join", member="4002", **base),
            ]
        )
        assert hub.executor.drain()
    assert [p["user_id"] for p in fake.called("approveChatJoinRequest")] == [4001]
    assert [p["user_id"] for p in fake.called("declineChatJoinRequest")] == [4002]
    assert fake.called("banChatMember") == []


def test_chat_migration_is_followed(store, hub, fake):
    telegram_bot(store, hub, fake)
    old, new = "-4001", "-1009999"
    with serving(store, hub) as server:
        post_update(server, tg.message_update(1, 11, 1001, "hello", date=NOW, chat_id=int(old)))
        post_update(
            server,
            tg.message_update(
                2, 12, 1001, "", date=NOW + 1, chat_id=int(old), migrate_to_chat_id=int(new)
            ),
        )
        post_update(
            server, tg.message_update(3, 1, 1001, "hello again", date=NOW + 2, chat_id=int(new))
        )
        # an action still addressed to the old chat follows the platform's answer
        fake.fail(
            "sendMessage",
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=int(new),
        )
        hub.executor.submit(
            [
                Action(
                    kind="send_message", platform="telegram", community="acme", group=old, text="hi"
                )
            ]
        )
        assert hub.executor.drain()
    assert [g for (g,) in rows(store, select(Group.platform_group_id))] == [new]
    assert count(store, Message) == 2
    assert [p["chat_id"] for p in fake.called("sendMessage")] == [old, new]


def test_polling_survives_a_dropped_socket_without_loss_or_doubles(store, hub, fake, wait_for):
    bot = telegram_bot(store, hub, fake, mode="polling", poll_timeout=1)
    fake.push(
        *[
            tg.message_update(100 + n, 900 + n, 1001 + n % 3, f"第 {n} 条", date=NOW + n)
            for n in range(30)
        ]
    )
    fake.drop_polls = 2
    with serving(store, hub):
        wait_for(lambda: count(store, Message) >= 30, what="30 messages")
        wait_for(lambda: fake.confirmed >= 130, what="offset confirmed")
        assert hub.runners[bot.info.id].reconnects >= 2  # one per dropped answer
    assert count(store, Message) == 30
    assert bot.offset == 130
    assert fake.called("deleteWebhook")


def test_a_revoked_token_disables_the_connector(store, hub, fake, wait_for):
    bot = telegram_bot(store, hub, fake, mode="polling", poll_timeout=1)
    fake.token = "revoked"
    with serving(store, hub):
        wait_for(lambda: hub.state.status(bot.info.id) == "disabled", what="disabled")
    from qunzhu.adapters.manage import describe

    [shown] = describe(store)
    assert shown["status"] == "disabled" and "refused" in shown["reason"]
    assert shown["credentials"]["token"].startswith("…")
