"""The send page: compose, preview (texts per target, who cannot be reached and why, quiet
hours and the daily cap), then send and follow each delivery on the broadcast's page; an
unknown variable is named and nothing is queued; roles and CSRF hold."""

from __future__ import annotations

import re

from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import func, select, update
from text_scan import problems, shown_text

from qunzhu.store.connectors import Connector, ConnectorGroup, OutboxAction
from qunzhu.store.messaging import Broadcast
from qunzhu.store.models import Community, Group
from qunzhu.store.tasks import OperatorGroup

QUIET_ALL_DAY = """\
name: acme
purpose: read together
messaging: {quiet_hours: "00:00-23:59"}
"""


def _count(store, model) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _telegram_group(store, acme_id: int, chat: str, name: str) -> int:
    with store.unit_of_work() as session:
        group = Group(community_id=acme_id, platform="telegram", platform_group_id=chat, name=name)
        session.add(group)
        session.flush()
        return int(group.id)


def _assign(personas, name: str, *group_ids: int) -> None:
    """Groups a moderator looks after (Operators page): where they may send."""
    with personas.store.unit_of_work() as session:
        for gid in group_ids:
            session.add(
                OperatorGroup(
                    community_id=personas.communities["acme"],
                    operator_id=personas[name].operator_id,
                    group_id=gid,
                )
            )


def _form(page: str, **fields) -> dict:
    return {"csrf_token": csrf_from(page), "lang": "zh-CN", **fields}


def test_preview_then_send_and_see_each_delivery(client, acme, personas):
    store = personas.store
    acme_id = personas.communities["acme"]
    live = _telegram_group(store, acme_id, "-1001", "读书群")
    gone = _telegram_group(store, acme_id, "-1002", "旧群")
    with store.unit_of_work() as session:
        bot = Connector(community_id=acme_id, platform="telegram", name="acme-bot")
        session.add(bot)
        session.flush()
        session.add(
            ConnectorGroup(
                community_id=acme_id,
                connector_id=bot.id,
                platform_group_id="-1002",
                status="disabled",
                reason="the bot was removed from the group",
            )
        )
        session.execute(
            update(Community).where(Community.id == acme_id).values(spec_yaml=QUIET_ALL_DAY)
        )
    _assign(personas, "moderator", live, gone, acme["g1"])
    log_in(client, "moderator")
    page = client.get("/c/acme/send")
    assert page.status_code == 200 and 'id="compose"' in page.text
    assert 'value="all"' not in page.text  # every group takes an admin
    fields = _form(
        page.text,
        text_zh="{group}：本周话题是什么？",
        to="groups",
        group=[str(live), str(gone), str(acme["g1"])],
    )
    preview = client.post("/c/acme/send/preview", data=fields)
    assert preview.status_code == 200, preview.text
    assert "读书群：本周话题是什么？" in preview.text
    assert 'data-figure="targets">3<' in preview.text
    shown = re.search(r'<ul class="plain unreachable">(.*?)</ul>', preview.text, re.S)
    assert shown is not None
    assert 'data-outcome="skip"' in shown.group(1) and "the bot was removed" in shown.group(1)
    assert 'data-outcome="task"' in shown.group(1)  # g1 is on a platform with no connector
    assert "00:00-23:59" in preview.text  # quiet hours hold the send
    assert _count(store, Broadcast) == 0 and _count(store, OutboxAction) == 0

    digest = re.search(r'name="digest" value="([0-9a-f]+)"', preview.text)
    assert digest is not None
    changed = client.post(
        "/c/acme/send", data={**fields, "text_zh": "改过的", "digest": digest.group(1)}
    )
    assert changed.status_code == 409 and _count(store, OutboxAction) == 0  # not sent unseen

    sent = client.post("/c/acme/send", data={**fields, "digest": digest.group(1)})
    assert sent.status_code == 200, sent.text
    assert re.search(r"/c/acme/broadcasts/\d+", str(sent.url))
    assert _count(store, OutboxAction) == 3
    assert sent.text.count('class="queue-item delivery" data-status="queued"') == 3
    assert "读书群" in sent.text and "旧群" in sent.text

    # what the preview and the broadcast's page say is in Chinese (the POST pages the zh-CN
    # scan of every GET page does not reach); names of groups and members are theirs
    names = ["读书群", "旧群", "g1", "u1", "moderator", "English"]  # + the language switch
    for html, where in ((preview.text, "preview"), (sent.text, "broadcast")):
        found = problems(shown_text(html), where, language="zh-CN", allowed=names)
        assert not found, "\n".join(map(str, found))

    again = client.post("/c/acme/send", data={**fields, "digest": digest.group(1)})
    assert again.status_code == 200 and _count(store, Broadcast) == 2  # a second broadcast, asked


