"""The outbox, invite links and the schedule over HTTP: who may do what, in which community;
a review's actions queued in its transaction and listed with their outcome."""

from __future__ import annotations

from qunzhu_tests_http import feed, joined, message
from sqlalchemy import select, update

from qunzhu.store.connectors import OutboxAction
from qunzhu.store.models import Community, Group, Identity, ModerationAction


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


RULES = """\
name: 栗子读书会
purpose: bridge tests
rules:
  contact_solicitation:
    action: delete_warn
    severity: 2
  classifier:
    action: allow
    threshold_flag: 1.0
    threshold_act: 1.0
escalation:
  points_expire_days: 30
"""
SPAM = "加 薇 信 abc_123 了解赚钱项目"
CLAIM = "/api/v1/communities/acme/outbox/claim"


def _ad_posted(client, personas) -> list[int]:
    """An ad posted through the API by the bridge (platform "api"); its outbox ids."""
    with personas.store.unit_of_work() as session:
        session.execute(update(Community).where(Community.slug == "acme").values(spec_yaml=RULES))
    answer = client.post(
        "/api/v1/events",
        headers=personas["moderator"].headers,
        json=message(1, text=SPAM, member="spammer"),
    )
    assert answer.status_code == 200, answer.text
    return [a["outbox_id"] for a in answer.json()["actions"]]


def test_a_bridge_claims_its_actions_once_and_reports_what_came_of_them(client, personas):
    ids = _ad_posted(client, personas)
    bridge = personas["moderator"].headers
    polled = client.post(CLAIM, json={"platform": "api"}, headers=bridge)
    assert polled.status_code == 200, polled.text
    items = polled.json()["items"]
    assert [(i["id"], i["kind"]) for i in items] == list(
        zip(ids, ["delete_message", "warn"], strict=True)
    )
    assert items[0]["message_id"] == "g1-m1-0" and items[0]["group"] == "g1"
    assert polled.json()["next_after"] == ids[-1]
    # claimed: a second poll, by this bridge or another, does not get them again
    assert client.post(CLAIM, json={"platform": "api"}, headers=bridge).json()["items"] == []
    other = client.post(CLAIM, json={"platform": "api"}, headers=personas["admin"].headers)
    assert other.json()["items"] == []
    following = client.get(
        f"/api/v1/communities/acme/outbox?after={ids[0]}&platform=api", headers=bridge
    )
    assert [(i["id"], i["status"]) for i in following.json()["items"]] == [(ids[1], "sending")]

    url = "/api/v1/communities/acme/outbox/{}/outcome"
    sent = client.post(url.format(ids[0]), json={"status": "sent"}, headers=bridge)
    assert sent.status_code == 200, sent.text
    failed = client.post(
        url.format(ids[1]),
        json={"status": "failed", "reason": "the bridge is not an admin"},
        headers=bridge,
    )
    assert failed.status_code == 200
    twice = client.post(url.format(ids[0]), json={"status": "sent"}, headers=bridge)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "not_claimed"
    with personas.store.reading() as session:
        rows = session.execute(
            select(OutboxAction.status, OutboxAction.error).order_by(OutboxAction.id)
        ).all()
        decision = session.scalars(select(ModerationAction.outcome)).one()
    assert [tuple(r) for r in rows] == [("sent", None), ("failed", "the bridge is not an admin")]
    assert decision == "failed"  # the delete went through, the warning did not
    assert client.post(CLAIM, json={"platform": "api"}, headers=bridge).json()["items"] == []


def test_only_the_bridge_that_claimed_an_action_reports_it(client, personas):
    ids = _ad_posted(client, personas)
    client.post(CLAIM, json={"platform": "api"}, headers=personas["moderator"].headers)
    url = f"/api/v1/communities/acme/outbox/{ids[0]}/outcome"
    other = client.post(url, json={"status": "sent"}, headers=personas["admin"].headers)
    assert other.status_code == 409
    unclaimed = client.post(
        "/api/v1/communities/acme/outbox/999999/outcome",
        json={"status": "sent"},
        headers=personas["moderator"].headers,
    )
    assert unclaimed.status_code == 404


def test_another_community_cannot_see_claim_or_report_an_action(client, personas):
    ids = _ad_posted(client, personas)
    outsider = personas["outsider"].headers  # owner of rival, nothing in acme
    assert client.get("/api/v1/communities/acme/outbox", headers=outsider).status_code == 404
    refused = client.post(CLAIM, json={"platform": "api"}, headers=outsider)
    assert refused.status_code == 404
    own = client.post(
        "/api/v1/communities/rival/outbox/claim", json={"platform": "api"}, headers=outsider
    )
    assert own.status_code == 200 and own.json()["items"] == []
    for slug in ("rival", "acme"):
        report = client.post(
            f"/api/v1/communities/{slug}/outbox/{ids[0]}/outcome",
            json={"status": "sent"},
            headers=outsider,
        )
        assert report.status_code == 404
    analyst = client.post(CLAIM, json={"platform": "api"}, headers=personas["analyst"].headers)
    assert analyst.status_code == 403
    with personas.store.reading() as session:
        statuses = set(session.scalars(select(OutboxAction.status)))
    assert statuses == {"queued"}  # nothing was claimed or reported by the others


def test_a_claim_names_a_known_platform(client, personas):
    bad = client.post(CLAIM, json={"platform": "myspace"}, headers=personas["moderator"].headers)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "platform"
