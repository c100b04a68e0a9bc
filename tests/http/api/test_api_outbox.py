"""The outbox, invite links and the schedule over HTTP: who may do what, in which community;
a review's actions queued in its transaction and listed with their outcome."""

from __future__ import annotations

from qunzhu_tests_http import feed, joined
from sqlalchemy import select

from qunzhu.store.connectors import OutboxAction
from qunzhu.store.models import Group, Identity, ModerationAction


def _ids(store) -> tuple[int, int]:
    with store.reading() as session:
        member = session.scalar(select(Identity.member_id).where(Identity.platform_user_id == "m1"))
        group = session.scalar(select(Group.id).where(Group.platform_group_id == "g1"))
    assert member is not None and group is not None
    return member, group


def test_an_invite_link_is_asked_for_by_admins_of_the_community_only(client, personas):
    feed(personas.store, [joined("m1")])
    member, group = _ids(personas.store)
    url = f"/api/v1/communities/acme/members/{member}/invite-link"
    body = {"group_id": group, "member_limit": 10}
    refused = client.post(url, json=body, headers=personas["analyst"].headers)
    assert refused.status_code == 403
    elsewhere = client.post(url, json=body, headers=personas["outsider"].headers)
    assert elsewhere.status_code in (403, 404)
    bad = client.post(
        url, json={"group_id": group, "member_limit": 0}, headers=personas["admin"].headers
    )
    assert bad.status_code == 422
    made = client.post(url, json=body, headers=personas["admin"].headers)
    assert made.status_code == 202, made.text
    assert made.json()["status"] == "queued" and made.json()["member_limit"] == 10
    other = client.post(
        f"/api/v1/communities/acme/members/{member}/invite-link",
        json={"group_id": 10**9},
        headers=personas["admin"].headers,
    )
    assert other.status_code == 404 and other.json()["error"]["code"] == "unknown_group"

    listed = client.get("/api/v1/communities/acme/outbox", headers=personas["moderator"].headers)
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert item["kind"] == "create_invite_link" and item["origin"].startswith(f"invite:{member}:")
    assert listed.json()["counts"] == {"queued": 1}
    analyst = client.get("/api/v1/communities/acme/outbox", headers=personas["analyst"].headers)
    assert analyst.status_code == 403  # it names members and their chats
    rival = client.get("/api/v1/communities/rival/outbox", headers=personas["outsider"].headers)
    assert rival.json()["items"] == []  # another community's outbox is its own


def test_a_review_through_the_api_queues_its_actions_and_a_failed_one_is_retried(client, personas):
    store = personas.store
    feed(store, [joined("m1")])
    member, group = _ids(store)
    with store.unit_of_work() as session:
        item = ModerationAction(
            community_id=personas.communities["acme"],
            member_id=member,
            group_id=group,
            key="k-1",
            action="warn",
            rule="flood",
            status="pending_review",
            evidence={"platform": "api", "community": "acme", "group": "g1", "member": "m1"},
        )
        session.add(item)
        session.flush()
        item_id = item.id
    done = client.post(
        f"/api/v1/communities/acme/moderation/items/{item_id}/approve",
        headers=personas["moderator"].headers,
    )
    assert done.status_code == 200 and len(done.json()["queued"]) == 1
    with store.unit_of_work() as session:
        row = session.scalars(select(OutboxAction)).one()
        assert (row.origin, row.kind) == (f"review:{item_id}", "warn")
        row.status, row.error = "alerted", "no connector"
    url = f"/api/v1/communities/acme/outbox/{row.id}/retry"
    assert client.post(url, headers=personas["analyst"].headers).status_code == 403
    again = client.post(url, headers=personas["moderator"].headers)
    assert again.status_code == 200 and again.json()["status"] == "queued"
    assert client.post(url, headers=personas["moderator"].headers).status_code == 409


def test_the_schedule_is_readable_by_every_role_of_the_community(client, personas):
    shown = client.get("/api/v1/communities/acme/schedule", headers=personas["analyst"].headers)
    assert shown.status_code == 200 and shown.json() == {"jobs": []}
    assert (
        client.get("/api/v1/communities/acme/schedule", headers=personas["outsider"].headers)
    ).status_code in (403, 404)
