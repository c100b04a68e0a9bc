"""POST /api/v1/events: authority first, then every good event stored once, bad ones kept."""

from __future__ import annotations

from qunzhu_tests_http import message
from sqlalchemy import func, select, update

from qunzhu.store.connectors import OutboxAction
from qunzhu.store.models import AuditEntry, Community, Message, Quarantine


def _messages(store) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count(Message.id))) or 0)


def test_moderator_posts_events_and_gets_the_report(client, personas):
    answer = client.post(
        "/api/v1/events",
        headers=personas["moderator"].headers,
        json=[message(1), message(2), message(3)],
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["received"], report["added"], report["duplicates"]) == (3, 3, 0)
    assert report["quarantined"] == []
    assert report["by_type"] == {"message_posted": 3}
    assert _messages(personas.store) == 3


def test_one_event_object_is_accepted_as_well_as_a_list(client, personas):
    answer = client.post("/api/v1/events", headers=personas["owner"].headers, json=message(7))
    assert answer.status_code == 200
    assert answer.json()["added"] == 1


def test_posting_same_events_twice_stores_once(client, personas):
    batch = [message(n) for n in range(5)]
    first = client.post("/api/v1/events", headers=personas["moderator"].headers, json=batch)
    again = client.post("/api/v1/events", headers=personas["moderator"].headers, json=batch)
    assert first.json()["added"] == 5
    assert (again.json()["added"], again.json()["duplicates"]) == (0, 5)
    assert _messages(personas.store) == 5


def test_bad_event_quarantined_with_index_good_ones_kept(client, personas):
    broken = message(2)
    del broken["message_id"]
    batch = [message(1), broken, {"type": "no_such_event"}, message(3), "not an object"]
    answer = client.post("/api/v1/events", headers=personas["moderator"].headers, json=batch)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["added"] == 2
    assert [(q["index"], q["field"]) for q in report["quarantined"]] == [
        (1, "message_id"),
        (2, "type"),
        (4, None),
    ]
    assert "message_id" in report["quarantined"][0]["reason"]
    assert _messages(personas.store) == 2
    with personas.store.reading() as session:
        rows = list(session.scalars(select(Quarantine).order_by(Quarantine.location)))
    assert len(rows) == 3
    # the one that named acme is filed under acme, so its moderators see it
    assert [r.location for r in rows if r.community_id == personas.communities["acme"]] == [
        "line 2"
    ]


def test_quarantine_lists_refused_events_for_moderators(client, personas):
    broken = message(1)
    broken["occurred_at"] = "yesterday"
    client.post("/api/v1/events", headers=personas["moderator"].headers, json=[broken])
    page = client.get(
        "/api/v1/communities/acme/quarantine", headers=personas["moderator"].headers
    ).json()
    assert len(page["items"]) == 1
    assert "occurred_at" in page["items"][0]["reason"]
    assert page["next_offset"] is None


def test_quarantine_masks_phone_numbers_below_admin(client, personas):
    broken = message(1, text="加我 13812345678")
    del broken["message_id"]
    client.post("/api/v1/events", headers=personas["moderator"].headers, json=[broken])
    as_moderator = client.get(
        "/api/v1/communities/acme/quarantine", headers=personas["moderator"].headers
    ).json()
    as_admin = client.get(
        "/api/v1/communities/acme/quarantine", headers=personas["admin"].headers
    ).json()
    assert "13812345678" not in as_moderator["items"][0]["payload"]
    assert "138****5678" in as_moderator["items"][0]["payload"]
    assert "13812345678" in as_admin["items"][0]["payload"]


def test_analyst_cannot_post_events(client, personas):
    answer = client.post("/api/v1/events", headers=personas["analyst"].headers, json=[message(1)])
    assert answer.status_code == 403
    assert _messages(personas.store) == 0


def test_outsider_posting_to_other_community_gets_404_and_nothing_is_written(client, personas):
    batch = [message(1, community="rival"), message(2, community="acme")]
    answer = client.post("/api/v1/events", headers=personas["outsider"].headers, json=batch)
    assert answer.status_code == 404
    assert "'acme'" in answer.json()["error"]["message"]
    assert _messages(personas.store) == 0


def test_unknown_community_is_refused_naming_it(client, personas):
    batch = [message(1), message(2, community="ghost-town")]
    answer = client.post("/api/v1/events", headers=personas["root"].headers, json=batch)
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert "ghost-town" in error["message"]
    assert "event 1" in error["message"]
    assert error["field"] == "community"
    assert _messages(personas.store) == 0


def test_posting_events_is_audited_per_community(client, personas):
    client.post(
        "/api/v1/events", headers=personas["moderator"].headers, json=[message(1), message(2)]
    )
    client.post(
        "/api/v1/events", headers=personas["moderator"].headers, json=[message(1), message(2)]
    )  # a replay changes nothing: no entry
    with personas.store.reading() as session:
        entries = list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == "events.ingest"))
        )
    assert len(entries) == 1
    assert entries[0].operator_id == personas["moderator"].operator_id
    assert entries[0].community_id == personas.communities["acme"]
    assert entries[0].detail is not None and entries[0].detail["added"] == 2


def test_body_that_is_not_json_events_is_refused(client, personas):
    answer = client.post("/api/v1/events", headers=personas["moderator"].headers, json="hello")
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid"


RULES = """\
name: 栗子读书会
purpose: api tests
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


def test_an_ad_posted_answers_with_its_delete_and_warning_and_their_outbox_rows(client, personas):
    with personas.store.unit_of_work() as session:
        session.execute(update(Community).where(Community.slug == "acme").values(spec_yaml=RULES))
    answer = client.post(
        "/api/v1/events",
        headers=personas["moderator"].headers,
        json=[message(1, text=SPAM, member="spammer"), message(2)],
    )
    assert answer.status_code == 200, answer.text
    actions = answer.json()["actions"]
    assert [(a["kind"], a["member"], a["message_id"]) for a in actions] == [
        ("delete_message", "spammer", "g1-m1-0"),
        ("warn", "spammer", None),
    ]
    assert "contact_solicitation" in actions[0]["reason"] and actions[1]["text"]
    with personas.store.reading() as session:
        rows = session.execute(
            select(OutboxAction.id, OutboxAction.status, OutboxAction.platform).order_by(
                OutboxAction.id
            )
        ).all()
    assert [(a["outbox_id"], "queued", "api") for a in actions] == [tuple(r) for r in rows]
    again = client.post(
        "/api/v1/events",
        headers=personas["moderator"].headers,
        json=[message(1, text=SPAM, member="spammer")],
    )
    assert again.json()["actions"] == []  # stored already: decided already
