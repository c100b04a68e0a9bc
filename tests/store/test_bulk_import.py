"""The bulk paths of the store: membership changes as raw SQL (SQLite) against the SQLAlchemy
original, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.store import writer
from qunzhu.store.memberships_write import write_memberships
from qunzhu.store.models import Community, Identity, Membership, MembershipEvent, Referral
from qunzhu.wiring import build_pipeline

T = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _history(community: str) -> list[ev.Event]:
    """Joins and leaves in every order the state rules care about, some in one chunk."""

    def join(who: str, minutes: int, **kw: object) -> ev.MemberJoined:
        return ev.MemberJoined(
            platform="test",
            community=community,
            group="g",
            member=who,
            occurred_at=T + timedelta(minutes=minutes),
            **kw,
        )

    def leave(who: str, minutes: int, **kw: object) -> ev.MemberLeft:
        return ev.MemberLeft(
            platform="test",
            community=community,
            group="g",
            member=who,
            occurred_at=T + timedelta(minutes=minutes),
            **kw,
        )

    return [
        join("ann", 0, via="link"),
        join("bo", 1, inviter="ann", via="invite"),
        leave("bo", 5),
        join("bo", 9, inviter="cy", via="invite"),  # a re-join after leaving
        join("ann", -30, via="qr"),  # an older join fills what is missing, supersedes nothing
        leave("dee", 3, reason="removed", by="ann"),  # a removal of someone never seen joining
        join("dee", 1, via="added", inviter="ann"),  # … whose join comes later in the file
        leave("eve", 2),
        join("eve", 4, via="self"),
        leave("ann", 20),
        leave("ann", 15),  # an earlier leave after a later one
    ]


def _state(store, community: str) -> list[tuple[object, ...]]:
    with store.reading() as s:
        cid = s.scalar(select(Community.id).where(Community.slug == community))
        users = dict(
            s.execute(
                select(Identity.member_id, Identity.platform_user_id).where(
                    Identity.community_id == cid
                )
            ).all()
        )
        rows = s.execute(
            select(
                Membership.member_id,
                Membership.status,
                Membership.joined_at,
                Membership.left_at,
                Membership.inviter_member_id,
                Membership.join_via,
            ).where(Membership.community_id == cid)
        ).all()
        referrals = s.execute(
            select(Referral.inviter_member_id, Referral.invitee_member_id).where(
                Referral.community_id == cid
            )
        ).all()
        events = s.scalar(
            select(MembershipEvent.id).where(MembershipEvent.community_id == cid).limit(1)
        )
    assert events is not None
    memberships = sorted(
        (users[m], status, joined, left, users.get(inviter), via)
        for m, status, joined, left, inviter, via in rows
    )
    return memberships + sorted(("referral", users[a], users[b]) for a, b in referrals)


def test_membership_changes_match_the_sqlalchemy_original(store, monkeypatch):
    for chunk in (1, 3, 100):
        fast, slow = f"fast{chunk}", f"slow{chunk}"
        build_pipeline(store, "import", create_communities=True, chunk_size=chunk).run(
            _history(fast), source="t"
        )
        with monkeypatch.context() as m:
            m.setattr(writer, "write_membership_changes", write_memberships)
            build_pipeline(store, "import", create_communities=True, chunk_size=chunk).run(
                _history(slow), source="t"
            )
        assert _state(store, fast) == _state(store, slow)
        # a second delivery changes nothing
        build_pipeline(store, "import", create_communities=True, chunk_size=chunk).run(
            _history(fast), source="t"
        )
        assert _state(store, fast) == _state(store, slow)
