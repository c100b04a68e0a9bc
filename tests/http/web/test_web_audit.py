"""The audit log page, and the input that could not be accepted."""

from __future__ import annotations

from qunzhu_tests_http import csrf_from, log_in
from web_seed import ACME_PHONE


def test_admin_reads_the_audit_log_with_filter(client, acme, personas):
    log_in(client, "moderator")
    token = csrf_from(client.get("/c/acme/review").text)
    client.post(
        "/c/acme/review/decide",
        data={"csrf_token": token, "decision": "approve", "ids": str(acme["action"])},
    )
    client.cookies.clear()
    log_in(client, "admin")
    page = client.get("/c/acme/audit")
    assert page.status_code == 200
    assert "moderation.approve" in page.text and "moderator" in page.text
    filtered = client.get("/c/acme/audit?action=spec.update")
    assert "moderation.approve</code>" not in filtered.text


def test_analyst_and_moderator_cannot_read_the_audit_log(client, personas):
    for who in ("analyst", "moderator"):
        client.cookies.clear()
        log_in(client, who)
        assert client.get("/c/acme/audit").status_code == 403


def test_errors_page_lists_quarantined_input_masked(client, acme):
    log_in(client, "analyst")
    page = client.get("/c/acme/errors")
    assert page.status_code == 200
    assert "no timestamp on the line" in page.text
    assert ACME_PHONE not in page.text
