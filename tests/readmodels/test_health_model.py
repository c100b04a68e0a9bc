"""Group health: the engine's death risk, its word (high/watch/ok) and reasons, read the same
by ``qunzhu health --json``, ``GET …/health`` and the dashboard's community page; and the
members per role."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

from qunzhu_tests_http import log_in
from qunzhu_tests_readmodels import feed, ids, join

from qunzhu.cli.main import app
from qunzhu.readmodels.health import (
    DYING_RISK,
    group_health,
    health_computed,
    risk_of,
    role_counts,
)
from qunzhu.store.intelligence import GroupHealth, RoleAssignment

DAY = date(2025, 3, 10)


def _reason(code: str) -> dict[str, object]:
    return {"code": code, "points": 10.0, "en": f"{code} (en)", "zh": f"{code}（中文）", "data": {}}


def _health(
    group_id: int, community_id: int, day: date, risk: float, **metrics: object
) -> GroupHealth:
    return GroupHealth(
        community_id=community_id,
        group_id=group_id,
        day=day,
        death_risk=risk,
        value_per_day=1.5,
        active_share=0.25,
        members=4,
        metrics=dict(metrics),
        reasons=[_reason("silent"), _reason("leaving")],
    )


def _seed(store, personas) -> dict[str, int]:
    from datetime import UTC, datetime

    at = datetime(2025, 3, 1, tzinfo=UTC)
    feed(store, join("a", at), join("b", at, group="g2"))
    found = ids(store)
    with store.unit_of_work() as session:
        acme = found["acme"]
        session.add(_health(found["g1"], acme, DAY - timedelta(days=1), 10.0))
        session.add(_health(found["g1"], acme, DAY, 75.0, role_counts={"lurker": 3, "core": 1}))
        session.add(_health(found["g2"], acme, DAY, 45.0, role_counts={"lurker": 2}))
    return found


def test_the_newest_day_riskiest_first_with_words_and_reasons(store, personas):
    found = _seed(store, personas)
    with store.engine.connect() as conn:
        rows = group_health(conn, found["acme"], lang="zh-CN")
        older = group_health(conn, found["acme"], DAY - timedelta(days=1))
    assert [(r.group, r.day, r.death_risk, r.risk) for r in rows] == [
        ("g1", DAY, 75.0, "high"),
        ("g2", DAY, 45.0, "watch"),
    ]
    assert rows[0].reasons == ("silent（中文）", "leaving（中文）")
    assert rows[0].reason_codes == ("silent", "leaving")
    assert [(r.group, r.risk) for r in older] == [("g1", "ok")]
    assert (risk_of(70.0), risk_of(69.9), risk_of(40.0), risk_of(39.9)) == (
        "high",
        "watch",
        "watch",
        "ok",
    )


def test_only_the_groups_at_risk_when_asked_and_whether_health_ran(store, personas):
    found = _seed(store, personas)
    with store.engine.connect() as conn:
        dying = group_health(conn, found["acme"], min_risk=DYING_RISK)
        assert [(r.group, r.risk) for r in dying] == [("g1", "high")]
        assert health_computed(conn, found["acme"])
        assert not health_computed(conn, personas.communities["rival"])


def test_health_and_roles_are_scoped_by_community(store, personas):
    _seed(store, personas)
    with store.engine.connect() as conn:
        assert group_health(conn, personas.communities["rival"]) == ()
        assert role_counts(conn, personas.communities["rival"]) == {}


def test_role_counts_come_from_the_newest_health_day_else_the_assignments(store, personas):
    found = _seed(store, personas)
    with store.engine.connect() as conn:
        assert role_counts(conn, found["acme"]) == {"lurker": 5, "core": 1}
    with store.unit_of_work() as session:
        session.query(GroupHealth).delete()
        for member, role in (("a", "core"), ("b", "lurker")):
            session.add(
                RoleAssignment(
                    community_id=found["acme"],
                    group_id=found["g1"],
                    member_id=found[member],
                    role=role,
                    day=DAY,
                    since=DAY,
                    value=1.0,
                    reason={},
                )
            )
    with store.engine.connect() as conn:
        assert role_counts(conn, found["acme"]) == {"core": 1, "lurker": 1}


def test_cli_api_and_dashboard_show_the_same_death_risk(store, personas, client, cli, cli_env):
    found = _seed(store, personas)
    with store.engine.connect() as conn:
        expected = [(r.group, r.death_risk, r.risk) for r in group_health(conn, found["acme"])]

    shown = cli.invoke(app, ["health", "-c", "acme", "--json"])
    assert shown.exit_code == 0, shown.output
    from_cli = [(r["group"], r["death_risk"], r["risk"]) for r in json.loads(shown.stdout)]
    answer = client.get("/api/v1/communities/acme/health", headers=personas["analyst"].headers)
    assert answer.status_code == 200, answer.text
    from_api = [(r["group"], r["death_risk"], r["risk"]) for r in answer.json()["groups"]]
    assert from_cli == from_api == expected == [("g1", 75.0, "high"), ("g2", 45.0, "watch")]

    log_in(client, "analyst")
    page = client.get("/c/acme/community").text
    shown_risks = sorted(int(n) for n in re.findall(r"(?:risk|风险) (\d+)/100", page))
    assert shown_risks == sorted(round(risk) for _, risk, _ in expected)
