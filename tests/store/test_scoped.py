"""Lookups of a community's row by id take the community: another's row is not found."""

from __future__ import annotations

import pytest
from qunzhu_tests import add_member

from qunzhu.store.models import Community, Member
from qunzhu.store.scoped import MAX_ID, NotInCommunity, one_in, owns, parse_id, row_in


def _communities(store) -> dict[str, int]:
    with store.unit_of_work() as session:
        rows = [Community(slug=slug, name=slug) for slug in ("a", "b")]
        session.add_all(rows)
        session.flush()
        return {r.slug: r.id for r in rows}


def test_a_row_is_found_only_in_its_own_community(store) -> None:
    ids = _communities(store)
    mine, theirs = add_member(store, "a", "ann"), add_member(store, "b", "bo")
    with store.reading() as session:
        found = row_in(session, Member, ids["a"], mine)
        assert found is not None and found.display_name == "ann"
        assert row_in(session, Member, ids["a"], theirs) is None
        assert owns(session, Member, ids["b"], theirs) and not owns(session, Member, ids["b"], mine)
        with pytest.raises(NotInCommunity) as info:
            one_in(session, Member, ids["a"], theirs, field="member_id")
        assert info.value.field == "member_id" and str(theirs) in str(info.value)


@pytest.mark.parametrize("huge", [MAX_ID + 1, 2**64, 0, -1])
def test_ids_no_database_holds_are_simply_not_found(store, huge: int) -> None:
    ids = _communities(store)
    with store.reading() as session:  # no overflow error from either database
        assert row_in(session, Member, ids["a"], huge) is None
        assert not owns(session, Member, ids["a"], huge)


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("12", 12),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("0", None),
        ("-3", None),
        ("１２", None),
        ("1e3", None),
        ("", None),
        (" 7 ", 7),
    ],
)
def test_parse_id_accepts_only_what_an_id_column_holds(raw: str, parsed: int | None) -> None:
    assert parse_id(raw) == parsed
