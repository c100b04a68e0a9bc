"""Referral operations: personal invite codes and links, campaigns, the review of held
rewards and their redemption, leaderboards, the attribution tree and the K-factor."""

from __future__ import annotations

import dataclasses
import secrets
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from qunzhu import events as ev
from qunzhu.events import make_key
from qunzhu.growth.codes import resolve_code
from qunzhu.growth.common import GrowthError, Place, action, aware, place_of
from qunzhu.spec.growth import ReferralRung
from qunzhu.store import outbox
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.growth import Campaign, InviteCode, ReferralReward
from qunzhu.store.models import Group, Identity, Member, MembershipEvent, Referral
from qunzhu.store.uncounted import counted

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud


def new_code(length: int = 8) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def ensure_invite_codes(
    conn: Connection, community_id: int, member_ids: list[int]
) -> dict[int, str]:
    """Every member named gets one personal code (kept once made); returns member → code."""
    t = table_of(InviteCode)
    wanted = sorted(set(member_ids))
    out: dict[int, str] = {}
    for _attempt in range(5):  # a clash of random codes leaves that member for the next round
        missing = [m for m in wanted if m not in out]
        for start in range(0, len(missing), 500):
            part = missing[start : start + 500]
            rows = [
                {
                    "community_id": community_id,
                    "member_id": m,
                    "code": new_code(),
                    "created_at": datetime.now(UTC),
                }
                for m in part
            ]
            insert_ignoring_conflicts(conn, t, rows)
            out.update(
                (int(m), c)
                for m, c in conn.execute(
                    select(t.c.member_id, t.c.code).where(
                        t.c.community_id == community_id, t.c.member_id.in_(part)
                    )
                )
            )
        if len(out) == len(wanted):
            break
    return out


def invite_link_action(
    place: Place, code: str, member_limit: int | None = None, referrer: str | None = None
) -> ev.Action:
    """Ask the platform for a named invite link (Telegram: a link named ``ref:<referrer>:
    <code>``, with a member limit; QQ and WeCom carry the code as operator id / contact-way
    ``state``). A join through it names the referrer and the code, so it is attributed even
    when the link is not found in ``connector_invite_links``."""
    made = action(
        "create_invite_link",
        place,
        reason="referral code",
        name=f"ref:{referrer or ''}:{code}"[:32],
        member_limit=member_limit,
        referrer=referrer,
        code=code,
    )
    # one key per code and limit: the default key leaves out the detail, so every member's
    # link into a group would share one (and their alerts collapse into one)
    key = make_key("invite_link", place.platform, place.community, place.group, code, member_limit)
    return dataclasses.replace(made, key=key)


MAX_LINK_MEMBERS = 99_999  # Telegram's member_limit range is 1..99999


def request_invite_link(
    conn: Connection, community_id: int, member_id: int, group_id: int, member_limit: int | None
) -> dict[str, Any]:
    """Queue a personal invite link of ``member_id`` into ``group_id`` in the outbox, bound to
    the member's invite code; the serving process creates it and stores it on the code. Asking
    again for the same link queues nothing new (and retries one that failed)."""
    if member_limit is not None and not 1 <= member_limit <= MAX_LINK_MEMBERS:
        raise GrowthError(
            "bad_member_limit", f"member limit must be 1 to {MAX_LINK_MEMBERS}, not {member_limit}"
        )
    known = conn.execute(
        select(Member.id).where(
            Member.id == member_id,
            Member.community_id == community_id,
            Member.merged_into_id.is_(None),
        )
    ).first()
    if known is None:
        raise GrowthError("unknown_member", f"member {member_id} is not in this community")
    g = conn.execute(
        select(Group.id, Group.platform).where(
            Group.id == group_id, Group.community_id == community_id
        )
    ).first()
    if g is None:
        raise GrowthError("unknown_group", f"group {group_id} is not in this community")
    code = ensure_invite_codes(conn, community_id, [member_id])[member_id]
    where = place_of(conn, group_id, member_id)  # the adapters address every action to someone
    # the referrer is named only by a real platform id: a made-up one would resolve to a
    # stranger at join time, while the code alone still attributes the join
    referrer = conn.execute(
        select(Identity.platform_user_id)
        .where(Identity.member_id == member_id, Identity.platform == g.platform)
        .limit(1)
    ).scalar()
    act = invite_link_action(where, code, member_limit, referrer)
    origin = f"invite:{member_id}:{group_id}:{member_limit or 0}"
    outbox.enqueue(conn, community_id, [act], origin)
    t = table_of(OutboxAction)
    row = conn.execute(
        select(t.c.id, t.c.status).where(
            t.c.community_id == community_id,
            t.c.key == make_key("outbox", origin, act.key),
        )
    ).one()
    if row.status in ("failed", "alerted", "skipped"):
        outbox.requeue(conn, community_id, [row.id])
    link = conn.execute(
        select(InviteCode.link).where(
            InviteCode.community_id == community_id, InviteCode.member_id == member_id
        )
    ).scalar()
    return {
        "member_id": member_id,
        "group_id": group_id,
        "platform": g.platform,
        "code": code,
        "member_limit": member_limit,
        "outbox_id": int(row.id),
        "status": "queued" if row.status in ("failed", "alerted", "skipped") else row.status,
        "link": link,
    }


