"""The growth reactor finds, in one read per community, the referrers a batch may settle:
every inviter of a member who left, and the pending inviter of a member who spoke."""

from __future__ import annotations

from qunzhu_tests_growth import T0

from qunzhu.growth.reactor import _referrers_of
from qunzhu.store.base import table_of
from qunzhu.store.models import Referral


def test_leavers_any_status_posters_pending_only(store, town):
    t = town()
    for user in ("a", "b", "c", "x", "y", "z"):
        t.say(user, n=ord(user))
    m = {u: t.member_id(u) for u in ("a", "b", "c", "x", "y", "z")}
    cid, gid = t.community_id, t.group_id()
    links = [("a", "x", "pending"), ("b", "y", "qualified"), ("c", "z", "pending")]
    with store.engine.begin() as conn:
        conn.execute(
            table_of(Referral).insert(),
            [
                {
                    "community_id": cid,
                    "group_id": gid,
                    "inviter_member_id": m[i],
                    "invitee_member_id": m[j],
                    "key": f"ref-{i}-{j}",
                    "code": None,
                    "occurred_at": T0,
                    "status": status,
                }
                for i, j, status in links
            ],
        )
    with store.engine.connect() as conn:
        assert _referrers_of(conn, cid, {m["y"]}, {m["x"], m["z"]}) == {m["a"], m["b"], m["c"]}
        assert _referrers_of(conn, cid, set(), {m["x"], m["y"]}) == {m["a"]}  # y's is settled
        assert _referrers_of(conn, cid, {m["y"]}) == {m["b"]}
        assert _referrers_of(conn, cid, {m["x"]}, {m["x"]}) == {m["a"]}
        assert _referrers_of(conn, cid + 1, {m["y"]}, {m["x"]}) == set()  # another community
