"""`qunzhu operator sessions` and `revoke-session`: list, end one, end all; audited."""

from __future__ import annotations

import json

from sqlalchemy import select

from qunzhu.auth.operator_sessions import live_sessions, start_session
from qunzhu.auth.operators import create_operator
from qunzhu.cli.main import app
from qunzhu.store.models import AuditEntry, Operator, OperatorSession


def _mia_signed_in_twice(store) -> int:
    with store.unit_of_work() as session:
        mia = create_operator(session, "mia", "a fine password", source="cli")
        create_operator(session, "bo", "another fine password", source="cli")
        start_session(session, mia.id, user_agent="Laptop", address="203.0.113.7")
        start_session(session, mia.id, user_agent="Phone", address="2001:db8::1")
        return int(mia.id)


def test_list_then_revoke_one_then_all(cli, cli_env, store):
    mia = _mia_signed_in_twice(store)
    listed = cli.invoke(app, ["operator", "sessions", "mia", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert {r["user_agent"] for r in rows} == {"Laptop", "Phone"}
    assert all("key" not in k for r in rows for k in r)  # neither the key nor its hash
    laptop = next(r["id"] for r in rows if r["user_agent"] == "Laptop")

    ended = cli.invoke(app, ["operator", "revoke-session", "mia", str(laptop), "--json"])
    assert ended.exit_code == 0, ended.output
    assert json.loads(ended.output)["ended"] == 1
    with store.reading() as session:
        assert [r.user_agent for r in live_sessions(session, [mia])] == ["Phone"]

    everything = cli.invoke(app, ["operator", "revoke-session", "mia", "--all"])
    assert everything.exit_code == 0 and "ended 1 session(s) of mia" in everything.output
    with store.reading() as session:
        assert live_sessions(session, [mia]) == []
        details = [
            e.detail
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action == "session.revoke")
            )
        ]
    assert len(details) == 2 and all(d["reason"] == "revoked from CLI" for d in details)
    assert cli.invoke(app, ["operator", "sessions", "mia"]).output.strip() == (
        "mia has no open session"
    )


def test_a_session_of_another_operator_or_no_choice_is_refused(cli, cli_env, store):
    _mia_signed_in_twice(store)
    with store.reading() as session:
        some = session.scalar(select(OperatorSession.id))
    wrong = cli.invoke(app, ["operator", "revoke-session", "bo", str(some)])
    assert wrong.exit_code != 0 and "no session" in wrong.output
    neither = cli.invoke(app, ["operator", "revoke-session", "mia"])
    assert neither.exit_code != 0 and "--all" in neither.output
    both = cli.invoke(app, ["operator", "revoke-session", "mia", str(some), "--all"])
    assert both.exit_code != 0
    unknown = cli.invoke(app, ["operator", "sessions", "nobody"])
    assert unknown.exit_code != 0 and "no operator" in unknown.output
    with store.reading() as session:
        assert (
            session.scalar(
                select(OperatorSession.id).where(OperatorSession.revoked_at.is_not(None))
            )
            is None
        )


def test_disabling_an_operator_ends_their_sessions(cli, cli_env, store):
    mia = _mia_signed_in_twice(store)
    result = cli.invoke(app, ["operator", "disable", "mia"])
    assert result.exit_code == 0 and "mia is now disabled" in result.output
    with store.reading() as session:
        assert live_sessions(session, [mia]) == []
        assert session.get(Operator, mia).active is False
        reasons = [
            e.detail["reason"]
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action == "session.revoke")
            )
        ]
    assert reasons == ["operator disabled"]
    assert "was already disabled" in cli.invoke(app, ["operator", "disable", "mia"]).output
    assert cli.invoke(app, ["operator", "enable", "mia"]).exit_code == 0
    with store.reading() as session:
        assert session.get(Operator, mia).active is True
        assert live_sessions(session, [mia]) == []  # ended sessions stay ended
