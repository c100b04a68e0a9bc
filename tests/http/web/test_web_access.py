"""Every dashboard page checks who asks: login first, another community is not found, and
each role reaches exactly what the permission table gives it."""

from __future__ import annotations

import pytest
from qunzhu_tests_http import log_in

PAGES = {  # path → capability needed
    "/c/acme": "read",
    "/c/acme/community": "read",
    "/c/acme/growth": "read",
    "/c/acme/errors": "read",
    "/c/acme/review": "moderate",
    "/c/acme/spec": "manage",
    "/c/acme/audit": "manage",
    "/c/acme/operators": "operators",
}
CAN = {
    "analyst": {"read"},
    "moderator": {"read", "moderate"},
    "admin": {"read", "moderate", "manage"},
    "owner": {"read", "moderate", "manage", "operators"},
}


def test_anonymous_visitor_is_sent_to_login(client, personas):
    for path in PAGES:
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next=")


def test_outsider_gets_not_found_everywhere(client, personas):
    log_in(client, "outsider")
    for path in PAGES:
        assert client.get(path).status_code == 404, path
    assert client.get("/c/rival").status_code == 200


@pytest.mark.parametrize("role", sorted(CAN))
def test_each_role_reaches_what_it_may(client, personas, role):
    log_in(client, role)
    for path, need in PAGES.items():
        expected = 200 if need in CAN[role] else 403
        assert client.get(path).status_code == expected, (role, path)


def test_superuser_reaches_every_page(client, personas):
    log_in(client, "root")
    for path in PAGES:
        assert client.get(path).status_code == 200, path


def test_tabs_show_only_what_the_role_may_open(client, personas):
    log_in(client, "moderator")
    html = client.get("/c/acme").text
    assert 'href="/c/acme/review"' in html
    assert 'href="/c/acme/operators"' not in html and 'href="/c/acme/audit"' not in html


def test_notice_shows_only_known_messages(client, personas):
    log_in(client, "analyst")
    page = client.get("/c/acme?done=Call+0800+to+unlock+your+account")
    assert 'class="notice"' not in page.text
    assert "Call 0800" not in page.text  # (the raw query stays only in the language form)
    assert "今日待办" in page.text
    known = client.get("/c/acme?done=spec_saved")
    assert 'class="notice"' in known.text
