"""An upload's ``date_order``: a WhatsApp export that cannot tell its dates fails asking for
it; given, the export is read in that order and the summary says so."""

from __future__ import annotations

import time
from typing import Any

URL = "/api/v1/communities/acme/imports"
ONE_DAY = b"5/1/24, 10:00 - Ana: hello\n5/1/24, 10:05 - Ben: hi Ana\n"


def _upload(client, persona, **form: str) -> Any:
    return client.post(
        URL,
        headers=persona.headers,
        files={"file": ("WhatsApp Chat.txt", ONE_DAY, "text/plain")},
        data={"group": "runners", "tz": "UTC", **form},
    )


def _finished(client, persona, job_id: str) -> dict[str, Any]:
    for _ in range(600):  # the import runs in a thread: wait for it to end, not for a time
        job = client.get(f"{URL}/{job_id}", headers=persona.headers).json()
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError(f"import {job_id} did not finish: {job}")


def test_an_undecidable_upload_fails_asking_for_the_date_order(client, personas):
    job = _upload(client, personas["admin"]).json()
    done = _finished(client, personas["admin"], job["id"])
    assert done["status"] == "failed" and "--date-order" in done["error"]


def test_the_date_order_given_is_used_and_said(client, personas):
    job = _upload(client, personas["admin"], date_order="dmy").json()
    done = _finished(client, personas["admin"], job["id"])
    assert done["status"] == "done", done
    assert done["summary"]["messages"] == 2
    [decided] = done["summary"]["decided"]
    assert decided.startswith("day-first (dmy): given")


def test_a_bad_date_order_is_refused_before_anything_runs(client, personas):
    answer = _upload(client, personas["admin"], date_order="dym")
    assert answer.status_code == 422 and "date_order" in answer.text
