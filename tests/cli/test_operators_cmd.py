"""`qunzhu operator …`: create, grant, revoke, list, tokens, passwords; and open_store."""

from __future__ import annotations

import json

from sqlalchemy import select

from qunzhu.auth.credentials import verify_password
from qunzhu.auth.operators import operator_for_token
from qunzhu.cli.main import app
from qunzhu.store.models import AuditEntry, Community, Operator


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _community(store, slug: str = "club") -> None:
    with store.unit_of_work() as session:
        session.add(Community(slug=slug, name=slug.title()))


def test_create_with_password_from_stdin(cli, cli_env, store):
    made = _json(
        cli.invoke(
            app,
            ["operator", "create", "mia", "--password-stdin", "--json"],
            input="a fine password\n",
        )
    )
    assert made["username"] == "mia" and made["password"] is None
    with store.reading() as session:
        mia = session.scalar(select(Operator).where(Operator.username == "mia"))
        assert mia is not None and verify_password(mia.password_hash, "a fine password")


def test_create_without_stdin_shows_a_generated_password_once(cli, cli_env, store):
    made = _json(cli.invoke(app, ["operator", "create", "root", "--superuser", "--json"]))
    assert made["superuser"] is True
    with store.reading() as session:
        root = session.scalar(select(Operator).where(Operator.username == "root"))
        assert root is not None and root.is_superuser
        assert verify_password(root.password_hash, made["password"])


def test_create_refuses_a_short_password_and_a_taken_name(cli, cli_env):
    short = cli.invoke(
        app, ["operator", "create", "mia", "--password-stdin", "--json"], input="short\n"
    )
    assert short.exit_code == 2
    assert "at least" in json.loads(short.stdout)["error"]
    cli.invoke(app, ["operator", "create", "mia"])
    again = cli.invoke(app, ["operator", "create", "mia", "--json"])
    assert again.exit_code == 2
    assert "exists already" in json.loads(again.stdout)["error"]


def test_grant_revoke_and_list(cli, cli_env, store):
    _community(store)
    cli.invoke(app, ["operator", "create", "mia"])
    granted = _json(cli.invoke(app, ["operator", "grant", "mia", "club", "moderator", "--json"]))
    assert granted["previous"] is None
    listed = _json(cli.invoke(app, ["operator", "list", "--json"]))
    assert listed[0]["roles"] == [{"community": "club", "role": "moderator"}]
    removed = _json(cli.invoke(app, ["operator", "revoke", "mia", "club", "--json"]))
    assert removed["removed"] == "moderator"
    assert _json(cli.invoke(app, ["operator", "list", "--json"]))[0]["roles"] == []
    with store.reading() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["operator.create", "role.grant", "role.revoke"]


def test_grant_names_what_is_wrong(cli, cli_env, store):
    _community(store)
    cli.invoke(app, ["operator", "create", "mia"])
    bad_role = cli.invoke(app, ["operator", "grant", "mia", "club", "king"])
    assert bad_role.exit_code == 2 and "unknown role 'king'" in bad_role.output
    no_club = cli.invoke(app, ["operator", "grant", "mia", "nowhere", "owner"])
    assert no_club.exit_code == 2 and "'nowhere'" in no_club.output


def test_token_is_printed_once_and_works_until_revoked(cli, cli_env, store):
    cli.invoke(app, ["operator", "create", "bot"])
    made = _json(cli.invoke(app, ["operator", "token", "create", "bot", "--name", "ci", "--json"]))
    assert made["token"].startswith(f"qz_{made['prefix']}_")
    with store.reading() as session:
        assert operator_for_token(session, made["token"]) is not None
    plain = cli.invoke(app, ["operator", "token", "create", "bot", "--name", "other"])
    assert plain.exit_code == 0 and "qz_" in plain.stdout
    _json(cli.invoke(app, ["operator", "token", "revoke", str(made["id"]), "--json"]))
    with store.reading() as session:
        assert operator_for_token(session, made["token"]) is None
    missing = cli.invoke(app, ["operator", "token", "revoke", "9999"])
    assert missing.exit_code == 2


def test_passwd_from_stdin(cli, cli_env, store):
    cli.invoke(app, ["operator", "create", "mia"])
    result = cli.invoke(
        app, ["operator", "passwd", "mia", "--password-stdin"], input="another fine password\n"
    )
    assert result.exit_code == 0, result.output
    with store.reading() as session:
        mia = session.scalar(select(Operator).where(Operator.username == "mia"))
        assert mia is not None and verify_password(mia.password_hash, "another fine password")
    empty = cli.invoke(app, ["operator", "passwd", "mia", "--password-stdin"], input="")
    assert empty.exit_code == 2


def test_commands_ask_for_an_upgrade_when_the_schema_is_behind(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("QUNZHU_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("QUNZHU_SECRET_KEY", "t" * 40)
    result = cli.invoke(app, ["operator", "list"])
    assert result.exit_code == 2
    assert "qunzhu db upgrade" in " ".join(result.output.split())  # rich wraps lines


def test_commands_name_a_wrong_setting(cli, monkeypatch):
    monkeypatch.setenv("QUNZHU_DATABASE_URL", "mysql://nope")
    result = cli.invoke(app, ["operator", "list"])
    assert result.exit_code == 2
    assert "QUNZHU_DATABASE_URL" in " ".join(result.output.split())
