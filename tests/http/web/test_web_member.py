"""Member: profile masked by role, value explained, tier, referrals; export and erase."""

from __future__ import annotations

import json

from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import select
from web_seed import ACME_PHONE, ACME_REAL_NAME

from qunzhu.store.models import AuditEntry, Member


def test_member_page_masks_phone_and_real_name_for_moderators(client, acme):
    log_in(client, "moderator")
    page = client.get(f"/c/acme/members/{acme['u1']}")
    assert page.status_code == 200
    assert ACME_PHONE not in page.text and ACME_REAL_NAME not in page.text
    assert "138****5678" in page.text and "王**" in page.text
    assert 'id="personal-data"' not in page.text  # no export / erase for this role


def test_member_page_shows_personal_data_to_admins(client, acme):
    log_in(client, "admin")
    page = client.get(f"/c/acme/members/{acme['u1']}")
    assert ACME_PHONE in page.text and ACME_REAL_NAME in page.text
    assert 'id="personal-data"' in page.text


def test_member_page_explains_value_tier_and_referrals(client, acme):
    log_in(client, "analyst")
    page = client.get(f"/c/acme/members/{acme['u1']}")
    for section in ("value", "tier", "timeline", "moderation", "referrals", "orders"):
        assert f'id="{section}"' in page.text
    assert "u4" in page.text and "u3" in page.text  # the people u1 invited
    tiered = client.get(f"/c/acme/members/{acme['u2']}")
    assert "core" in tiered.text


def test_export_downloads_json_and_is_audited(client, acme, personas):
    log_in(client, "admin")
    token = csrf_from(client.get(f"/c/acme/members/{acme['u1']}").text)
    answer = client.post(f"/c/acme/members/{acme['u1']}/export", data={"csrf_token": token})
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    data = json.loads(answer.text)
    assert data["member"][0]["phone"] == ACME_PHONE
    with personas.store.reading() as session:
        assert (
            session.scalar(
                select(AuditEntry).where(
                    AuditEntry.action == "member.export", AuditEntry.source == "web"
                )
            )
            is not None
        )


def test_erase_needs_the_typed_confirmation(client, acme, personas):
    log_in(client, "owner")
    path = f"/c/acme/members/{acme['u1']}"
    token = csrf_from(client.get(path).text)
    unconfirmed = client.post(
        f"{path}/erase", data={"csrf_token": token, "confirm": "nope"}, follow_redirects=False
    )
    assert unconfirmed.status_code == 303
    with personas.store.reading() as session:
        assert session.get_one(Member, acme["u1"]).phone == ACME_PHONE
    done = client.post(
        f"{path}/erase",
        data={"csrf_token": token, "confirm": str(acme["u1"])},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with personas.store.reading() as session:
        member = session.get_one(Member, acme["u1"])
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "member.erase"))
    assert member.phone is None and member.real_name is None
    assert entry is not None and entry.operator_id == personas["owner"].operator_id


def test_moderator_cannot_export_or_erase(client, acme):
    log_in(client, "moderator")
    token = csrf_from(client.get("/c/acme").text)
    for action in ("export", "erase"):
        answer = client.post(
            f"/c/acme/members/{acme['u1']}/{action}",
            data={"csrf_token": token, "confirm": str(acme["u1"])},
        )
        assert answer.status_code == 403


def test_member_of_another_community_is_not_found(client, acme):
    log_in(client, "outsider")
    assert client.get(f"/c/rival/members/{acme['u1']}").status_code == 404


def test_member_timeline_shows_role_changes_in_the_chosen_language(client, acme, personas):
    from datetime import date

    from qunzhu.store.intelligence import RoleChange

    with personas.store.unit_of_work() as session:
        for day, before, after in (
            (date(2026, 1, 5), None, "newcomer"),
            (date(2026, 2, 1), "newcomer", "core"),
        ):
            session.add(
                RoleChange(
                    community_id=personas.communities["acme"],
                    group_id=acme["g1"],
                    member_id=acme["u1"],
                    day=day,
                    role=after,
                    previous_role=before,
                    reason={},
                )
            )
    log_in(client, "analyst")
    client.cookies.set("qz_lang", "zh-CN")
    page = client.get(f"/c/acme/members/{acme['u1']}")
    assert "入门新手 → 忠实粉" in page.text
    client.cookies.set("qz_lang", "en")
    page = client.get(f"/c/acme/members/{acme['u1']}")
    assert "Newcomer → Core" in page.text and "– → Newcomer" in page.text


def test_admins_mark_a_member_as_bot_from_the_member_page(client, acme, personas):
    log_in(client, "admin")
    path = f"/c/acme/members/{acme['u1']}"
    page = client.get(path)
    assert 'id="bot-mark"' in page.text and '<span class="badge">机器人</span>' not in page.text
    token = csrf_from(page.text)
    done = client.post(
        f"{path}/bot", data={"csrf_token": token, "is_bot": "1"}, follow_redirects=False
    )
    assert done.status_code == 303 and "done=marked_bot" in done.headers["location"]
    marked = client.get(done.headers["location"])
    assert '<span class="badge">机器人</span>' in marked.text and "不是机器人" in marked.text
    with personas.store.reading() as session:
        member = session.get_one(Member, acme["u1"])
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "member.mark_bot"))
    assert (member.is_bot, member.bot_marked_by) == (True, "operator") and entry is not None
    client.post(f"{path}/bot", data={"csrf_token": token, "is_bot": "0"})
    with personas.store.reading() as session:
        assert not session.get_one(Member, acme["u1"]).is_bot


def test_moderators_may_not_mark_bots(client, acme):
    log_in(client, "moderator")
    page = client.get(f"/c/acme/members/{acme['u1']}")
    assert 'id="bot-mark"' not in page.text
    answer = client.post(
        f"/c/acme/members/{acme['u1']}/bot",
        data={"csrf_token": csrf_from(page.text), "is_bot": "1"},
    )
    assert answer.status_code == 403


def test_member_page_shows_where_they_are_in_a_playbook(client, acme, personas):
    from datetime import UTC, datetime

    from qunzhu.store.community import Membership
    from qunzhu.store.messaging import PlaybookProgress

    with personas.store.unit_of_work() as session:
        group_id = session.scalar(
            select(Membership.group_id).where(Membership.member_id == acme["u1"])
        )
        session.add(
            PlaybookProgress(
                community_id=personas.communities["acme"],
                playbook="newcomer",
                member_id=acme["u1"],
                group_id=group_id,
                trigger_at=datetime(2026, 12, 1, tzinfo=UTC),
                next_step=2,
                done=False,
                history=[
                    {"step": 0, "at": "2026-12-01T00:00:00+00:00", "outcome": "message"},
                    {"step": 1, "at": "2026-12-02T00:00:00+00:00", "outcome": "skipped"},
                ],
            )
        )
    log_in(client, "analyst")
    page = client.get(f"/c/acme/members/{acme['u1']}")
    section = page.text.split('id="playbooks"')[1].split("</section>")[0]
    assert "newcomer" in section and "第 3 步" in section and "已跳过" in section
