"""The calendar page: a moderator plans a draft through the form, only an admin approves it,
Today lists it, cancelling stops it; a bad form answers with the field it is about."""

from __future__ import annotations

import re

from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import select

from qunzhu.store.messaging import PlannedPost


def _posts(store) -> list[tuple[str, str]]:
    with store.reading() as session:
        return [(p.title, p.status) for p in session.scalars(select(PlannedPost))]


def test_plan_approve_and_cancel_a_post(client, acme, personas):
    log_in(client, "moderator")
    page = client.get("/c/acme/calendar")
    assert page.status_code == 200 and 'id="plan"' in page.text
    planned = client.post(
        "/c/acme/calendar",
        data={
            "csrf_token": csrf_from(page.text),
            "title": "周一话题",
            "text": "{group}：本周你在读什么？",
            "kind": "topic",
            "starts_at": "2031-01-06T09:00",
            "repeat": "weekly",
        },
    )
    assert planned.status_code == 200, planned.text
    assert _posts(personas.store) == [("周一话题", "draft")]
    [post_id] = re.findall(r'id="post-(\d+)"', planned.text)
    assert f"/c/acme/calendar/{post_id}/approve" not in planned.text  # moderators do not approve
    refused = client.post(
        f"/c/acme/calendar/{post_id}/approve", data={"csrf_token": csrf_from(planned.text)}
    )
    assert refused.status_code == 403
    today = client.get("/c/acme")
    assert 'id="todo-calendar"' in today.text and "周一话题" in today.text

    client.get("/logout")
    log_in(client, "admin")
    page = client.get("/c/acme/calendar")
    approved = client.post(
        f"/c/acme/calendar/{post_id}/approve", data={"csrf_token": csrf_from(page.text)}
    )
    assert approved.status_code == 200 and _posts(personas.store) == [("周一话题", "approved")]
    cancelled = client.post(
        f"/c/acme/calendar/{post_id}/cancel", data={"csrf_token": csrf_from(approved.text)}
    )
    assert cancelled.status_code == 200 and _posts(personas.store) == [("周一话题", "cancelled")]


def test_a_bad_form_names_its_field_and_saves_nothing(client, acme, personas):
    log_in(client, "moderator")
    page = client.get("/c/acme/calendar")
    answer = client.post(
        "/c/acme/calendar",
        data={
            "csrf_token": csrf_from(page.text),
            "text": "{name} 你好",
            "starts_at": "2031-01-06T09:00",
        },
    )
    assert answer.status_code == 422 and "{name}" in answer.text
    assert _posts(personas.store) == []