def test_an_unknown_variable_is_named_and_nothing_is_queued(client, acme, personas):
    log_in(client, "moderator")
    page = client.get("/c/acme/send")
    fields = _form(page.text, text_zh="{nmae} 你好", to="groups", group=[str(acme["g1"])])
    for path in ("/c/acme/send/preview", "/c/acme/send"):
        answer = client.post(path, data=fields)
        assert answer.status_code == 422 and "{nmae}" in answer.text
        assert 'data-field="text.zh-CN"' in answer.text
    assert _count(personas.store, Broadcast) == _count(personas.store, OutboxAction) == 0


def test_a_member_variable_needs_members_one_by_one(client, acme, personas):
    _assign(personas, "moderator", acme["g1"])
    log_in(client, "moderator")
    page = client.get("/c/acme/send")
    to_groups = client.post(
        "/c/acme/send/preview",
        data=_form(page.text, text_zh="{name} 你好", to="groups", group=[str(acme["g1"])]),
    )
    assert to_groups.status_code == 422 and "{name}" in to_groups.text
    to_members = client.post(
        "/c/acme/send/preview",
        data=_form(page.text, text_zh="{name} 你好", to="members", members=f"{acme['u1']}"),
    )
    assert to_members.status_code == 200 and "u1 你好" in to_members.text


def test_roles_analyst_reads_moderator_not_everything_csrf(client, acme, personas):
    log_in(client, "analyst")
    page = client.get("/c/acme/send")
    assert page.status_code == 200 and 'id="compose"' not in page.text
    fields = _form(page.text, text_zh="你好", to="groups", group=[str(acme["g1"])])
    assert client.post("/c/acme/send/preview", data=fields).status_code == 403
    client.get("/logout")
    log_in(client, "moderator")
    page = client.get("/c/acme/send")
    every = _form(page.text, text_zh="你好", to="all")
    assert client.post("/c/acme/send/preview", data=every).status_code == 403
    forged = {**_form(page.text, text_zh="你好", to="groups", group=[str(acme["g1"])])}
    forged["csrf_token"] = "forged"
    assert client.post("/c/acme/send/preview", data=forged).status_code == 403
    client.get("/logout")
    log_in(client, "admin")
    page = client.get("/c/acme/send")
    every = _form(page.text, text_zh="{group} 你好", to="all")
    assert client.post("/c/acme/send/preview", data=every).status_code == 200
    assert _count(personas.store, OutboxAction) == 0


def test_a_moderator_is_offered_and_may_send_to_their_groups_only(client, acme, personas):
    _assign(personas, "moderator", acme["g1"])
    log_in(client, "moderator")
    page = client.get("/c/acme/send")
    assert f'value="{acme["g1"]}"' in page.text and f'value="{acme["g2"]}"' not in page.text
    fields = _form(page.text, text_zh="你好", to="groups", group=[str(acme["g2"])])
    refused = client.post("/c/acme/send/preview", data=fields)
    assert refused.status_code == 403 and "assigned to you" in refused.text
    assert _count(personas.store, OutboxAction) == 0
