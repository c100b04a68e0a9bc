"""``rules.who_may_invite`` enforced on live joins: a person invited by someone the rule
leaves out is handled as ``rules.uninvited_join`` says — flagged for the operators, put to an
admin as a task, or removed (the inviter is told in the group).

Who may invite: ``all`` anyone; ``members`` a member of the community (an active membership
in one of its groups); ``operators`` a protected member (owner, admins, mentors: the
escalation's ``protected`` list) or one of the spec's ``staff``. A join without an inviter
(a link, a request an admin approved) is not an invitation and passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, select

from qunzhu import events as ev
from qunzhu.growth.common import action, parsed_spec, place_of
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.batch import Resolved, Written
from qunzhu.store.community import Member, Membership
from qunzhu.store.resolve import community_specs
from qunzhu.store.uncounted import kinds_of

Verdict = Literal["allowed", "flag", "ask", "remove"]
WHO = {"members": "群成员", "operators": "管理员"}


@dataclass(frozen=True, slots=True)
class Inviter:
    member: bool  # an active member of the community
    protected: bool  # owner, admin, mentor


def decide(spec: CommunitySpec, inviter: Inviter | None) -> Verdict:
    """Pure: what to do with a join ``inviter`` made (None: nobody invited them)."""
    who = spec.rules.who_may_invite
    if inviter is None or who == "all":
        return "allowed"
    allowed = inviter.protected if who == "operators" else inviter.member or inviter.protected
    return "allowed" if allowed else spec.rules.uninvited_join


def _inviter(conn: Connection, community_id: int, member_id: int) -> Inviter:
    protected = conn.scalar(
        select(Member.protected).where(Member.community_id == community_id, Member.id == member_id)
    )
    active = conn.scalar(
        select(Membership.id)
        .where(
            Membership.community_id == community_id,
            Membership.member_id == member_id,
            Membership.status == "active",
        )
        .limit(1)
    )
    staff = kinds_of(conn, community_id, {member_id}).get(member_id) == "staff"
    return Inviter(member=active is not None, protected=bool(protected) or staff)


class InvitePolicy:
    """A reactor of the live pipeline; the actions of each uninvited join."""

    def __call__(self, conn: Connection, written: Written) -> list[ev.Action]:
        joins = [r for r in written.of("member_joined") if r.other_member_id is not None]
        if not joins:
            return []
        texts = community_specs(conn, {r.community_id for r in joins})
        actions: list[ev.Action] = []
        for r in joins:
            spec = parsed_spec(texts[r.community_id].spec_yaml or "")
            if spec.rules.who_may_invite == "all":
                continue
            assert r.other_member_id is not None
            verdict = decide(spec, _inviter(conn, r.community_id, r.other_member_id))
            if verdict != "allowed":
                actions += _handle(conn, r, spec, verdict)
        return actions


def _handle(
    conn: Connection, r: Resolved, spec: CommunitySpec, verdict: Verdict
) -> list[ev.Action]:
    assert isinstance(r.event, ev.MemberJoined) and r.other_member_id is not None
    place = place_of(conn, r.group_id, r.member_id)
    inviter = place_of(conn, r.group_id, r.other_member_id).member
    who = WHO[spec.rules.who_may_invite]
    what = (
        f"{r.event.member_name or place.member} 由 {inviter} 邀请入群，但群规只允许{who}邀请"
        f" (invited by {inviter}; rules.who_may_invite: {spec.rules.who_may_invite})"
    )
    if verdict == "remove":
        return [
            action("remove", place, reason="who_may_invite"),
            action(
                "send_message",
                place,
                reason="who_may_invite",
                text=f"本群只允许{who}邀请新人，{r.event.member_name or place.member} 已被移出。",
            ),
        ]
    ask = "：请决定是否保留此人" if verdict == "ask" else "（已标记）"
    return [action("alert", place, reason="who_may_invite", text=what + ask)]
