"""The content calendar over HTTP: moderators plan drafts, only admins approve, analysts
read; the ICS feed answers its token only, and a phone's calendar can read what it says."""

from __future__ import annotations

from icalendar import Calendar
from qunzhu_tests_http import feed, message

URL = "/api/v1/communities/acme/calendar"
BODY = {
    "text": {"zh-CN": "{group} 本周话题：你在读什么？"},
    "starts_at": "2030-01-07T09:00:00",
    "timezone": "Asia/Shanghai",
    "rrule": "FREQ=WEEKLY;BYDAY=MO",
    "all_groups": True,
    "title": "周一话题",
}


def test_plan_approve_read_and_subscribe(client, personas):
    feed(personas.store, [message(1, group="g1")])
    assert client.post(URL, json=BODY, headers=personas["analyst"].headers).status_code == 403
    made = client.post(URL, json=BODY, headers=personas["moderator"].headers)
    assert made.status_code == 200, made.text
    post = made.json()
    assert post["status"] == "draft" and post["next"][0].startswith("2030-01-07T01:00")
    approve = f"{URL}/{post['id']}/approve"
    assert client.post(approve, headers=personas["moderator"].headers).status_code == 403
    approved = client.post(approve, headers=personas["admin"].headers)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = client.post(approve, headers=personas["admin"].headers)
    assert again.status_code == 409 and again.json()["error"]["field"] == "id"

    listed = client.get(URL, headers=personas["analyst"].headers)
    assert [p["title"] for p in listed.json()["items"]] == ["周一话题"]
    ics = client.get(listed.json()["feed"])
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    [event] = Calendar.from_ical(ics.content).walk("VEVENT")
    assert str(event["summary"]) == "[话题] 周一话题"
    assert event["rrule"]["FREQ"] == ["WEEKLY"] and event["rrule"]["BYDAY"] == ["MO"]
    assert event.decoded("dtstart").hour == 9
    assert client.get("/c/acme/calendar.ics?token=" + "0" * 32).status_code == 404
    assert (
        client.get("/c/rival/calendar.ics?token=" + listed.json()["feed"][-32:]).status_code == 404
    )

    cancelled = client.post(f"{URL}/{post['id']}/cancel", headers=personas["moderator"].headers)
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["next"] == []


def test_a_bad_post_is_a_422_naming_its_field(client, personas):
    feed(personas.store, [message(1, group="g1")])
    mod = personas["moderator"].headers
    for change, field in (
        ({"rrule": "EVERY MONDAY"}, "rrule"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"starts_at": "2001-01-01T09:00:00", "rrule": None}, "starts_at"),
        ({"groups": ["nope"], "all_groups": False}, "groups"),
    ):
        answer = client.post(URL, json={**BODY, **change}, headers=mod)
        assert answer.status_code == 422, (change, answer.text)
        assert answer.json()["error"]["field"] == field
