"""Broadcasts over HTTP: admins send anywhere, moderators to the groups assigned to them,
analysts read, other communities see nothing; a bad text or audience is a 422 that names
its field and queues nothing."""

from __future__ import annotations

from qunzhu_tests_http import feed, message
from sqlalchemy import func, select

from qunzhu.store.connectors import OutboxAction
from qunzhu.store.models import Group
from qunzhu.store.tasks import OperatorGroup

URL = "/api/v1/communities/acme/broadcasts"


def _queued(store) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxAction)) or 0)


def test_admins_send_analysts_read_and_outsiders_get_nothing(client, personas):
    feed(personas.store, [message(1, group="g1"), message(2, group="g2")])
    body = {
        "text": {"zh-CN": "{group}：今晚八点分享", "en": "{group}: talk at 8pm"},
        "all_groups": True,
    }
    assert client.post(URL, json=body, headers=personas["analyst"].headers).status_code == 403
    assert client.post(URL, json=body, headers=personas["outsider"].headers).status_code in (
        403,
        404,
    )

    shown = client.post(URL, json={**body, "preview": True}, headers=personas["admin"].headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["preview"] is True and _queued(personas.store) == 0
    assert len(shown.json()["deliveries"]) == 2
    summary = shown.json()["summary"]  # what the send page shows before its send button
    assert summary["targets"] == 2 and summary["outcomes"] == {"task": 2}
    assert {u["why"] for u in summary["unreachable"]} == {"no_connector_platform"}
    assert summary["pacing"]["now"] == 2 and summary["pacing"]["daily_cap"] == 2000

    made = client.post(URL, json={**body, "lang": "en"}, headers=personas["admin"].headers)
    assert made.status_code == 200, made.text
    broadcast = made.json()["id"]
    assert sorted(d["text"] for d in made.json()["deliveries"]) == [
        "g1: talk at 8pm",
        "g2: talk at 8pm",
    ]
    assert _queued(personas.store) == 2

    listed = client.get(URL, headers=personas["analyst"].headers)
    assert [b["id"] for b in listed.json()["items"]] == [broadcast]
    one = client.get(f"{URL}/{broadcast}", headers=personas["analyst"].headers)
    assert one.status_code == 200 and one.json()["counts"] == {"queued": 2}
    assert (
        client.get(
            f"/api/v1/communities/rival/broadcasts/{broadcast}",
            headers=personas["outsider"].headers,
        ).status_code
        == 404
    )


def _assign(store, persona, group: str) -> None:
    with store.unit_of_work() as session:
        g = session.scalars(select(Group).where(Group.platform_group_id == group)).one()
        session.add(
            OperatorGroup(
                community_id=g.community_id, operator_id=persona.operator_id, group_id=g.id
            )
        )


def test_a_moderator_sends_to_the_groups_assigned_to_them_only(client, personas):
    feed(personas.store, [message(1, group="g1"), message(2, group="g2", member="u2")])
    mod = personas["moderator"].headers
    text = {"zh-CN": "今晚八点分享"}
    refused = client.post(URL, json={"text": text, "groups": ["g1"]}, headers=mod)
    assert refused.status_code == 403 and "not in a group assigned to you" in refused.text
    _assign(personas.store, personas["moderator"], "g1")
    sent = client.post(URL, json={"text": text, "groups": ["g1"]}, headers=mod)
    assert sent.status_code == 200, sent.text
    for body, field in (
        ({"text": text, "groups": ["g1", "g2"]}, "groups"),
        ({"text": text, "all_groups": True}, "groups"),
        ({"text": {"zh-CN": "{name} 你好"}, "members": ["u2"]}, "members"),
    ):
        answer = client.post(URL, json=body, headers=mod)
        assert answer.status_code == 403, (body, answer.text)
        assert answer.json()["error"]["field"] == field
    assert _queued(personas.store) == 1


def test_bad_input_is_a_422_naming_the_field(client, personas):
    feed(personas.store, [message(1, group="g1")])
    mod = personas["admin"].headers
    cases = [
        ({"text": {"zh-CN": "{name} 你好"}, "all_groups": True}, "text.zh-CN"),
        ({"text": {"zh-CN": "ok"}, "groups": ["nope"]}, "groups"),
        ({"text": {"zh-CN": ""}, "all_groups": True}, "text"),
        ({"text": {"zh-CN": "ok"}}, "groups"),
    ]
    for body, field in cases:
        answer = client.post(URL, json=body, headers=mod)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["field"] == field, body
    assert (
        client.post(URL, json={"text": {"zh-CN": "ok"}, "lang": "fr"}, headers=mod).status_code
        == 422
    )
    assert _queued(personas.store) == 0
