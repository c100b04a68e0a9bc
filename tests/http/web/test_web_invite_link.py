"""The member page's invite link button: admins ask for a member's personal link (queued in
the outbox, audited), the page shows the code and, once made, the link; others cannot."""

from __future__ import annotations

from datetime import timedelta

from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import select, update

from qunzhu.live.hub import ConnectorHub
from qunzhu.pipeline import Pipeline
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.growth import InviteCode
from qunzhu.store.models import AuditEntry, ModerationAction


def _ask(client, acme, **form):
    page = client.get(f"/c/acme/members/{acme['u1']}")
    return client.post(
        f"/c/acme/members/{acme['u1']}/invite-link",
        data={"csrf_token": csrf_from(page.text), **form},
        follow_redirects=False,
    )


def test_an_admin_asks_for_a_link_and_sees_it_once_made(client, acme, personas):
    log_in(client, "admin")
    page = client.get(f"/c/acme/members/{acme['u1']}")
    assert 'id="invite-link"' in page.text
    answer = _ask(client, acme, group_id=str(acme["g1"]), member_limit="3")
    assert answer.status_code == 303 and "done=invite_link_queued" in answer.headers["location"]
    store = personas.store
    with store.reading() as session:
        [row] = session.scalars(select(OutboxAction)).all()
        code = session.scalar(select(InviteCode.code).where(InviteCode.member_id == acme["u1"]))
        audited = session.scalar(
            select(AuditEntry).where(AuditEntry.action == "referral.invite_link")
        )
    assert row.kind == "create_invite_link" and row.action["detail"]["member_limit"] == 3
    assert audited is not None and audited.target == str(acme["u1"])
    shown = client.get(f"/c/acme/members/{acme['u1']}")
    assert code in shown.text and "https://t.me/" not in shown.text
    with store.unit_of_work() as session:
        session.execute(update(InviteCode).values(link="https://t.me/+made"))
    assert "https://t.me/+made" in client.get(f"/c/acme/members/{acme['u1']}").text


def test_bad_input_and_other_roles_are_refused(client, acme, personas):
    log_in(client, "admin")
    assert _ask(client, acme, group_id=str(acme["g1"]), member_limit="lots").status_code == 422
    assert _ask(client, acme, group_id="999999").status_code == 404
    with personas.store.reading() as session:
        assert session.scalars(select(OutboxAction)).all() == []
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    log_in(client, "moderator")
    page = client.get(f"/c/acme/members/{acme['u1']}")
    assert 'id="invite-link"' not in page.text
    refused = client.post(
        f"/c/acme/members/{acme['u1']}/invite-link",
        data={"csrf_token": csrf_from(page.text), "group_id": str(acme["g1"])},
        follow_redirects=False,
    )
    assert refused.status_code == 403


def test_an_approval_in_the_queue_is_queued_for_the_platform(client, acme, personas):
    log_in(client, "moderator")
    queue = client.get("/c/acme/review")
    client.post(
        "/c/acme/review/decide",
        data={
            "csrf_token": csrf_from(queue.text),
            "decision": "approve",
            "ids": str(acme["action"]),
        },
    )
    with personas.store.reading() as session:
        rows = session.execute(select(OutboxAction.origin, OutboxAction.kind)).all()
        status = session.get_one(ModerationAction, acme["action"]).status
    assert status == "approved"
    assert sorted(rows) == [
        (f"review:{acme['action']}", "delete_message"),
        (f"review:{acme['action']}", "warn"),
    ]
    # no connector serves this community and no bridge took them in its time: the serving
    # process turns them into alerts that wait on Today for someone to act by hand
    hub = ConnectorHub(personas.store, pipeline=Pipeline(personas.store))
    hub.outbox.bridge_wait = timedelta(0)
    try:
        assert hub.outbox.run_once() == 2
        assert hub.executor.drain()
    finally:
        hub.stop()
    today = client.get("/c/acme")
    assert today.status_code == 200 and "was not carried out" in today.text
