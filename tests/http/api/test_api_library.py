"""The content library's API: analysts read, search and export; moderators keep and dismiss
(audited); another community's message answers 404; bad input names its field; and "what
worked" answers for a period."""

from __future__ import annotations

import importlib.util
import sys
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from qunzhu.store.models import AuditEntry

_spec = importlib.util.spec_from_file_location(
    "library_seed", Path(__file__).parents[2] / "readmodels" / "library_seed.py"
)
assert _spec and _spec.loader
seed = importlib.util.module_from_spec(_spec)
sys.modules["library_seed"] = seed
_spec.loader.exec_module(seed)

BASE = "/api/v1/communities/acme/library"


def _seeded(personas) -> int:
    cid = seed.seed_library(personas.store, "acme", create=False)
    seed.assign_groups(personas.store, cid, personas["moderator"].operator_id)
    return cid


def test_moderator_keeps_a_suggestion_and_analyst_finds_it(client, personas) -> None:
    cid = _seeded(personas)
    analyst, moderator = personas["analyst"].headers, personas["moderator"].headers
    suggested = client.get(f"{BASE}/suggestions", headers=analyst).json()["items"]
    assert [s["value"] for s in suggested] == [9.5, 8.0, 7.2, 5.1]
    first = suggested[0]["message_id"]
    refused = client.post(BASE, json={"message_id": first}, headers=analyst)
    assert refused.status_code == 403
    kept = client.post(BASE, json={"message_id": first, "tags": ["入门"]}, headers=moderator)
    assert kept.status_code == 200 and kept.json()["status"] == "kept"
    again = client.post(BASE, json={"message_id": first, "tags": ["入门"]}, headers=moderator)
    assert again.json()["id"] == kept.json()["id"]  # a re-run keeps one item
    found = client.get(BASE, params={"q": "打卡"}, headers=analyst).json()
    assert [i["message_id"] for i in found["items"]] == [first] and found["tags"] == {"入门": 1}
    one = client.get(f"{BASE}/{kept.json()['id']}", headers=analyst).json()
    assert one["tags"] == ["入门"] and one["decided_by"] == "moderator"
    with personas.store.reading() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.community_id == cid)
        ).all()
    assert actions.count("library.keep") == 2


def test_dismissed_stays_dismissed_and_delete_removes(client, personas) -> None:
    _seeded(personas)
    moderator = personas["moderator"].headers
    suggested = client.get(f"{BASE}/suggestions", headers=moderator).json()["items"]
    gone = client.post(
        f"{BASE}/dismissals", json={"message_id": suggested[0]["message_id"]}, headers=moderator
    )
    assert gone.json()["status"] == "dismissed"
    kept = client.post(BASE, json={"message_id": suggested[1]["message_id"]}, headers=moderator)
    item = kept.json()["id"]
    assert client.delete(f"{BASE}/{item}", headers=moderator).json()["status"] == "dismissed"
    assert client.get(f"{BASE}/{item}", headers=moderator).status_code == 404
    left = client.get(f"{BASE}/suggestions", headers=moderator).json()["items"]
    assert [s["value"] for s in left] == [7.2, 5.1]


def test_another_communitys_message_and_bad_input_are_refused_by_name(client, personas) -> None:
    _seeded(personas)
    rival = seed.seed_library(personas.store, "rival", create=False)
    owner = personas["owner"].headers
    theirs = seed.message_id(personas.store, rival, "m1")
    answer = client.post(BASE, json={"message_id": theirs}, headers=owner)
    assert answer.status_code == 404 and answer.json()["error"]["field"] == "message_id"
    bad = client.get(BASE, params={"q": "  "}, headers=owner)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "q"
    mine = seed.message_id(personas.store, personas.communities["acme"], "m1")
    long_tag = client.post(BASE, json={"message_id": mine, "tags": ["x" * 40]}, headers=owner)
    assert long_tag.status_code == 422 and long_tag.json()["error"]["field"] == "tags"


def test_export_in_three_formats_masks_authors(client, personas) -> None:
    _seeded(personas)
    owner = personas["owner"].headers
    for s in client.get(f"{BASE}/suggestions", headers=owner).json()["items"][:3]:
        client.post(BASE, json={"message_id": s["message_id"], "tags": ["干货"]}, headers=owner)
    md = client.get(f"{BASE}/export", params={"format": "md", "by": "month"}, headers=owner)
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "# 栗子读书会 · 内容合集" in md.text and "138\\*\\*\\*\\*5678" in md.text
    assert "**a\\*\\*** ·" in md.text  # ann, masked
    page = client.get(f"{BASE}/export", params={"format": "html", "lang": "en"}, headers=owner)
    assert '<h2><span translate="no">干货</span>' in page.text and "Compilation" in page.text
    pdf = client.get(f"{BASE}/export", params={"format": "pdf"}, headers=owner)
    assert pdf.headers["content-disposition"] == 'attachment; filename="acme-library.pdf"'
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.content)).pages)
    assert "新人入群先看群公告" in text
    assert client.get(f"{BASE}/export?format=docx", headers=owner).status_code == 422


def test_a_moderator_decides_only_for_the_groups_assigned_to_them(client, personas) -> None:
    cid = seed.seed_library(personas.store, "acme", create=False)  # no group assigned
    moderator, admin = personas["moderator"].headers, personas["admin"].headers
    first = seed.message_id(personas.store, cid, "m1")
    refused = client.post(BASE, json={"message_id": first}, headers=moderator)
    assert refused.status_code == 403 and refused.json()["error"]["field"] == "message_id"
    kept = client.post(BASE, json={"message_id": first}, headers=admin)  # admins: every group
    assert kept.status_code == 200
    gone = client.delete(f"{BASE}/{kept.json()['id']}", headers=moderator)
    assert gone.status_code == 403
    seed.assign_groups(personas.store, cid, personas["moderator"].operator_id)
    assert client.delete(f"{BASE}/{kept.json()['id']}", headers=moderator).status_code == 200


def test_what_worked_answers_an_empty_period(client, personas) -> None:
    answer = client.get(
        "/api/v1/communities/acme/what-worked?days=7", headers=personas["analyst"].headers
    )
    assert answer.status_code == 200 and answer.json() == {"days": 7, "items": []}
