"""Today's plan in the dashboard: the tasks of the moderator's groups with their buttons,
done once and gone from the open list, snoozed, given to another; an analyst reads but has
no buttons and is refused; a moderator cannot act on a group they do not look after; a
form without its CSRF token changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import select

from qunzhu.store import tasks as store_tasks
from qunzhu.store.tasks import OperatorTask


def _tasks(personas, acme) -> dict[str, int]:
    now = datetime.now(UTC)
    cid = personas.communities["acme"]
    with personas.store.engine.begin() as conn:
        store_tasks.assign(conn, cid, personas["moderator"].operator_id, [acme["g1"]], now)
        store_tasks.add(
            conn,
            cid,
            [
                {
                    "kind": "welcome",
                    "source_key": "w1",
                    "group_id": acme["g1"],
                    "text": "欢迎新朋友！",
                    "due_at": now - timedelta(hours=2),
                    "detail": {"what": "send"},
                },
                {
                    "kind": "review",
                    "source_key": "r1",
                    "group_id": acme["g2"],
                    "text": "review: 2",
                    "due_at": now + timedelta(minutes=30),
                    "detail": {"count": 2},
                },
            ],
            now,
        )
    with personas.store.reading() as session:
        return {t.source_key: t.id for t in session.scalars(select(OperatorTask))}


def _state(personas, task_id: int) -> tuple[str, int | None]:
    with personas.store.reading() as session:
        task = session.get_one(OperatorTask, task_id)
        return task.state, task.owner_id


def test_a_moderator_finishes_a_task_of_their_group(client, acme, personas):
    ids = _tasks(personas, acme)
    log_in(client, "moderator")
    page = client.get("/c/acme")
    assert page.status_code == 200 and 'id="plan"' in page.text
    mine = re.findall(r'id="task-(\d+)"', page.text)
    assert mine == [str(ids["w1"])]  # "mine" by default: they look after a group
    assert "欢迎新朋友！" in page.text and 'id="tasks-overdue"' in page.text
    every = client.get("/c/acme?scope=all")
    assert re.findall(r'id="task-(\d+)"', every.text) == [str(ids["w1"]), str(ids["r1"])]
    assert f"/tasks/{ids['r1']}/done" not in every.text  # not their group: no buttons

    token = csrf_from(page.text)
    refused = client.post(f"/c/acme/tasks/{ids['r1']}/done", data={"csrf_token": token})
    assert refused.status_code == 403 and _state(personas, ids["r1"])[0] == "open"
    forged = client.post(f"/c/acme/tasks/{ids['w1']}/done", data={"scope": "mine"})
    assert forged.status_code == 403 and _state(personas, ids["w1"])[0] == "open"

    done = client.post(
        f"/c/acme/tasks/{ids['w1']}/done", data={"csrf_token": token, "scope": "mine"}
    )
    assert done.status_code == 200 and str(done.url).endswith("/c/acme?scope=mine&done=task_done")
    assert f'id="task-{ids["w1"]}"' not in done.text and _state(personas, ids["w1"])[0] == "done"
    twice = client.post(f"/c/acme/tasks/{ids['w1']}/done", data={"csrf_token": token})
    assert twice.status_code == 409


def test_snooze_and_reassign_by_an_admin_and_an_analyst_only_reads(client, acme, personas):
    ids = _tasks(personas, acme)
    log_in(client, "analyst")
    page = client.get("/c/acme")
    assert f'id="task-{ids["r1"]}"' in page.text and "/done" not in page.text
    refused = client.post(
        f"/c/acme/tasks/{ids['r1']}/snooze", data={"csrf_token": csrf_from(page.text),
                                                    "until": "1h"}
    )  # fmt: skip
    assert refused.status_code == 403
    client.get("/logout")

    log_in(client, "admin")
    page = client.get("/c/acme")
    token = csrf_from(page.text)
    bad = client.post(f"/c/acme/tasks/{ids['r1']}/snooze", data={"csrf_token": token,
                                                                  "until": "never"})  # fmt: skip
    assert bad.status_code == 422 and _state(personas, ids["r1"])[0] == "open"
    snoozed = client.post(
        f"/c/acme/tasks/{ids['r1']}/snooze", data={"csrf_token": token, "until": "1h"}
    )
    assert snoozed.status_code == 200 and f'id="task-{ids["r1"]}"' not in snoozed.text
    assert _state(personas, ids["r1"])[0] == "snoozed"
    given = client.post(
        f"/c/acme/tasks/{ids['w1']}/reassign", data={"csrf_token": token, "operator": "owner"}
    )
    assert given.status_code == 200
    assert _state(personas, ids["w1"]) == ("open", personas["owner"].operator_id)
    reader = client.post(
        f"/c/acme/tasks/{ids['w1']}/reassign", data={"csrf_token": token, "operator": "analyst"}
    )
    assert reader.status_code == 409  # an analyst reads; a task is not given to them


def test_an_owner_assigns_groups_on_the_operators_page(client, acme, personas):
    cid = personas.communities["acme"]
    log_in(client, "owner")
    page = client.get("/c/acme/operators")
    assert page.status_code == 200 and 'id="looked-after"' in page.text
    token = csrf_from(page.text)
    moderator = personas["moderator"].operator_id
    added = client.post(
        f"/c/acme/operators/{moderator}/groups", data={"csrf_token": token, "group_id": acme["g2"]}
    )
    assert added.status_code == 200 and "done=operator_assigned" in str(added.url)
    with personas.store.engine.connect() as conn:
        assert store_tasks.assignments(conn, cid) == {moderator: [acme["g2"]]}
    analyst = personas["analyst"].operator_id
    reader = client.post(
        f"/c/acme/operators/{analyst}/groups", data={"csrf_token": token, "group_id": acme["g2"]}
    )
    assert reader.status_code == 409  # an analyst owns no task
    removed = client.post(
        f"/c/acme/operators/{moderator}/groups/remove",
        data={"csrf_token": token, "group_id": acme["g2"]},
    )
    assert removed.status_code == 200
    with personas.store.engine.connect() as conn:
        assert store_tasks.assignments(conn, cid) == {}
