"""Operators, roles and tokens as the CLI and dashboard change them; the first run."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from qunzhu.auth.bootstrap import ensure_first_operator, login_url
from qunzhu.auth.credentials import CredentialError, verify_password
from qunzhu.auth.operators import (
    check_password_login,
    create_operator,
    create_token,
    grant,
    list_operators,
    operator_for_token,
    revoke,
    revoke_token,
)
from qunzhu.auth.permissions import Conflict, NotFound
from qunzhu.store.models import AuditEntry, Community, Operator


def _actions(store) -> list[str]:
    with store.reading() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_first_run_creates_admin_with_a_random_password_once(store):
    message = ensure_first_operator(store)
    assert message is not None
    password = message.split("password: ", 1)[1].split("\n", 1)[0]
    assert "admin" in message and "/login" in message
    with store.reading() as session:
        admin = session.scalar(select(Operator).where(Operator.username == "admin"))
        assert admin is not None and admin.is_superuser
        assert verify_password(admin.password_hash, password)
    assert ensure_first_operator(store) is None
    assert _actions(store) == ["operator.create"]


def test_first_run_does_nothing_when_an_operator_exists(store):
    with store.unit_of_work() as session:
        create_operator(session, "somebody", "a fine password", source="system")
    assert ensure_first_operator(store) is None
    with store.reading() as session:
        assert session.scalar(select(func.count(Operator.id))) == 1


def test_login_url_points_a_browser_at_a_reachable_address():
    assert login_url("0.0.0.0", 8000) == "http://127.0.0.1:8000/login"
    assert login_url("::1", 9000) == "http://[::1]:9000/login"


def test_each_change_is_audited(store):
    with store.unit_of_work() as session:
        session.add(Community(slug="c1", name="C1"))
    with store.unit_of_work() as session:
        create_operator(session, "mia", "a fine password", source="cli")
        grant(session, "mia", "c1", "analyst", source="cli")
        assert grant(session, "mia", "c1", "moderator", source="cli") == "analyst"
        issued = create_token(session, "mia", "ci", source="cli")
        revoke_token(session, issued.id, source="cli")
        assert revoke(session, "mia", "c1", source="cli") == "moderator"
    assert _actions(store) == [
        "operator.create",
        "role.grant",
        "role.grant",
        "token.create",
        "token.revoke",
        "role.revoke",
    ]
    with store.reading() as session:
        detail = session.scalar(
            select(AuditEntry.detail).where(AuditEntry.action == "operator.create")
        )
    assert detail is not None and "os_user" in detail


def test_duplicate_operator_and_unknown_names_are_clear_errors(store):
    with store.unit_of_work() as session:
        create_operator(session, "mia", "a fine password", source="cli")
    with pytest.raises(Conflict), store.unit_of_work() as session:
        create_operator(session, "MIA", "a fine password", source="cli")
    with pytest.raises(NotFound, match="nobody"), store.unit_of_work() as session:
        grant(session, "nobody", "c1", "owner", source="cli")
    with pytest.raises(CredentialError, match="role"), store.unit_of_work() as session:
        grant(session, "mia", "c1", "emperor", source="cli")


def test_password_login_checks_active_operators_only(store):
    with store.unit_of_work() as session:
        create_operator(session, "mia", "a fine password", source="cli")
    with store.reading() as session:
        assert check_password_login(session, "Mia", "a fine password") is not None
        assert check_password_login(session, "mia", "wrong password") is None
        assert check_password_login(session, "ghost", "a fine password") is None
    with store.unit_of_work() as session:
        session.scalar(select(Operator)).active = False
    with store.reading() as session:
        assert check_password_login(session, "mia", "a fine password") is None


def test_revoked_token_no_longer_identifies_anyone(store):
    with store.unit_of_work() as session:
        create_operator(session, "mia", "a fine password", source="cli")
        issued = create_token(session, "mia", "ci", source="cli")
    with store.reading() as session:
        assert operator_for_token(session, issued.token) is not None
        listed = list_operators(session)
    assert listed[0]["tokens"] == 1
    with store.unit_of_work() as session:
        revoke_token(session, issued.id, source="cli")
    with store.reading() as session:
        assert operator_for_token(session, issued.token) is None
