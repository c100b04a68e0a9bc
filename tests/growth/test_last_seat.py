"""Two joins racing for the last seat never both get it, on SQLite and PostgreSQL: threads,
each on its own connection, claim at the same moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from qunzhu_tests_growth import rows
from sqlalchemy import insert, select

from qunzhu.growth.capacity import admit
from qunzhu.growth.seats import count_holders, occupancy
from qunzhu.store.growth import WaitlistEntry
from qunzhu.store.models import Group, Member, Membership

RACERS = 6


def _group_with_free_seats(store, cap: int, seated: int) -> tuple[int, list[int]]:
    """A capped group with ``seated`` members in and RACERS more people wanting in."""
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    with store.engine.begin() as conn:
        from qunzhu.store.models import Community

        cid = conn.execute(
            insert(Community)
            .values(
                slug="race",
                name="race",
                spec_yaml="name: r\npurpose: r\n"
                f"size: {{cap: {cap}, policy: waitlist, protected: [owner]}}\n",
            )
            .returning(Community.id)
        ).scalar_one()
        gid = conn.execute(
            insert(Group)
            .values(community_id=cid, platform="test", platform_group_id="g", name="g", cap=cap)
            .returning(Group.id)
        ).scalar_one()
        ids = [
            conn.execute(
                insert(Member).values(community_id=cid, display_name=f"p{i}").returning(Member.id)
            ).scalar_one()
            for i in range(seated + RACERS)
        ]
        conn.execute(
            insert(Membership),
            [
                {
                    "community_id": cid,
                    "group_id": gid,
                    "member_id": m,
                    "status": "active",
                    "joined_at": t0,
                }
                for m in ids[:seated]
            ],
        )
    return gid, ids[seated:]


def _race(store, gid: int, racers: list[int]) -> list[str]:
    barrier = threading.Barrier(len(racers))
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def one(member_id: int) -> None:
        try:
            barrier.wait(timeout=30)
            with store.engine.begin() as conn:  # a connection and a transaction of its own
                outcomes.append(admit(conn, gid, member_id, exclude=set(racers)).outcome)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(m,)) for m in racers]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    return sorted(outcomes)


def test_racers_for_the_last_seat_one_wins(store):
    gid, racers = _group_with_free_seats(store, cap=5, seated=4)
    outcomes = _race(store, gid, racers)
    assert outcomes == ["seated"] + ["waitlisted"] * (RACERS - 1)
    with store.engine.connect() as conn:
        assert occupancy(conn, gid) == (5, 5)
        assert count_holders(conn, gid) == 5
    assert len(rows(store, select(WaitlistEntry.id))) == RACERS - 1


def test_racers_for_two_seats_on_a_counter_nobody_made_yet(store):
    gid, racers = _group_with_free_seats(store, cap=5, seated=3)
    outcomes = _race(store, gid, racers)  # the first claims also race to start the counter
    assert outcomes == ["seated"] * 2 + ["waitlisted"] * (RACERS - 2)
    with store.engine.connect() as conn:
        assert occupancy(conn, gid) == (5, 5)
        assert count_holders(conn, gid) == 5
