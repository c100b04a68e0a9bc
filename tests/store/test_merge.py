from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.pipeline import Pipeline
from qunzhu.store.merge import (
    MergeError,
    canonical_ids,
    find_member,
    merge_members,
    unmerge_member,
)
from qunzhu.store.models import AuditEntry, Community

T = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def people(store):
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
            text="hi",
        ),
        ev.MessagePosted(
            platform="qq",
            community="c",
            group="qq1",
            member="10001",
            member_name="LiLei",
            occurred_at=T,
            message_id="1",
            text="hi",
        ),
        ev.MessagePosted(
            platform="qq",
            community="c",
            group="qq1",
            member="10002",
            member_name="韩梅梅",
            occurred_at=T,
            message_id="2",
            text="hi",
        ),
    ]
    Pipeline(store).run(batch, source="t")
    with store.reading() as s:
        cid = s.scalar(select(Community.id))
        return cid, {
            ref: find_member(s, cid, ref).id for ref in ("wechat:wxid_li", "qq:10001", "韩梅梅")
        }


def test_merge_counts_accounts_as_one_person_and_undo_restores(store, people):
    cid, ids = people
    with store.unit_of_work() as s:
        merge_members(
            s, cid, find_member(s, cid, "wechat:wxid_li"), find_member(s, cid, "qq:10001")
        )
    with store.reading() as s:
        assert canonical_ids(s, cid) == {ids["qq:10001"]: ids["wechat:wxid_li"]}
    with store.unit_of_work() as s:
        unmerge_member(s, cid, find_member(s, cid, "qq:10001"))
    with store.reading() as s:
        assert canonical_ids(s, cid) == {}
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["members.merge", "members.unmerge"]


def test_merge_chains_resolve_to_the_root_and_cycles_are_refused(store, people):
    cid, ids = people
    with store.unit_of_work() as s:
        a, b, c = (find_member(s, cid, r) for r in ("wechat:wxid_li", "qq:10001", "韩梅梅"))
        merge_members(s, cid, b, a)
        merge_members(s, cid, c, b)
    with store.reading() as s:
        assert canonical_ids(s, cid)[ids["wechat:wxid_li"]] == ids["韩梅梅"]
    with store.unit_of_work() as s, pytest.raises(MergeError, match="already merged"):
        merge_members(s, cid, find_member(s, cid, "wechat:wxid_li"), find_member(s, cid, "韩梅梅"))


def test_unknown_or_ambiguous_member_is_named(store, people):
    cid, _ = people
    with store.reading() as s, pytest.raises(MergeError, match="no member 'qq:999'"):
        find_member(s, cid, "qq:999")


def test_merge_cli_then_unmerge(cli, cli_env, people):
    import json

    from qunzhu.cli.main import app

    result = cli.invoke(
        app, ["members", "merge", "wechat:wxid_li", "qq:10001", "-c", "c", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["merged"] == people[1]["qq:10001"]
    again = cli.invoke(app, ["members", "merge", "wechat:wxid_li", "qq:10001", "-c", "c"])
    assert again.exit_code == 2 and "already merged" in again.output
    undo = cli.invoke(app, ["members", "unmerge", "qq:10001", "-c", "c", "--json"])
    assert undo.exit_code == 0 and json.loads(undo.stdout)["restored"] == people[1]["qq:10001"]
