"""Uploads of chat exports: accepted at once, imported in the background, progress polled."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select

from qunzhu.store.models import AuditEntry, Message

LOG = (
    "[10:00] <ann> hello\n=== bo [~b@h]  has joined #c\n[10:01] <bo> ann: hi\n"
    "not a log line\n=== bo [~b@h]  has left #c []\n"
)
URL = "/api/v1/communities/acme/imports"


def _upload(
    client, persona, content: bytes = LOG.encode(), name: str = "2024-05-01.log", **form: str
) -> Any:
    return client.post(
        URL,
        headers=persona.headers,
        files={"file": (name, content, "text/plain")},
        data={"group": "#c", "tz": "UTC", **form},
    )


def _finished(client, persona, job_id: str) -> dict[str, Any]:
    for _ in range(600):  # the import runs in a thread: wait for it to end, not for a time
        job = client.get(f"{URL}/{job_id}", headers=persona.headers).json()
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError(f"import {job_id} did not finish: {job}")


def test_admin_uploads_an_export_and_polls_it_to_the_summary(client, personas, store):
    started = _upload(client, personas["admin"])
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["file"] == "2024-05-01.log" and job["bytes_total"] == len(LOG.encode())
    done = _finished(client, personas["admin"], job["id"])
    assert done["status"] == "done" and done["progress"] == 1.0
    summary = done["summary"]
    assert (summary["format"], summary["messages"], summary["joins"], summary["leaves"]) == (
        "irc",
        2,
        1,
        1,
    )
    assert summary["quarantined"] == 1 and summary["quarantined_records"][0]["line"] == 4
    assert summary["quarantined_records"][0]["source"] == "2024-05-01.log"
    with store.reading() as session:
        assert session.scalar(select(func.count(Message.id))) == 2
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.action == "imports.run"))
    listed = client.get(URL, headers=personas["analyst"].headers).json()
    assert [j["id"] for j in listed] == [job["id"]]


def test_the_same_upload_again_adds_nothing(client, personas):
    first = _finished(client, personas["owner"], _upload(client, personas["owner"]).json()["id"])
    again = _finished(client, personas["owner"], _upload(client, personas["owner"]).json()["id"])
    assert first["summary"]["added"] == 2 and again["summary"]["added"] == 0


def test_a_file_of_no_known_format_fails_with_the_reason(client, personas):
    job = _upload(client, personas["admin"], b"shopping list\nmilk\n", "notes.txt").json()
    done = _finished(client, personas["admin"], job["id"])
    assert done["status"] == "failed" and "not a chat export" in done["error"]


def test_bad_format_or_zone_is_refused_before_anything_runs(client, personas):
    assert _upload(client, personas["admin"], format="icq").status_code == 422
    assert _upload(client, personas["admin"], tz="Mars/Base").status_code == 422


def test_only_admins_and_owners_import_and_strangers_see_nothing(client, personas):
    assert _upload(client, personas["moderator"]).status_code == 403
    assert _upload(client, personas["analyst"]).status_code == 403
    assert _upload(client, personas["outsider"]).status_code == 404
    job = _finished(client, personas["admin"], _upload(client, personas["admin"]).json()["id"])
    assert client.get(f"{URL}/{job['id']}", headers=personas["outsider"].headers).status_code == 404
    other = client.get(
        f"/api/v1/communities/rival/imports/{job['id']}", headers=personas["outsider"].headers
    )
    assert other.status_code == 404
