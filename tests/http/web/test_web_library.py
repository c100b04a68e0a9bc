"""The library page: a moderator keeps a suggestion with tags and dismisses another through
the forms, searches by a 2-character Chinese word, downloads the compilation; an analyst
reads without the forms and may not post them. The calendar page ranks what worked with the
same figures as the API."""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import timedelta
from pathlib import Path

from qunzhu_tests_http import csrf_from, log_in
from sample_site import figures
from sqlalchemy import select

from qunzhu.store.community import Community
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.library import LibraryItem
from qunzhu.store.messaging import Broadcast

_spec = importlib.util.spec_from_file_location(
    "library_seed", Path(__file__).parents[2] / "readmodels" / "library_seed.py"
)
assert _spec and _spec.loader
seed = importlib.util.module_from_spec(_spec)
sys.modules["library_seed"] = seed
_spec.loader.exec_module(seed)


def _statuses(store) -> dict[int, str]:
    with store.reading() as session:
        return {i.message_id: i.status for i in session.scalars(select(LibraryItem))}


def test_moderator_keeps_dismisses_searches_and_exports(client, acme, personas) -> None:
    cid = seed.seed_library(personas.store, "acme", create=False)
    seed.assign_groups(personas.store, cid, personas["moderator"].operator_id)
    first, second = (seed.message_id(personas.store, cid, k) for k in ("m1", "m2"))
    log_in(client, "moderator")
    page = client.get("/c/acme/library")
    assert page.status_code == 200 and f'id="msg-{first}"' in page.text
    assert 'aria-current="page">' in page.text  # the library tab is the current one
    kept = client.post(
        "/c/acme/library/keep",
        data={"csrf_token": csrf_from(page.text), "message_id": str(first), "tags": "入门，规则"},
    )
    assert kept.status_code == 200 and 'class="notice" role="status"' in kept.text
    dismissed = client.post(
        "/c/acme/library/dismiss",
        data={"csrf_token": csrf_from(kept.text), "message_id": str(second)},
    )
    assert dismissed.status_code == 200
    assert _statuses(personas.store) == {first: "kept", second: "dismissed"}
    assert f'id="msg-{second}"' not in dismissed.text and f'id="msg-{first}"' not in dismissed.text
    found = client.get("/c/acme/library", params={"q": "打卡"})
    count = re.search(r'id="found-count">([^<]*)<', found.text)
    assert count and "1" in count.group(1)
    by_tag = client.get("/c/acme/library", params={"tag": "规则"})
    assert by_tag.text.count('class="queue-item" id="item-') == 1
    pdf = client.get("/c/acme/library/export", params={"format": "pdf", "by": "month"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    bad = client.get("/c/acme/library", params={"q": "一 二 三 四 五 六 七 八 九"})
    assert bad.status_code == 200 and 'class="failed small"' in bad.text


def test_a_moderator_is_suggested_only_their_groups_messages(client, acme, personas) -> None:
    cid = seed.seed_library(personas.store, "acme", create=False)
    log_in(client, "moderator")
    first = seed.message_id(personas.store, cid, "m1")
    assert f'id="msg-{first}"' not in client.get("/c/acme/library").text  # none assigned yet
    seed.assign_groups(personas.store, cid, personas["moderator"].operator_id)
    assert f'id="msg-{first}"' in client.get("/c/acme/library").text


def test_analyst_reads_without_the_forms_and_may_not_post(client, acme, personas) -> None:
    cid = seed.seed_library(personas.store, "acme", create=False)
    log_in(client, "analyst")
    page = client.get("/c/acme/library")
    assert page.status_code == 200
    assert 'id="suggested"' not in page.text and "/library/keep" not in page.text
    refused = client.post(
        "/c/acme/library/keep",
        data={
            "csrf_token": csrf_from(page.text),
            "message_id": str(seed.message_id(personas.store, cid, "m1")),
        },
    )
    assert refused.status_code == 403 and _statuses(personas.store) == {}


def test_calendar_ranks_what_worked_with_the_apis_figures(client, acme, personas) -> None:
    cid = seed.seed_library(personas.store, "acme", create=False)
    sent = seed.NOW - timedelta(days=2, hours=1)  # m2 (value 8.0) follows within 24 hours
    with personas.store.unit_of_work() as session:
        assert session.get(Community, cid) is not None
        broadcast = Broadcast(
            community_id=cid,
            created_by="ops",
            texts={"zh-CN": "周末共读：第三章"},
            audience={},
            targets=1,
            created_at=sent,
        )
        session.add(broadcast)
        session.flush()
        session.add(
            OutboxAction(
                community_id=cid,
                origin=f"broadcast:{broadcast.id}",
                key="worked-1",
                kind="send_message",
                platform="telegram",
                action={"group": "-1001", "detail": {}},
                status="sent",
                result={"message_id": 5},
                done_at=sent,
            )
        )
        key = f"broadcast:{broadcast.id}"
    api = client.get(
        "/api/v1/communities/acme/what-worked", headers=personas["analyst"].headers
    ).json()
    [ranked] = [r for r in api["items"] if r["key"] == key]
    assert ranked["worked_value"] == 8.0 and ranked["worked_speakers"] == 1
    log_in(client, "analyst")
    shown = figures(client.get("/c/acme/calendar").text)
    for name in ("worked_value", "worked_speakers", "worked_replies", "worked_leaves"):
        assert float(shown[name, key]) == ranked[name], name
