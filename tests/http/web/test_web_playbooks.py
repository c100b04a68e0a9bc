"""The playbooks page: an admin adds and edits a playbook in a form; it is written back into
community.yaml (the other lines as they were), checked like the YAML (a problem named with
its line and field, nothing saved), audited; moderators and analysts only read."""

from __future__ import annotations

import re

from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import select, update

from qunzhu.spec import load_spec
from qunzhu.store.admin import AuditEntry
from qunzhu.store.models import Community

SPEC = """\
# 读书会的定位
name: acme
purpose: read together   # 一起读书
rules:
  ads:        {action: delete_warn, severity: 3}
"""


def _spec(store, acme_id: int) -> str:
    with store.reading() as session:
        return session.scalar(select(Community.spec_yaml).where(Community.id == acme_id)) or ""


def _step(n: int, day: str, zh: str, **more: str) -> dict[str, str]:
    return {
        f"step-{n}-day": day,
        f"step-{n}-zh": zh,
        **{f"step-{n}-{k}": v for k, v in more.items()},
    }


def test_an_admin_adds_edits_and_deletes_a_playbook(client, acme, personas):
    store, acme_id = personas.store, personas.communities["acme"]
    with store.unit_of_work() as session:
        session.execute(update(Community).where(Community.id == acme_id).values(spec_yaml=SPEC))
    log_in(client, "admin")
    listing = client.get("/c/acme/playbooks")
    assert listing.status_code == 200 and 'id="playbook-new"' in listing.text
    form = client.get("/c/acme/playbooks/edit")
    fields = {
        "csrf_token": csrf_from(form.text),
        "base": re.search(r'name="base" value="(\w+)"', form.text).group(1),
        "name": "newcomer",
        "trigger": "member_joined",
        "ends_after_days": "14",
        **_step(0, "0", "{name}，欢迎！", to="group"),
        **_step(1, "3", "{name}，来说两句吧", unless="spoke"),
    }
    saved = client.post("/c/acme/playbooks/save", data=fields)
    assert saved.status_code == 200, saved.text
    text = _spec(store, acme_id)
    assert text.startswith(SPEC)  # every line the operator wrote is still there, as written
    [book] = load_spec(text).playbooks
    assert (book.name, book.ends_after_days, [s.day for s in book.steps]) == (
        "newcomer",
        14,
        [0, 3],
    )
    assert book.steps[0].to == "group" and book.steps[1].unless == "spoke"
    assert 'id="playbook-newcomer"' in saved.text and "来说两句吧" in saved.text

    form = client.get("/c/acme/playbooks/edit?name=newcomer")
    assert "来说两句吧" in form.text
    base = re.search(r'name="base" value="(\w+)"', form.text).group(1)
    edit = {**fields, "base": base, "original": "newcomer", **_step(1, "7", "{nmae} 你好")}
    refused = client.post("/c/acme/playbooks/save", data=edit)
    assert refused.status_code == 422
    assert 'data-field="steps[1].text.zh-CN"' in refused.text and "{nmae}" in refused.text
    assert "第 " in refused.text or "line " in refused.text  # the line in community.yaml
    assert _spec(store, acme_id) == text  # nothing saved

    late = {**fields, "base": base, "original": "newcomer", **_step(1, "20", "{name} 好")}
    answer = client.post("/c/acme/playbooks/save", data=late)
    assert answer.status_code == 422 and "步骤在结束之后" in answer.text  # the page is in zh-CN

    fine = {**fields, "base": base, "original": "newcomer", **_step(1, "7", "{name} 好")}
    assert client.post("/c/acme/playbooks/save", data=fine).status_code == 200
    assert [s.day for s in load_spec(_spec(store, acme_id)).playbooks[0].steps] == [0, 7]
    stale = client.post("/c/acme/playbooks/save", data=fine)  # base of the old text
    assert stale.status_code == 409

    form = client.get("/c/acme/playbooks/edit?name=newcomer")
    base = re.search(r'name="base" value="(\w+)"', form.text).group(1)
    gone = client.post("/c/acme/playbooks/save", data={**fine, "base": base, "delete": "1"})
    assert gone.status_code == 200 and load_spec(_spec(store, acme_id)).playbooks == []
    assert _spec(store, acme_id).startswith(SPEC)
    with store.reading() as session:
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.like("playbook.%"))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["playbook.save", "playbook.save", "playbook.delete"]


def test_moderators_and_analysts_read_only(client, acme, personas):
    for role in ("moderator", "analyst"):
        log_in(client, role)
        listing = client.get("/c/acme/playbooks")
        assert listing.status_code == 200 and "playbooks/edit" not in listing.text
        assert client.get("/c/acme/playbooks/edit").status_code == 403
        answer = client.post(
            "/c/acme/playbooks/save",
            data={"csrf_token": csrf_from(listing.text), "name": "x", "trigger": "member_joined"},
        )
        assert answer.status_code == 403
        client.get("/logout")
