"""Value, roles, tiers, health, funnel and the weekly report through the API."""

from __future__ import annotations

from qunzhu_tests_http import feed, joined, message


def _conversation() -> list[dict]:
    items = [joined(f"u{i}") for i in range(5)]
    items.append(message(1, member="u1", text="How do I call me at 13812345678 about RAG?"))
    items.append(message(2, member="u2", text="use a reranker and smaller chunks", days_ago=0))
    items += [
        message(n, member=f"u{n % 5}", text=f"useful note number {n} about agents", days_ago=n % 20)
        for n in range(3, 40)
    ]
    return items


def _recompute(client, personas) -> dict:
    done = client.post("/api/v1/communities/acme/recompute", headers=personas["admin"].headers)
    assert done.status_code == 200, done.text
    return done.json()


def test_analyst_reads_health_members_funnel_and_report_after_a_recompute(client, personas, store):
    feed(store, _conversation())
    result = _recompute(client, personas)
    assert result["scored_messages"] == 39 and result["groups"] == 1
    h = personas["analyst"].headers
    health = client.get("/api/v1/communities/acme/health", headers=h)
    assert health.status_code == 200, health.text
    (group,) = health.json()["groups"]
    assert {"group", "death_risk", "reasons", "active_share", "value_per_day"} <= set(group)
    members = client.get("/api/v1/communities/acme/members/value?group=g1", headers=h).json()
    first = members["members"][0]
    assert {"member", "names", "messages", "value", "role", "tier"} <= set(first)
    why = client.get(
        f"/api/v1/communities/acme/members/{first['member']}/explain?lang=zh-CN", headers=h
    )
    assert why.status_code == 200 and why.json()["value_explained"]
    funnel = client.get("/api/v1/communities/acme/funnel", headers=h).json()
    assert funnel["joins"] >= 5
    report = client.get("/api/v1/communities/acme/reports/weekly", headers=h)
    assert report.status_code == 200, report.text
    texts = [q["text"] for q in report.json()["unanswered"]]
    assert any("138****5678" in t for t in texts)  # analysts see phone numbers masked
    assert all("13812345678" not in t for t in texts)
    history = client.get("/api/v1/communities/acme/health/history", headers=h).json()
    assert list(history["groups"]) == ["g1"]


def test_only_managers_recompute_or_lock_tiers_and_outsiders_see_nothing(client, personas, store):
    feed(store, _conversation())
    base = "/api/v1/communities/acme"
    analyst = personas["analyst"].headers
    assert client.post(f"{base}/recompute", headers=analyst).status_code == 403
    assert client.get(f"{base}/health", headers=personas["outsider"].headers).status_code == 404
    assert client.get(f"{base}/health").status_code == 401
    _recompute(client, personas)
    mid = client.get(f"{base}/members/value", headers=analyst).json()["members"][0]["member"]
    lock = {"tier": "member", "reason": "founding member"}
    assert (
        client.put(f"{base}/members/{mid}/tier-lock", json=lock, headers=analyst).status_code == 403
    )
    locked = client.put(
        f"{base}/members/{mid}/tier-lock", json=lock, headers=personas["admin"].headers
    )
    assert locked.status_code == 200 and locked.json()["locked"] is True
    bad = client.put(
        f"{base}/members/{mid}/tier-lock",
        json={"tier": "gold", "reason": "x"},
        headers=personas["admin"].headers,
    )
    assert bad.status_code == 422 and "unknown tier" in bad.json()["error"]["message"]
    why = client.get(f"{base}/members/{mid}/explain", headers=analyst).json()
    assert why["tier"]["locked"] and why["tier_history"][-1]["source"] == "manual"
    assert (
        client.delete(
            f"{base}/members/{mid}/tier-lock", headers=personas["admin"].headers
        ).status_code
        == 200
    )


def test_report_before_any_recompute_says_what_to_do(client, personas, store):
    feed(store, _conversation())
    r = client.get("/api/v1/communities/acme/reports/weekly", headers=personas["analyst"].headers)
    assert r.status_code == 409 and "recompute" in r.text


def test_a_day_outside_the_event_years_answers_422_naming_it(client, personas):
    # 0001-01-01 overflowed the report's week arithmetic (a 500 the API fuzzer found)
    owner = personas["owner"].headers
    for method, path in (
        ("GET", "health"),
        ("GET", "reports/weekly"),
        ("POST", "recompute"),
    ):
        for day in ("0001-01-01", "9999-12-31"):
            answer = client.request(
                method, f"/api/v1/communities/acme/{path}", params={"day": day}, headers=owner
            )
            assert answer.status_code == 422, (path, day, answer.text)
            assert answer.json()["error"]["field"] == "day"


def test_a_quarantine_offset_beyond_any_row_count_answers_422(client, personas):
    answer = client.get(
        "/api/v1/communities/acme/quarantine",
        params={"offset": 2**63},
        headers=personas["owner"].headers,
    )
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "offset"
