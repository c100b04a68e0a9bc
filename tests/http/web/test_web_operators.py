"""Operators: owners invite, change roles and manage tokens; nobody else; all audited."""

from __future__ import annotations

import re

from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import select

from qunzhu.auth.operators import check_password_login
from qunzhu.store.models import ApiToken, AuditEntry, OperatorRole


def test_moderator_and_admin_cannot_manage_operators(client, personas):
    for who in ("moderator", "admin", "analyst"):
        client.cookies.clear()
        log_in(client, who)
        assert client.get("/c/acme/operators").status_code == 403
        token = csrf_from(client.get("/c/acme").text)
        answer = client.post(
            "/c/acme/operators/invite",
            data={"csrf_token": token, "username": "eve", "role": "owner"},
        )
        assert answer.status_code == 403


def test_owner_invites_a_new_operator_with_a_one_time_password(client, personas):
    log_in(client, "owner")
    page = client.get("/c/acme/operators")
    assert page.status_code == 200
    answer = client.post(
        "/c/acme/operators/invite",
        data={"csrf_token": csrf_from(page.text), "username": "newbie", "role": "moderator"},
    )
    assert answer.status_code == 200
    password = re.search(r'<code class="secret">([^<]+)</code>', answer.text).group(1)
    with personas.store.reading() as session:
        assert check_password_login(session, "newbie", password) is not None
        actions = set(
            session.scalars(select(AuditEntry.action).where(AuditEntry.target == "newbie"))
        )
    assert {"operator.create", "role.grant"} <= actions
    assert password not in client.get("/c/acme/operators").text  # shown once only


def test_owner_changes_and_removes_a_role(client, personas):
    log_in(client, "owner")
    token = csrf_from(client.get("/c/acme/operators").text)
    moderator = personas["moderator"].operator_id
    client.post(f"/c/acme/operators/{moderator}/role", data={"csrf_token": token, "role": "admin"})
    with personas.store.reading() as session:
        role = session.get(OperatorRole, (moderator, personas.communities["acme"]))
        assert role is not None and role.role == "admin"
    client.post(f"/c/acme/operators/{moderator}/role", data={"csrf_token": token, "role": "none"})
    with personas.store.reading() as session:
        assert session.get(OperatorRole, (moderator, personas.communities["acme"])) is None


def test_owner_cannot_change_their_own_role(client, personas):
    log_in(client, "owner")
    token = csrf_from(client.get("/c/acme/operators").text)
    me = personas["owner"].operator_id
    answer = client.post(
        f"/c/acme/operators/{me}/role", data={"csrf_token": token, "role": "analyst"}
    )
    assert answer.status_code == 422


def test_owner_cannot_touch_operators_of_another_community(client, personas):
    log_in(client, "owner")
    token = csrf_from(client.get("/c/acme/operators").text)
    outsider = personas["outsider"].operator_id
    answer = client.post(
        f"/c/acme/operators/{outsider}/role", data={"csrf_token": token, "role": "analyst"}
    )
    assert answer.status_code == 404
    with personas.store.reading() as session:
        token_id = session.scalars(
            select(ApiToken.id).where(ApiToken.operator_id == outsider)
        ).one()
    assert (
        client.post(f"/c/acme/tokens/{token_id}/revoke", data={"csrf_token": token}).status_code
        == 404
    )


def test_token_is_shown_once_and_can_be_revoked(client, personas):
    log_in(client, "owner")
    page = client.get("/c/acme/operators")
    made = client.post(
        "/c/acme/tokens", data={"csrf_token": csrf_from(page.text), "name": "reporting script"}
    )
    token = re.search(r'<code class="secret">(qz_[^<]+)</code>', made.text).group(1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with personas.store.reading() as session:
        token_id = session.scalars(
            select(ApiToken.id).where(ApiToken.name == "reporting script")
        ).one()
    client.post(
        f"/c/acme/tokens/{token_id}/revoke",
        data={"csrf_token": csrf_from(client.get("/c/acme/operators").text)},
    )
    client.cookies.clear()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_the_team_lists_a_superuser_owner_who_has_no_role_row(client, personas):
    from qunzhu.http.i18n import catalog

    zh = catalog("zh-CN")
    # the first run's `admin` is a superuser with no role in the sample community
    log_in(client, "root")
    page = client.get("/c/acme/operators")
    assert page.status_code == 200
    team = page.text.split('<table class="operators">', 1)[1].split("</table>", 1)[0]
    assert ">root<" in team.replace(" <", "<")
    assert zh["operators.you"] in team and zh["role.superuser"] in team
    assert ">owner<" in team.replace(" <", "<") and ">moderator<" in team.replace(" <", "<")
    assert zh["operators.empty"] not in page.text
    assert f"/operators/{personas['root'].operator_id}/role" not in page.text  # no role form


def test_an_owner_sees_the_superusers_beside_the_team_without_a_form_for_them(client, personas):
    from qunzhu.http.i18n import catalog

    log_in(client, "owner")
    page = client.get("/c/acme/operators").text
    assert catalog("zh-CN")["role.superuser"] in page
    assert f"/operators/{personas['root'].operator_id}/role" not in page
    assert f"/operators/{personas['moderator'].operator_id}/role" in page
