"""The daily digest on both databases, delivered for real: a local SMTP server (aiosmtpd)
receives the e-mail after a real login (AUTH over the wire); the Telegram digest is a
private message in the outbox; at most one a day per operator (a server that is down is not
tried again that day); none before the hour, none to an operator with nothing open; in the
operator's language."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select, update

from qunzhu.auth.operators import create_operator, grant
from qunzhu.settings import load_settings
from qunzhu.store import Store
from qunzhu.store import tasks as store_tasks
from qunzhu.store.admin import Operator
from qunzhu.store.community import Community, Group
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.tasks import TaskDigest
from qunzhu.tasks.digest import run

NOW = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


class Inbox:
    def __init__(self) -> None:
        self.mail: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mail.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


def _password_is(user: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login.decode() == user
        return AuthResult(success=ok and data.password.decode() == password)

    return check


@pytest.fixture
def smtp() -> Any:
    with socket.socket() as probe:  # a free port for the server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_password_is("digest@acme.test", "s3cret"),
        auth_require_tls=False,  # no certificate on a test server; smtp_tls=none below
    )
    controller.start()
    yield port, inbox
    controller.stop()


def _store(db_url: str, port: int, password: str = "s3cret") -> Store:
    return Store(
        load_settings(
            database_url=db_url,
            secret_key="t" * 40,
            sample_data=False,
            digest_hour=9,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_user="digest@acme.test",
            smtp_password=password,
            smtp_tls="none",
        )
    )


def _seed(store: Store) -> int:
    with store.unit_of_work() as session:
        c = Community(slug="acme", name="读书会", spec_yaml="name: 读书会\npurpose: x\n")
        session.add(c)
        session.flush()
        g = Group(community_id=c.id, platform="qq", platform_group_id="1", name="一群")
        session.add(g)
        for name, role in (("mo", "moderator"), ("lin", "admin"), ("idle", "moderator")):
            create_operator(session, name, "pw-" + "x" * 12, source="cli")
            session.flush()
            grant(session, name, "acme", role, source="cli")
        session.execute(
            update(Operator).where(Operator.username == "mo")
            .values(email="mo@acme.test", telegram_user="4242")
        )  # fmt: skip
        session.execute(
            update(Operator).where(Operator.username == "lin")
            .values(email="lin@acme.test", language="en")
        )  # fmt: skip
        session.execute(
            update(Operator).where(Operator.username == "idle").values(email="idle@acme.test")
        )
        session.flush()
        ids = {o.username: o.id for o in session.scalars(select(Operator))}
        cid, gid = c.id, g.id
    with store.engine.begin() as conn:
        store_tasks.add(
            conn,
            cid,
            [
                {
                    "kind": "welcome",
                    "source_key": "w",
                    "group_id": gid,
                    "text": "欢迎新朋友",
                    "due_at": NOW - timedelta(hours=3),
                    "owner_id": ids["mo"],
                },
                {
                    "kind": "review",
                    "source_key": "r",
                    "group_id": gid,
                    "text": "review: 4",
                    "due_at": NOW + timedelta(hours=5),
                    "owner_id": ids["lin"],
                    "detail": {"count": 4},
                },
            ],
            NOW,
        )
    return cid


def _subject(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_each_operator_gets_one_digest_a_day(db_url, smtp):
    port, inbox = smtp
    store = _store(db_url, port)
    try:
        cid = _seed(store)
        assert run(store, cid, NOW - timedelta(hours=1))["sent"] == 0  # 08:30: not yet
        assert inbox.mail == []
        report = run(store, cid, NOW)
        assert report == {"sent": 2, "failed": 0}
        by_rcpt = {tuple(to): m for to, m in inbox.mail}
        assert set(by_rcpt) == {("mo@acme.test",), ("lin@acme.test",)}  # idle: nothing open
        mo = by_rcpt[("mo@acme.test",)]
        assert _subject(mo) == "【读书会】今日待办：1 项，其中逾期 1 项"
        body = mo.get_content()
        assert "逾期 (1)" in body and "「一群」手动发送欢迎语: 欢迎新朋友" in body
        lin = by_rcpt[("lin@acme.test",)]
        assert (
            _subject(lin) == "[读书会] Today: 1 open, 0 overdue"
            and "4 to review" in lin.get_content()
        )
        with store.reading() as session:
            [telegram] = session.scalars(
                select(OutboxAction).where(OutboxAction.origin == "digest")
            ).all()
        assert telegram.action["group"] == "4242" and telegram.action["detail"]["private"]
        assert run(store, cid, NOW + timedelta(hours=2))["sent"] == 0  # once a day
        assert len(inbox.mail) == 2
        assert run(store, cid, NOW + timedelta(days=1))["sent"] == 2  # the next day again
    finally:
        store.dispose()


def test_a_mail_server_that_is_down_is_written_down_and_not_retried(db_url):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = _store(db_url, port)
    try:
        cid = _seed(store)
        assert run(store, cid, NOW)["failed"] == 2
        with store.reading() as session:
            errors = sorted(d.error or "" for d in session.scalars(select(TaskDigest)))
        assert errors[0] == "" and all("ConnectionRefusedError" in e for e in errors[1:])
        assert run(store, cid, NOW + timedelta(minutes=5))["failed"] == 0  # not twice a day
    finally:
        store.dispose()
