"""Two-factor sign-in: enabling with a confirming code, the sealed secret, the ±1 step
window, codes not accepted twice, disabling, and who QUNZHU_REQUIRE_2FA keeps out."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from qunzhu.auth.credentials import CredentialError
from qunzhu.auth.operators import create_operator
from qunzhu.auth.permissions import Conflict
from qunzhu.auth.twofactor import (
    accept_login_code,
    blocked_without_2fa,
    disable_2fa,
    enable_2fa,
    matching_step,
    new_secret,
    provisioning_uri,
)
from qunzhu.store.models import AuditEntry, Operator

NOW = 1_800_000_000.0  # a fixed instant, so the steps below are exact


def _code(secret: str, at: float) -> str:
    return pyotp.TOTP(secret).at(at)


@pytest.fixture
def mia(store) -> int:
    with store.unit_of_work() as session:
        return create_operator(session, "mia", "a fine password", source="cli").id


def _enable(store, settings, secret: str, at: float = NOW) -> None:
    with store.unit_of_work() as session:
        enable_2fa(session, settings, "mia", secret, _code(secret, at), now=at, source="cli")


def test_the_uri_names_the_operator_and_the_issuer():
    uri = provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "mia")
    assert uri.startswith("otpauth://totp/qunzhu:mia?")
    assert "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri and "issuer=qunzhu" in uri


def test_a_code_is_good_one_step_either_side_and_not_two():
    secret = new_secret()
    step = int(NOW // 30)
    assert matching_step(secret, _code(secret, NOW), NOW) == step
    assert matching_step(secret, _code(secret, NOW - 30), NOW) == step - 1
    assert matching_step(secret, _code(secret, NOW + 30), NOW) == step + 1
    assert matching_step(secret, _code(secret, NOW - 60), NOW) is None
    assert matching_step(secret, "12345", NOW) is None
    assert matching_step(secret, "abcdef", NOW) is None


def test_enable_stores_the_secret_sealed_and_audits(store, settings, mia):
    secret = new_secret()
    _enable(store, settings, secret)
    with store.reading() as session:
        row = session.get_one(Operator, mia)
        assert row.totp_secret and secret not in row.totp_secret
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-1] == "operator.2fa.enable"


def test_enable_with_a_wrong_code_stores_nothing(store, settings, mia):
    secret = new_secret()
    wrong = _code(secret, NOW - 300)
    with pytest.raises(CredentialError, match="does not match"), store.unit_of_work() as session:
        enable_2fa(session, settings, "mia", secret, wrong, now=NOW, source="cli")
    with store.reading() as session:
        assert session.get_one(Operator, mia).totp_secret is None


def test_enable_twice_is_a_conflict(store, settings, mia):
    _enable(store, settings, new_secret())
    with pytest.raises(Conflict, match="already"), store.unit_of_work() as session:
        secret = new_secret()
        enable_2fa(session, settings, "mia", secret, _code(secret, NOW), now=NOW, source="cli")


def test_a_login_code_is_accepted_once(store, settings, mia):
    secret = new_secret()
    _enable(store, settings, secret, at=NOW - 90)
    later = NOW
    code = _code(secret, later)
    with store.unit_of_work() as session:
        assert accept_login_code(session, settings, mia, code, later)
    with store.unit_of_work() as session:
        assert not accept_login_code(session, settings, mia, code, later)
    # nor an older code that is still inside the window
    with store.unit_of_work() as session:
        assert not accept_login_code(session, settings, mia, _code(secret, later - 30), later)
    with store.unit_of_work() as session:
        assert accept_login_code(session, settings, mia, _code(secret, later + 30), later + 30)


def test_the_confirming_code_cannot_sign_in(store, settings, mia):
    secret = new_secret()
    _enable(store, settings, secret)
    with store.unit_of_work() as session:
        assert not accept_login_code(session, settings, mia, _code(secret, NOW), NOW)


def test_disable_forgets_the_secret_and_audits(store, settings, mia):
    secret = new_secret()
    _enable(store, settings, secret, at=NOW - 90)
    with store.unit_of_work() as session:
        disable_2fa(session, "mia", source="cli")
    with store.unit_of_work() as session:
        row = session.get_one(Operator, mia)
        assert row.totp_secret is None and row.totp_last_step is None
        assert not accept_login_code(session, settings, mia, _code(secret, NOW), NOW)
        last = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert last is not None and last.action == "operator.2fa.disable" and last.target == "mia"
    with pytest.raises(Conflict, match="no two-factor"), store.unit_of_work() as session:
        disable_2fa(session, "mia", source="cli")


def test_required_2fa_keeps_out_owners_and_superusers_only(settings):
    required = settings.model_copy(update={"require_2fa": True})
    assert blocked_without_2fa(
        required, has_second_factor=False, is_superuser=False, roles={1: "owner"}
    )
    assert blocked_without_2fa(required, has_second_factor=False, is_superuser=True, roles={})
    assert not blocked_without_2fa(
        required, has_second_factor=False, is_superuser=False, roles={1: "admin", 2: "analyst"}
    )
    assert not blocked_without_2fa(required, has_second_factor=True, is_superuser=True, roles={})
    assert not blocked_without_2fa(settings, has_second_factor=False, is_superuser=True, roles={})
