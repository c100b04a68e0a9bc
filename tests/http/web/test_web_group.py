"""Group: members sorted, filtered, searched and paged; the stream with its marks; capacity."""

from __future__ import annotations

import re

from qunzhu_tests_http import feed, joined, log_in
from web_seed import ACME_PHONE, SPAM

from qunzhu.http.web.queries.group import MEMBERS_PER_PAGE

ROW_RE = re.compile(r'<th scope="row" data-label="[^"]*"><a href="/c/acme/members/\d+">([^<]+)</a>')


def names(html):
    return ROW_RE.findall(html)


def test_group_page_lists_members_by_messages(client, acme):
    log_in(client, "analyst")
    page = client.get(f"/c/acme/groups/{acme['g1']}?sort=messages")
    assert page.status_code == 200
    shown = names(page.text)
    assert set(shown) >= {"u0", "u1", "u2", "u3", "u4"}
    assert shown[0] in ("u0", "u1", "u2")  # the most messages first


def test_members_search_and_sort_by_name(client, acme):
    log_in(client, "analyst")
    page = client.get(f"/c/acme/groups/{acme['g1']}?sort=name&q=u1")
    assert names(page.text) == ["u1"]
    page = client.get(f"/c/acme/groups/{acme['g1']}?sort=name")
    shown = names(page.text)
    assert shown == sorted(shown)


def test_members_table_answers_htmx_with_the_fragment_alone(client, acme):
    log_in(client, "analyst")
    fragment = client.get(
        f"/c/acme/groups/{acme['g1']}?sort=name",
        headers={"HX-Request": "true", "HX-Target": "members"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith("<table")
    assert "<html" not in fragment.text


def test_members_are_paged(client, acme, personas):
    feed(personas.store, [joined(f"extra{i}") for i in range(MEMBERS_PER_PAGE + 5)])
    log_in(client, "analyst")
    first = client.get(f"/c/acme/groups/{acme['g1']}?sort=name")
    assert len(names(first.text)) == MEMBERS_PER_PAGE
    assert 'rel="next"' in first.text
    second = client.get(f"/c/acme/groups/{acme['g1']}?sort=name&p=2")
    assert len(names(second.text)) == 6 + MEMBERS_PER_PAGE + 5 - MEMBERS_PER_PAGE
    assert not set(names(first.text)) & set(names(second.text))


def test_stream_marks_flagged_messages_and_masks_contacts(client, acme):
    log_in(client, "moderator")
    page = client.get(f"/c/acme/groups/{acme['g1']}")
    assert f'id="msg-{acme["spam_message"]}"' in page.text
    assert "msg-flagged" in page.text
    assert "删除 · 引流留联系方式" in page.text  # the action and the rule, in words
    assert "contact_solicitation" not in page.text
    assert ACME_PHONE not in page.text
    client.cookies.clear()
    log_in(client, "admin")  # may see personal data
    assert SPAM in client.get(f"/c/acme/groups/{acme['g1']}").text


def test_capacity_and_waitlist_are_shown(client, acme):
    log_in(client, "analyst")
    page = client.get(f"/c/acme/groups/{acme['g1']}")
    assert 'id="capacity"' in page.text
    assert 'aria-valuemax="10"' in page.text
    assert 'aria-valuenow="6"' in page.text


def test_group_of_another_community_is_not_found(client, acme, personas):
    log_in(client, "outsider")
    assert client.get(f"/c/acme/groups/{acme['g1']}").status_code == 404
    assert client.get(f"/c/rival/groups/{acme['g1']}").status_code == 404
