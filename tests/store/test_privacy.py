from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from qunzhu import events as ev
from qunzhu.pipeline import Pipeline
from qunzhu.store.merge import find_member, merge_members
from qunzhu.store.models import (
    Application,
    AuditEntry,
    Community,
    Identity,
    Member,
    Message,
)
from qunzhu.store.privacy import PrivacyError, erase_member, export_member

T = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def li(store):
    """李雷 on WeChat (two messages, a form) and on QQ (merged in), and 韩梅梅 beside him."""
    with store.unit_of_work() as s:
        s.add(Community(slug="c", name="C"))
    batch = [
        ev.MessagePosted(
            platform="wechat",
            community="c",
            group="wx",
            member="wxid_li",
            member_name="李雷",
            occurred_at=T,
            message_id="1",
            text="我的手机 13812345678",
        ),
        ev.MessagePosted(
            platform="wechat",
            community="c",
            group="wx",
            member="wxid_li",
            member_name="李雷",
            occurred_at=T + timedelta(minutes=1),
            message_id="2",
            text="second",
        ),
        ev.MessagePosted(
            platform="qq",
            community="c",
            group="qq1",
            member="10001",
            member_name="LiLei",
            occurred_at=T,
            message_id="1",
            text="qq hello",
        ),
        ev.MessagePosted(
            platform="wechat",
            community="c",
            group="wx",
            member="wxid_han",
            member_name="韩梅梅",
            occurred_at=T,
            message_id="3",
            text="hers",
        ),
        ev.ApplicationSubmitted(
            platform="wechat",
            community="c",
            group="wx",
            member="wxid_li",
            occurred_at=T,
            application_id="A1",
            answers={"城市": "北京", "电话": "13812345678"},
        ),
    ]
    Pipeline(store).run(batch, source="t")
    with store.unit_of_work() as s:
        cid = s.scalar(select(Community.id))
        keep = find_member(s, cid, "wechat:wxid_li")
        keep.real_name, keep.phone = "李雷", "13812345678"
        merge_members(s, cid, keep, find_member(s, cid, "qq:10001"))
        return cid, keep.id


def test_export_holds_everything_about_the_member_and_nothing_else(store, li):
    cid, member_id = li
    with store.reading() as s:
        data = export_member(s, cid, member_id)
    texts = sorted(m["text"] for m in data["messages"])
    assert texts == ["qq hello", "second", "我的手机 13812345678"]  # the merged account's too
    assert {i["platform_user_id"] for i in data["identities"]} == {"wxid_li", "10001"}
    assert data["member"][0]["phone"] == "13812345678"
    assert data["applications"][0]["answers"]["城市"] == "北京"
    json.dumps(data, ensure_ascii=False)  # plain JSON, dates as text


def test_erase_removes_words_and_names_but_keeps_the_counts(store, li):
    cid, member_id = li
    with store.unit_of_work() as s:
        counts = erase_member(s, cid, member_id)
    assert counts["messages"] == 3 and counts["identities"] == 2
    with store.reading() as s:
        member = s.get(Member, member_id)
        assert (member.display_name, member.real_name, member.phone) == ("erased", None, None)
        ids = s.scalars(
            select(Identity.platform_user_id).where(Identity.member_id.in_([member_id]))
        ).all()
        assert all(i.startswith("erased:") for i in ids)
        assert "wxid_li" not in " ".join(s.scalars(select(Identity.platform_user_id)).all())
        assert s.scalar(select(func.count()).select_from(Message)) == 4  # counts stay
        assert s.scalars(select(Message.text).where(Message.text != "")).all() == ["hers"]
        assert s.scalar(select(Application.answers)) == {}
        # the other member is untouched
        assert find_member(s, cid, "wechat:wxid_han").display_name == "韩梅梅"


def test_a_returning_account_after_erasure_is_a_new_member(store, li):
    cid, member_id = li
    with store.unit_of_work() as s:
        erase_member(s, cid, member_id)
    Pipeline(store).run(
        [
            ev.MessagePosted(
                platform="wechat",
                community="c",
                group="wx",
                member="wxid_li",
                member_name="李雷",
                occurred_at=T + timedelta(days=1),
                message_id="9",
                text="back",
            )
        ],
        source="t",
    )
    with store.reading() as s:
        assert find_member(s, cid, "wechat:wxid_li").id != member_id


def test_a_member_of_another_community_is_refused(store, li):
    _, member_id = li
    with store.unit_of_work() as s:
        other = Community(slug="d", name="D")
        s.add(other)
        s.flush()
        with pytest.raises(PrivacyError, match="no member"):
            erase_member(s, other.id, member_id)


def test_cli_export_then_forget_with_audit(cli, cli_env, store, li, tmp_path):
    from qunzhu.cli.main import app

    out = tmp_path / "li.json"
    result = cli.invoke(
        app, ["members", "export", "wechat:wxid_li", "-c", "c", "-o", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"]["messages"] == 3
    assert "13812345678" in out.read_text(encoding="utf-8")
    refused = cli.invoke(app, ["members", "forget", "wechat:wxid_li", "-c", "c", "--json"])
    assert refused.exit_code == 2 and "--yes" in json.loads(refused.stdout)["error"]
    done = cli.invoke(app, ["members", "forget", "wechat:wxid_li", "-c", "c", "--yes", "--json"])
    assert done.exit_code == 0, done.output
    with store.reading() as s:
        actions = s.scalars(select(AuditEntry.action)).all()
        assert "member.export" in actions and "member.erase" in actions
