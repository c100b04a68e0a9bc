"""Growth: the referral leaderboard, and applications decided by admins."""

from __future__ import annotations

import re

import pytest
from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import select
from web_seed import ACME_PHONE

from qunzhu.store.models import Application, AuditEntry


def _application_id(store):
    with store.reading() as session:
        return session.scalars(select(Application.id)).one()


def test_leaderboard_counts_invitations(client, acme):
    log_in(client, "analyst")
    page = client.get("/c/acme/growth")
    assert page.status_code == 200
    row = re.search(r'<tr>\s*<td data-label="#">1</td>.*?</tr>', page.text, re.S).group(0)
    assert ">u1<" in row
    assert ACME_PHONE not in page.text  # the application's answers are masked for analysts
    assert "approve" not in page.text.split('id="applications"')[1]  # no buttons


def test_admin_approves_an_application(client, acme, personas):
    app_id = _application_id(personas.store)
    log_in(client, "admin")
    page = client.get("/c/acme/growth")
    assert f'id="app-{app_id}"' in page.text
    answer = client.post(
        f"/c/acme/applications/{app_id}",
        data={"csrf_token": csrf_from(page.text), "decision": "approve"},
    )
    assert answer.status_code == 200
    assert f'id="app-{app_id}"' not in answer.text
    with personas.store.reading() as session:
        assert session.get_one(Application, app_id).status == "approved"
        assert (
            session.scalar(select(AuditEntry).where(AuditEntry.action == "application.approve"))
            is not None
        )


def test_moderator_cannot_decide_applications(client, acme, personas):
    app_id = _application_id(personas.store)
    log_in(client, "moderator")
    token = csrf_from(client.get("/c/acme/growth").text)
    answer = client.post(
        f"/c/acme/applications/{app_id}", data={"csrf_token": token, "decision": "reject"}
    )
    assert answer.status_code == 403


def test_admin_approves_a_held_reward(client, acme, personas):
    if not acme["reward"]:
        pytest.skip("the growth package (qunzhu.store.growth) is not installed")
    from qunzhu.store.growth import ReferralReward

    log_in(client, "admin")
    page = client.get("/c/acme/growth")
    assert f'id="reward-{acme["reward"]}"' in page.text
    answer = client.post(
        f"/c/acme/rewards/{acme['reward']}",
        data={"csrf_token": csrf_from(page.text), "move": "approve"},
    )
    assert answer.status_code == 200
    with personas.store.reading() as session:
        assert session.get_one(ReferralReward, acme["reward"]).status == "granted"
        assert (
            session.scalar(select(AuditEntry).where(AuditEntry.action == "reward.approve"))
            is not None
        )


def test_rejecting_an_application_needs_a_reason_with_the_growth_package(client, acme, personas):
    app_id = _application_id(personas.store)
    log_in(client, "admin")
    token = csrf_from(client.get("/c/acme/growth").text)
    answer = client.post(
        f"/c/acme/applications/{app_id}",
        data={"csrf_token": token, "decision": "reject", "reason": "名额已满"},
    )
    assert answer.status_code == 200
    with personas.store.reading() as session:
        app = session.get_one(Application, app_id)
        assert app.status == "rejected" and app.reason == "名额已满"