def set_link(conn: Connection, community_id: int, code: str, link: str) -> None:
    t = table_of(InviteCode)
    conn.execute(
        update(t).where(t.c.community_id == community_id, t.c.code == code).values(link=link)
    )


def owner_of_code(conn: Connection, community_id: int, code: str) -> int:
    t = table_of(InviteCode)
    stored = resolve_code(conn, [t], community_id, code)
    found = None
    if stored is not None:
        found = conn.execute(
            select(t.c.member_id).where(t.c.community_id == community_id, t.c.code == stored[1])
        ).scalar()
    if found is None:
        raise GrowthError("unknown_referral_code", f"referral code {code!r} does not exist")
    return int(found)


def create_campaign(
    conn: Connection,
    community_id: int,
    slug: str,
    name: str,
    ladder: list[dict[str, Any]],
    starts_at: datetime,
    ends_at: datetime | None,
) -> int:
    rungs = [ReferralRung.model_validate(r) for r in ladder]  # refuses a bad ladder, says why
    if not rungs:
        raise GrowthError("empty_ladder", "a campaign needs at least one rung")
    if ends_at is not None and ends_at <= starts_at:
        raise GrowthError("bad_window", "the campaign ends before it starts")
    rows = insert_ignoring_conflicts(
        conn,
        table_of(Campaign),
        [
            {
                "community_id": community_id,
                "slug": slug,
                "name": name,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "ladder": [r.model_dump() for r in rungs],
                "created_at": datetime.now(UTC),
            }
        ],
        table_of(Campaign).c.id,
    )
    if not rows:
        raise GrowthError("campaign_exists", f"campaign {slug!r} exists already")
    return int(rows[0].id)


def _campaign(conn: Connection, community_id: int, slug: str) -> Any:
    c = conn.execute(
        select(Campaign).where(Campaign.community_id == community_id, Campaign.slug == slug)
    ).one_or_none()
    if c is None:
        raise GrowthError("unknown_campaign", f"campaign {slug!r} does not exist")
    return c


_MOVES = {
    "approve": ("held", "granted"),
    "reject": ("held", "rejected"),
    "redeem": ("granted", "redeemed"),
}


def decide_reward(
    conn: Connection, community_id: int, reward_id: int, move: str, note: str = ""
) -> str:
    """approve / reject a held reward, or mark a granted one redeemed (兑换); once only."""
    before, after = _MOVES[move]
    t = table_of(ReferralReward)
    done = conn.execute(
        update(t)
        .where(t.c.id == reward_id, t.c.community_id == community_id, t.c.status == before)
        .values(status=after, decided_at=datetime.now(UTC), note=note or None)
    )
    if not done.rowcount:
        status = conn.execute(
            select(t.c.status).where(t.c.id == reward_id, t.c.community_id == community_id)
        ).scalar()
        if status is None:
            raise GrowthError("unknown_reward", f"reward {reward_id} does not exist")
        raise GrowthError("wrong_status", f"reward {reward_id} is {status}, not {before}")
    if move == "approve":
        row = conn.execute(
            select(t.c.member_id, t.c.kind, t.c.value).where(t.c.id == reward_id)
        ).one()
        if row.kind == "tier":
            from qunzhu.growth.payments import set_tier

            set_tier(conn, community_id, row.member_id, row.value, "referral reward", "referral")
    return after


