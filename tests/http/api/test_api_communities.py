"""Who sees which community, through the API, for every persona."""

from __future__ import annotations

import pytest
from qunzhu_tests_http import feed, joined, message
from sqlalchemy import select

from qunzhu.store.models import AuditEntry, Community, OperatorRole


def test_operator_sees_only_communities_with_a_role(client, personas):
    for name in ("owner", "admin", "moderator", "analyst"):
        answer = client.get("/api/v1/communities", headers=personas[name].headers)
        assert answer.status_code == 200
        assert [c["slug"] for c in answer.json()] == ["acme"]
        assert answer.json()[0]["role"] == name


def test_superuser_sees_every_community(client, personas):
    answer = client.get("/api/v1/communities", headers=personas["root"].headers)
    assert sorted(c["slug"] for c in answer.json()) == ["acme", "rival"]
    assert all(c["role"] is None for c in answer.json())


def test_outsider_gets_404_for_other_community(client, personas):
    headers = personas["outsider"].headers
    for path in (
        "/api/v1/communities/acme",
        "/api/v1/communities/acme/groups",
        "/api/v1/communities/acme/quarantine",
    ):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found"


def test_existing_and_missing_community_look_the_same_to_an_outsider(client, personas):
    headers = personas["outsider"].headers
    hidden = client.get("/api/v1/communities/acme", headers=headers).json()
    missing = client.get("/api/v1/communities/nope", headers=headers).json()
    assert hidden["error"]["code"] == missing["error"]["code"] == "not_found"
    assert hidden["error"]["message"].replace("acme", "X") == missing["error"]["message"].replace(
        "nope", "X"
    )


def test_analyst_reads_community_with_counts_from_rollups(client, personas):
    feed(
        personas.store,
        [
            joined("u1"),
            joined("u2"),
            joined("u3", group="g2"),
            message(1, member="u1"),
            message(2, member="u2"),
            message(3, member="u2", days_ago=20),
        ],
    )
    headers = personas["analyst"].headers
    detail = client.get("/api/v1/communities/acme", headers=headers).json()
    assert detail["members"] == 3
    assert detail["groups"] == 2
    assert detail["messages_7d"] == 2
    assert detail["messages_total"] == 3
    assert detail["capabilities"] == ["read"]
    groups = {
        g["platform_group_id"]: g
        for g in client.get("/api/v1/communities/acme/groups", headers=headers).json()
    }
    assert groups["g1"]["members"] == 2
    assert groups["g1"]["messages_total"] == 3
    assert groups["g2"]["messages_7d"] == 0


def test_analyst_cannot_read_quarantine(client, personas):
    answer = client.get("/api/v1/communities/acme/quarantine", headers=personas["analyst"].headers)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"


def test_superuser_creates_community_and_names_its_owner(client, personas):
    answer = client.post(
        "/api/v1/communities",
        headers=personas["root"].headers,
        json={"slug": "new-club", "name": "新社群", "owner": "analyst"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["slug"] == "new-club"
    with personas.store.reading() as session:
        community_id = session.scalar(select(Community.id).where(Community.slug == "new-club"))
        role = session.get(OperatorRole, (personas["analyst"].operator_id, community_id))
        actions = set(
            session.scalars(
                select(AuditEntry.action).where(AuditEntry.community_id == community_id)
            )
        )
    assert role is not None and role.role == "owner"
    assert actions == {"community.create", "role.grant"}
    mine = client.get("/api/v1/communities", headers=personas["analyst"].headers).json()
    assert {c["slug"] for c in mine} == {"acme", "new-club"}


@pytest.mark.parametrize("persona", ["owner", "admin", "moderator", "analyst", "outsider"])
def test_only_superusers_create_communities(client, personas, persona):
    answer = client.post(
        "/api/v1/communities",
        headers=personas[persona].headers,
        json={"slug": "mine", "name": "Mine"},
    )
    assert answer.status_code == 403


def test_creating_a_taken_slug_is_a_conflict(client, personas):
    answer = client.post(
        "/api/v1/communities",
        headers=personas["root"].headers,
        json={"slug": "acme", "name": "Again"},
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["field"] == "slug"


def test_bad_slug_names_the_field(client, personas):
    answer = client.post(
        "/api/v1/communities",
        headers=personas["root"].headers,
        json={"slug": "Not A Slug", "name": "x"},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "slug"


def test_me_lists_roles_and_capabilities(client, personas):
    me = client.get("/api/v1/me", headers=personas["moderator"].headers).json()
    assert me["username"] == "moderator"
    assert me["via"] == "token"
    assert me["superuser"] is False
    assert me["roles"] == [
        {
            "community": "acme",
            "name": "栗子读书会",
            "role": "moderator",
            "capabilities": ["read", "moderate"],
        }
    ]
