"""End to end on the fake Telegram Bot API: a moderator approves a flagged message in the
dashboard and the bot deletes it; a member's personal invite link asked for on the command
line is made by the bot, and a join through it is credited to that member."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from connector_fakes import telegram as tg
from connector_fakes.liveserver import LiveServer
from fastapi.testclient import TestClient
from qunzhu_tests_connectors import SPAM, post_update, rows, serving, telegram_bot
from sqlalchemy import delete, select, update

from qunzhu.cli.main import app as cli_app
from qunzhu.http.app import create_app
from qunzhu.live.hub import ConnectorHub
from qunzhu.store import Store
from qunzhu.store.connectors import ConnectorInviteLink, OutboxAction
from qunzhu.store.growth import InviteCode
from qunzhu.store.models import Community, Group, Identity, Membership, ModerationAction, Referral

SECRET = "outbox-e2e-secret"
CHAT = "-1001234567890"
NOW = int(time.time()) - 600
FLAG_SPEC = """\
name: 读书会
purpose: read together
rules:
  contact_solicitation:
    action: flag
    severity: 2
  classifier:
    action: allow
    threshold_flag: 1.0
    threshold_act: 1.0
escalation:
  points_expire_days: 30
"""


def _http() -> Any:
    """The login helpers of the API tests (tests/http/api/conftest.py), loaded by path."""
    name = "qunzhu_tests_http"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "http" / "api" / "conftest.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def fake(fake_telegram: tg.FakeTelegram) -> tg.FakeTelegram:
    return fake_telegram


@pytest.fixture
def fast_hub(store: Store, community: str) -> Iterator[ConnectorHub]:
    with store.unit_of_work() as session:
        session.execute(
            update(Community).where(Community.slug == community).values(spec_yaml=FLAG_SPEC)
        )
    made = ConnectorHub(store, backoff=0.05, reconnect_base=0.05, outbox_interval=0.1)
    yield made
    made.stop()


def _post(server: LiveServer, update: dict[str, Any]) -> None:
    answer = post_update(server, update, SECRET)
    assert answer.status_code == 200, answer.text


def _outbox(store: Store) -> list[tuple[str, str]]:
    return [(k, s) for k, s in rows(store, select(OutboxAction.kind, OutboxAction.status))]


def test_a_review_approved_in_the_dashboard_is_carried_out_on_telegram(
    store, settings, fast_hub, fake, wait_for
):
    telegram_bot(store, fast_hub, fake, secret=SECRET)
    http = _http()
    with store.reading() as session:
        cid = session.scalar(select(Community.id).where(Community.slug == "acme"))
    http._add_operator(store, "mod", roles={cid: "moderator"})
    with serving(store, fast_hub) as server:
        _post(server, tg.message_update(1, 501, 1001, SPAM, date=NOW))
        assert fast_hub.executor.drain()
        [(item, status)] = rows(store, select(ModerationAction.id, ModerationAction.status))
        assert status == "pending_review" and fake.called("deleteMessage") == []

        with TestClient(create_app(settings, store)) as web:
            http.log_in(web, "mod")
            queue = web.get("/c/acme/review")
            answer = web.post(
                "/c/acme/review/decide",
                data={
                    "csrf_token": http.csrf_from(queue.text),
                    "decision": "approve",
                    "ids": str(item),
                },
            )
            assert answer.status_code == 200

        wait_for(lambda: fake.called("deleteMessage") != [], what="deleteMessage")
        wait_for(
            lambda: sorted(_outbox(store)) == [("delete_message", "sent"), ("warn", "sent")],
            what="the outbox rows sent",
        )
    assert fake.called("deleteMessage") == [{"chat_id": CHAT, "message_id": 501}]
    assert any("contact_solicitation" in m["text"] for m in fake.called("sendMessage"))
    [row] = rows(
        store,
        select(ModerationAction.status, ModerationAction.outcome, ModerationAction.carried_out_at),
    )
    assert row.status == "approved" and row.outcome == "sent" and row.carried_out_at is not None


def _member_of(store: Store, user: str) -> int:
    [(member,)] = rows(store, select(Identity.member_id).where(Identity.platform_user_id == user))
    return int(member)


def test_a_join_through_a_members_invite_link_is_credited_to_them(
    store, fast_hub, fake, wait_for, cli, cli_env
):
    telegram_bot(store, fast_hub, fake, secret=SECRET)
    with serving(store, fast_hub) as server:
        _post(server, tg.message_update(1, 501, 1001, "大家好，我是新来的", date=NOW))
        assert fast_hub.executor.drain()
        member = _member_of(store, "1001")
        [(group,)] = rows(store, select(Group.id).where(Group.platform_group_id == CHAT))
        args = ["referral", "link", "-c", "acme", "-g", str(group), "-m", str(member)]
        asked = cli.invoke(cli_app, [*args, "--limit", "5", "--json"])
        assert asked.exit_code == 0, asked.output
        request = json.loads(asked.output)
        assert request["status"] == "queued" and request["link"] is None
        again = cli.invoke(cli_app, [*args, "--limit", "5", "--json"])  # a double click
        assert json.loads(again.output)["outbox_id"] == request["outbox_id"]

        wait_for(lambda: _outbox(store) == [("create_invite_link", "sent")], what="link made")
        [made] = fake.called("createChatInviteLink")
        code = request["code"]
        assert made["member_limit"] == 5 and made["name"] == f"ref:1001:{code}"
        [(link,)] = rows(store, select(InviteCode.link).where(InviteCode.member_id == member))
        assert link and link.startswith("https://t.me/+")
        shown = json.loads(cli.invoke(cli_app, [*args, "--limit", "5", "--json"]).output)
        assert shown["link"] == link and shown["status"] == "sent"

        used = {"invite_link": link, "creator": tg.BOT, "name": made["name"]}
        _post(
            server, tg.chat_member_update(2, 3002, "left", "member", date=NOW + 5, invite_link=used)
        )
        # a link the bot no longer remembers (made before a reinstall): its name still tells
        with store.unit_of_work() as session:
            session.execute(delete(ConnectorInviteLink))
        _post(
            server, tg.chat_member_update(3, 3003, "left", "member", date=NOW + 9, invite_link=used)
        )
        assert fast_hub.executor.drain()
    credited = rows(
        store,
        select(Referral.inviter_member_id, Referral.invitee_member_id, Referral.code).order_by(
            Referral.id
        ),
    )
    assert credited == [
        (member, _member_of(store, "3002"), code),
        (member, _member_of(store, "3003"), code),
    ]
    joined = rows(
        store,
        select(Membership.inviter_member_id).where(
            Membership.member_id == _member_of(store, "3002")
        ),
    )
    assert joined == [(member,)]