def rewards(conn: Connection, community_id: int, status: str | None = None) -> list[dict[str, Any]]:
    t, c = table_of(ReferralReward), table_of(Campaign)
    q = (
        select(t, c.c.slug.label("campaign"), Member.display_name)
        .join(c, c.c.id == t.c.campaign_id)
        .join(Member, Member.id == t.c.member_id)
        .where(t.c.community_id == community_id)
        .order_by(t.c.id)
    )
    if status:
        q = q.where(t.c.status == status)
    return [
        {
            "id": r.id,
            "campaign": r.campaign,
            "member_id": r.member_id,
            "member": r.display_name,
            "rung": r.rung,
            "kind": r.kind,
            "value": r.value,
            "status": r.status,
            "signals": r.signals,
            "note": r.note,
        }
        for r in conn.execute(q)
    ]


def leaderboard(
    conn: Connection, community_id: int, campaign: str, limit: int = 20
) -> list[dict[str, Any]]:
    c = _campaign(conn, community_id, campaign)
    r = table_of(Referral)
    q = (
        select(r.c.inviter_member_id, Member.display_name, r.c.status, func.count())
        .join(Member, Member.id == r.c.inviter_member_id)
        .where(
            r.c.community_id == community_id,
            r.c.occurred_at >= c.starts_at,
            counted(r.c.inviter_member_id, conn, community_id),
        )
        .group_by(r.c.inviter_member_id, Member.display_name, r.c.status)
    )
    if c.ends_at is not None:
        q = q.where(r.c.occurred_at < c.ends_at)
    board: dict[int, dict[str, Any]] = {}
    for m, name, status, n in conn.execute(q):
        row = board.setdefault(
            int(m), {"member_id": int(m), "member": name, "joined": 0, "qualified": 0, "pending": 0}
        )
        row["joined"] += n
        if status in ("qualified", "pending"):
            row[status] += n
    ranked = sorted(board.values(), key=lambda x: (-x["qualified"], -x["joined"], x["member_id"]))
    for i, row in enumerate(ranked[:limit], start=1):
        row["rank"] = i
    return ranked[:limit]


def campaign_stats(conn: Connection, community_id: int, campaign: str) -> dict[str, Any]:
    """Joins by referral, qualified, and the K-factor (new members per member at start)."""
    from qunzhu.growth.referral_rules import k_factor

    c = _campaign(conn, community_id, campaign)
    r, me = table_of(Referral), table_of(MembershipEvent)
    window = [r.c.community_id == community_id, r.c.occurred_at >= c.starts_at]
    if c.ends_at is not None:
        window.append(r.c.occurred_at < c.ends_at)
    counts: dict[str, int] = {
        str(s): int(n)
        for s, n in conn.execute(
            select(r.c.status, func.count()).where(*window).group_by(r.c.status)
        )
    }
    base = (
        conn.execute(
            select(func.count(func.distinct(me.c.member_id))).where(
                me.c.community_id == community_id,
                me.c.kind == "join",
                me.c.occurred_at < c.starts_at,
            )
        ).scalar()
        or 0
    )
    inviters = (
        conn.execute(
            select(func.count(func.distinct(r.c.inviter_member_id))).where(*window)
        ).scalar()
        or 0
    )
    if base == 0:  # a campaign from the community's first day: the referrers are the base
        base = inviters
    joined = sum(counts.values())
    return {
        "campaign": c.slug,
        "name": c.name,
        "starts_at": aware(c.starts_at),
        "ends_at": aware(c.ends_at) if c.ends_at else None,
        "ladder": c.ladder,
        "referred_joins": joined,
        "by_status": counts,
        "referrers": inviters,
        "base_members": base,
        **k_factor(joined, int(counts.get("qualified", 0)), int(base)),
    }


def attribution_tree(
    conn: Connection, community_id: int, root: int, max_depth: int = 5
) -> dict[str, Any]:
    """Who a member brought in, and whom those brought in, level by level (多级归因)."""
    r = table_of(Referral)
    children: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for a, b, status in conn.execute(
        select(r.c.inviter_member_id, r.c.invitee_member_id, r.c.status)
        .where(r.c.community_id == community_id)
        .order_by(r.c.occurred_at)
    ):
        children[int(a)].append((int(b), status))
    seen = {root}

    def node(m: int, status: str | None, depth: int) -> dict[str, Any]:
        kids = []
        if depth < max_depth:
            for b, st in children.get(m, []):
                if b not in seen:  # rings: each member appears once
                    seen.add(b)
                    kids.append(node(b, st, depth + 1))
        return {
            "member_id": m,
            "status": status,
            "invited": kids,
            "descendants": sum(1 + k["descendants"] for k in kids),
        }

    return node(root, None, 0)
