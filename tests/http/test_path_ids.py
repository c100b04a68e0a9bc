"""Ids no database can hold (beyond 64 bits, zero, negative) answer 422 naming the field,
never 500; and the OpenAPI declares every parameter of every path."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from qunzhu_tests_http import csrf_from, feed, log_in, message
from qunzhu_tests_routes import ID_ROUTES, PARAM, VERBS, object_params

from qunzhu.store import Store
from qunzhu.store.models import Group, Member

STRING_IDS = {"job_id", "campaign"}  # not numbers: any text is a fair question (404)
TOO_BIG = [2**64, 2**63, -1, 0]


ROUTES = [(m, p) for m, p in ID_ROUTES if set(object_params(p)) - STRING_IDS]


@pytest.mark.parametrize(("method", "route"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_an_id_beyond_64_bits_answers_422(
    method: str, route: str, client: TestClient, personas: Any
) -> None:
    for bad in TOO_BIG:

        def fill(found: re.Match[str], bad: int = bad) -> str:
            name = found.group(1)
            return "acme" if name == "slug" else VERBS.get(name, str(bad))

        path = PARAM.sub(fill, route)
        answer = client.request(method, path, headers=personas["owner"].headers)
        assert answer.status_code == 422, f"{method} {path} → {answer.status_code}"
        if path.startswith("/api/"):
            assert answer.json()["error"]["field"].endswith("_id"), answer.text


def _member_and_group(store: Store, personas: Any) -> tuple[int, int]:
    feed(store, [message(1)])
    with store.reading() as session:
        member = session.query(Member.id).filter_by(community_id=personas.communities["acme"])
        group = session.query(Group.id).filter_by(community_id=personas.communities["acme"])
        return int(member.scalar()), int(group.scalar())


@pytest.mark.parametrize("bad", [2**64, 0])
def test_ids_in_request_bodies_are_bounded_too(
    bad: int, client: TestClient, store: Store, personas: Any
) -> None:
    member, _ = _member_and_group(store, personas)
    base, owner = "/api/v1/communities/acme", personas["owner"].headers
    answers = {
        "bulk": client.post(
            f"{base}/moderation/bulk", json={"operation": "approve", "ids": [bad]}, headers=owner
        ),
        "invite group": client.post(
            f"{base}/members/{member}/invite-link", json={"group_id": bad}, headers=owner
        ),
        "order member": client.post(
            f"{base}/orders", json={"member_id": bad, "plan": "p"}, headers=owner
        ),
    }
    for what, answer in answers.items():
        assert answer.status_code == 422, f"{what}: {answer.status_code} {answer.text}"


def test_dashboard_forms_with_huge_ids_do_not_fail(
    client: TestClient, store: Store, personas: Any
) -> None:
    member, group = _member_and_group(store, personas)
    assert log_in(client, "owner").status_code == 303
    token = csrf_from(client.get("/c/acme/review").text)
    decided = client.post(
        "/c/acme/review/decide",
        data={
            "decision": "approve",
            "ids": [str(2**64), "99999999999999999999999"],
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert decided.status_code == 303 and "none_selected" in decided.headers["location"]
    link = client.post(
        f"/c/acme/members/{member}/invite-link",
        data={"group_id": str(2**64), "csrf_token": token},
        follow_redirects=False,
    )
    assert link.status_code == 422
    page = client.get(f"/c/acme/groups/{group}?before={2**64}")
    assert page.status_code == 422


def test_the_openapi_declares_every_path_parameter(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            for name in set(PARAM.findall(path)) - declared:
                missing.append(f"{method.upper()} {path}: {name}")
    assert not missing, missing
