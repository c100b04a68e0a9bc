"""`qunzhu operator 2fa enable|disable`: the URI shown once, a first code to confirm."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from qunzhu.auth.operators import create_operator
from qunzhu.cli.main import app
from qunzhu.store.models import AuditEntry, Operator


def _mia(store) -> None:
    with store.unit_of_work() as session:
        create_operator(session, "mia", "a fine password", source="cli")


def test_enable_shows_the_uri_and_a_wrong_code_stores_nothing(cli, cli_env, store):
    _mia(store)
    refused = cli.invoke(app, ["operator", "2fa", "enable", "mia"], input="12345x\n")
    assert refused.exit_code != 0 and "does not match" in refused.output
    assert "otpauth://totp/qunzhu:mia?secret=" in refused.output
    with store.reading() as session:
        assert (
            session.scalar(select(Operator.totp_secret).where(Operator.username == "mia")) is None
        )


def test_enable_then_disable(cli, cli_env, store, monkeypatch):
    _mia(store)
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    monkeypatch.setattr("qunzhu.cli.operator_2fa.new_secret", lambda: secret)
    result = cli.invoke(
        app, ["operator", "2fa", "enable", "mia"], input=pyotp.TOTP(secret).now() + "\n"
    )
    assert result.exit_code == 0, result.output
    assert f"secret={secret}" in result.output and "enabled for mia" in result.output
    with store.reading() as session:
        stored = session.scalar(select(Operator.totp_secret).where(Operator.username == "mia"))
    assert stored and secret not in stored

    again = cli.invoke(app, ["operator", "2fa", "enable", "mia"], input="000000\n")
    assert again.exit_code != 0 and "already" in again.output

    result = cli.invoke(app, ["operator", "2fa", "disable", "mia"])
    assert result.exit_code == 0, result.output
    with store.reading() as session:
        assert (
            session.scalar(select(Operator.totp_secret).where(Operator.username == "mia")) is None
        )
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-2:] == ["operator.2fa.enable", "operator.2fa.disable"]


def test_enable_without_a_secret_key_says_so_before_showing_a_secret(
    cli, cli_env, store, monkeypatch
):
    _mia(store)
    monkeypatch.delenv("QUNZHU_SECRET_KEY")
    result = cli.invoke(app, ["operator", "2fa", "enable", "mia"], input="123456\n")
    assert result.exit_code != 0
    assert "QUNZHU_SECRET_KEY is not set" in result.output
    assert "otpauth://" not in result.output
