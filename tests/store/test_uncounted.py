"""Bots and staff: who the one predicate keeps out of rankings, and how bots get marked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.store.models import Community, Member
from qunzhu.store.uncounted import (
    UnknownMember,
    counted,
    kinds_of,
    set_bot,
    staff_naming_members,
    uncounted_ids,
)
from qunzhu.wiring import build_pipeline

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
SPEC = "name: C\npurpose: p\nstaff: ['telegram:owner-1', 'Helper Anna']\n"


def _community(store, slug: str = "c", spec: str | None = SPEC) -> int:
    with store.unit_of_work() as session:
        community = Community(slug=slug, name=slug, spec_yaml=spec)
        session.add(community)
        session.flush()
        return int(community.id)


def _post(user: str, name: str, n: int, *, bot: bool = False, slug: str = "c") -> ev.Event:
    return ev.MessagePosted(
        platform="telegram",
        community=slug,
        group="g",
        member=user,
        occurred_at=AT,
        message_id=f"{user}-{n}",
        text="hello",
        member_name=name,
        member_is_bot=bot,
    )


def _ids(store, slug: str = "c") -> dict[str, int]:
    with store.reading() as session:
        rows = session.execute(
            select(Member.display_name, Member.id)
            .join(Community, Community.id == Member.community_id)
            .where(Community.slug == slug)
        )
        return {name: int(mid) for name, mid in rows}


def test_bots_from_the_platform_and_staff_from_the_spec_are_not_counted(store):
    cid = _community(store)
    build_pipeline(store, "live").run(
        [
            _post("owner-1", "Leo", 1),
            _post("anna", "Helper Anna", 2),
            _post("digest", "Digest Bot", 3, bot=True),
            _post("m1", "Mia", 4),
        ],
        source="test",
    )
    ids = _ids(store)
    with store.engine.connect() as conn:
        assert uncounted_ids(conn, cid) == {ids["Leo"], ids["Helper Anna"], ids["Digest Bot"]}
        kept = conn.execute(
            select(Member.id).where(Member.community_id == cid, counted(Member.id, conn, cid))
        ).scalars()
        assert set(kept) == {ids["Mia"]}
        assert kinds_of(conn, cid, ids.values()) == {
            ids["Leo"]: "staff",
            ids["Helper Anna"]: "staff",
            ids["Digest Bot"]: "bot",
        }
        assert staff_naming_members(conn, cid, ["Helper Anna", "telegram:nobody"]) == {
            "Helper Anna"
        }


def test_an_operators_word_stands_over_the_platforms(store):
    cid = _community(store, spec=None)
    pipeline = build_pipeline(store, "live")
    pipeline.run([_post("digest", "Digest Bot", 1, bot=True)], source="test")
    bot = _ids(store)["Digest Bot"]
    with store.unit_of_work() as session:
        said = set_bot(session, cid, bot, False)
    assert said == {"member": bot, "is_bot": False, "was_bot": True}
    build_pipeline(store, "live").run([_post("digest", "Digest Bot", 2, bot=True)], source="test")
    with store.reading() as session:
        member = session.get_one(Member, bot)
        assert (member.is_bot, member.bot_marked_by) == (False, "operator")


def test_marking_is_scoped_by_community(store):
    cid = _community(store, spec=None)
    _community(store, "other", spec=None)
    build_pipeline(store, "live").run(
        [_post("x", "X", 1, slug="other"), _post("y", "Y", 2, bot=True, slug="other")],
        source="test",
    )
    theirs = _ids(store, "other")
    with store.unit_of_work() as session, pytest.raises(UnknownMember):
        set_bot(session, cid, theirs["X"], True)
    with store.engine.connect() as conn:
        assert uncounted_ids(conn, cid) == frozenset()
