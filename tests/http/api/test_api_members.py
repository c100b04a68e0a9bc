"""Personal data through the API: who may export and erase it."""

from __future__ import annotations

from qunzhu_tests_http import feed, message
from sqlalchemy import select

from qunzhu.store.models import AuditEntry, Member


def _member_id(store) -> int:
    with store.reading() as s:
        return s.scalars(select(Member.id).order_by(Member.id)).first()


def test_admin_exports_and_erases_a_member(client, personas, store):
    feed(store, [message(1, member="u1")])
    mid = _member_id(store)
    path = f"/api/v1/communities/acme/members/{mid}/personal-data"
    exported = client.get(path, headers=personas["admin"].headers)
    assert exported.status_code == 200, exported.text
    assert len(exported.json()["messages"]) == 1
    erased = client.delete(path, headers=personas["admin"].headers)
    assert erased.status_code == 200 and erased.json()["erased"]["messages"] == 1
    again = client.get(path, headers=personas["admin"].headers).json()
    assert again["messages"][0]["text"] == "" and again["member"][0]["display_name"] == "erased"
    with store.reading() as s:
        assert {"member.export", "member.erase"} <= set(s.scalars(select(AuditEntry.action)))


def test_moderators_and_analysts_may_not_and_outsiders_do_not_see_it(client, personas, store):
    feed(store, [message(1, member="u1")])
    path = f"/api/v1/communities/acme/members/{_member_id(store)}/personal-data"
    for name in ("moderator", "analyst"):
        assert client.get(path, headers=personas[name].headers).status_code == 403
        assert client.delete(path, headers=personas[name].headers).status_code == 403
    assert client.get(path, headers=personas["outsider"].headers).status_code == 404
    assert client.get(path).status_code == 401


def test_a_member_of_another_community_is_not_found(client, personas, store):
    feed(store, [message(1, member="u1", community="rival")])
    path = f"/api/v1/communities/acme/members/{_member_id(store)}/personal-data"
    answer = client.get(path, headers=personas["admin"].headers)
    assert answer.status_code == 404 and answer.json()["error"]["field"] == "member_id"


def test_admins_mark_a_member_as_bot_and_it_leaves_the_value_ranking(client, personas, store):
    feed(store, [message(1, member="u1")])
    mid = _member_id(store)
    path = f"/api/v1/communities/acme/members/{mid}/bot"
    for name in ("moderator", "analyst"):
        answer = client.put(path, json={"is_bot": True}, headers=personas[name].headers)
        assert answer.status_code == 403
    assert client.put(path, json={"is_bot": True}).status_code == 401
    marked = client.put(path, json={"is_bot": True}, headers=personas["admin"].headers)
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"member": mid, "is_bot": True, "was_bot": False}
    with store.reading() as s:
        member = s.get_one(Member, mid)
        assert (member.is_bot, member.bot_marked_by) == (True, "operator")
        assert "member.mark_bot" in set(s.scalars(select(AuditEntry.action)))
    wrong = client.put(path, json={"is_bot": "yes"}, headers=personas["admin"].headers)
    assert wrong.status_code == 422


def test_a_bot_mark_on_another_communitys_member_is_not_found(client, personas, store):
    feed(store, [message(1, member="u1", community="rival")])
    path = f"/api/v1/communities/acme/members/{_member_id(store)}/bot"
    answer = client.put(path, json={"is_bot": True}, headers=personas["admin"].headers)
    assert answer.status_code == 404
