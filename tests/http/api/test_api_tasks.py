"""The tasks API: analysts read the plan, a moderator acts on the tasks of the groups they
look after and writes one by hand, an admin on all; a done task is done once; bad bodies
answer 422 naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from qunzhu_tests_http import feed, message
from sqlalchemy import select

from qunzhu.store import tasks as store_tasks
from qunzhu.store.community import Group

BASE = "/api/v1/communities/acme/tasks"


def _setup(personas) -> dict[str, int]:
    feed(personas.store, [message(1, group="g1"), message(2, group="g2")])
    cid = personas.communities["acme"]
    now = datetime.now(UTC)
    with personas.store.engine.begin() as conn:
        groups = {
            g: i
            for i, g in conn.execute(
                select(Group.id, Group.platform_group_id).where(Group.community_id == cid)
            )
        }
        store_tasks.assign(conn, cid, personas["moderator"].operator_id, [groups["g1"]], now)
        store_tasks.add(
            conn,
            cid,
            [
                {
                    "kind": "health",
                    "source_key": f"h{g}",
                    "group_id": i,
                    "text": "x",
                    "due_at": now + timedelta(hours=1),
                    "detail": {"death_risk": 80},
                }
                for g, i in groups.items()
            ],
            now,
        )
    return groups


def test_roles_on_the_tasks_api(client, personas):
    groups = _setup(personas)
    plan = client.get(BASE, headers=personas["analyst"].headers)
    assert plan.status_code == 200
    items = {t["group_id"]: t for t in plan.json()["today"]}
    assert set(items) == set(groups.values()) and not any(t["can_act"] for t in items.values())
    mine = client.get(BASE, params={"scope": "mine"}, headers=personas["moderator"].headers)
    [own] = mine.json()["today"]
    assert own["group_id"] == groups["g1"] and own["can_act"] and own["owner"] == "moderator"
    other = items[groups["g2"]]["id"]

    mod = personas["moderator"].headers
    assert client.post(f"{BASE}/{other}/done", headers=mod).status_code == 403
    assert (
        client.post(f"{BASE}/{own['id']}/done", headers=personas["analyst"].headers).status_code
        == 403
    )
    snoozed = client.post(f"{BASE}/{own['id']}/snooze", json={"until": "tomorrow"}, headers=mod)
    assert snoozed.status_code == 200 and snoozed.json()["state"] == "snoozed"
    bad = client.post(f"{BASE}/{own['id']}/snooze", json={"until": "soon"}, headers=mod)
    assert bad.status_code == 422
    admin = personas["admin"].headers
    given = client.post(f"{BASE}/{other}/reassign", json={"operator": "moderator"}, headers=admin)
    assert (
        given.status_code == 200 and given.json()["owner_id"] == personas["moderator"].operator_id
    )
    assert client.post(f"{BASE}/{other}/done", headers=mod).status_code == 200  # now theirs
    again = client.post(f"{BASE}/{other}/done", headers=admin)
    assert again.status_code == 409
    nobody = client.post(f"{BASE}/{own['id']}/reassign", json={"operator": "zed"}, headers=admin)
    assert nobody.status_code == 404 and nobody.json()["error"]["field"] == "operator"

    written = client.post(
        BASE,
        json={"text": "准备周五分享", "due_at": "2031-01-03T18:00:00+08:00", "group": "g1"},
        headers=mod,
    )
    assert written.status_code == 201
    later = client.get(BASE, params={"scope": "mine"}, headers=mod).json()["later"]
    assert [t["id"] for t in later] == [written.json()["id"]] and later[0]["kind"] == "manual"
    naive = client.post(BASE, json={"text": "x", "due_at": "2031-01-03T18:00:00"}, headers=mod)
    assert naive.status_code == 422 and naive.json()["error"]["field"] == "due_at"
    reader = client.post(BASE, json={"text": "x", "due_at": "2031-01-03T18:00:00Z"},
                         headers=personas["analyst"].headers)  # fmt: skip
    assert reader.status_code == 403
