"""Growth commands: ``qunzhu referral``, ``applications``, ``capacity``, ``membership`` and
``routing``. Each prints a table, or one JSON document with ``--json``; refusals exit 2 with
the reason. Platform actions a command decides (an invite link, a removal) are queued in the
outbox in the command's transaction; ``qunzhu serve`` carries them out."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar

import typer
from rich.table import Column, Table
from sqlalchemy import Connection

from qunzhu.cli import words
from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.cli.words import column, say
from qunzhu.engines import views
from qunzhu.growth import admission, capacity, payments, referrals, routing
from qunzhu.growth.common import GrowthError, community_id_of, spec_of
from qunzhu.growth.providers import PaymentNotice
from qunzhu.growth.referral_settle import settle
from qunzhu.readmodels import referrals as read_referrals
from qunzhu.readmodels.capacity import community_capacity, waitlist
from qunzhu.readmodels.directory import member_ids
from qunzhu.store import outbox

T = TypeVar("T")
COMMUNITY = typer.Option(..., "--community", "-c", help="Community slug.")

referral_app = typer.Typer(
    help="Referral (裂变): codes, campaigns, rewards, leaderboards.", no_args_is_help=True
)
applications_app = typer.Typer(
    help="Applications (入群申请) and one-time join codes.", no_args_is_help=True
)
capacity_app = typer.Typer(
    help="Capacity (规模): seats, waitlists, one-in-one-out.", no_args_is_help=True
)
membership_app = typer.Typer(
    help="Paid membership (付费会员): plans, orders, expiry.", no_args_is_help=True
)
routing_app = typer.Typer(
    help="Routing (分流) into segments; tags; re-segmentation.", no_args_is_help=True
)


def _run(slug: str, as_json: bool, work: Callable[[Connection, int], T]) -> T:
    """One transaction; a refusal becomes exit code 2 with its reason."""
    store = store_at_head(as_json)
    try:
        with store.engine.begin() as conn:
            return work(conn, community_id_of(conn, slug))
    except GrowthError as exc:
        raise fail(str(exc), as_json=as_json, reason=exc.reason) from None
    finally:
        store.dispose()


# columns whose values are codes, and the catalog family that names them
CODED = {"kind": "reward", "role": "member_role"}
# a status is named by the family of the table it is in
STATUS_OF = {
    "rewards": "reward_status",
    "applications": "application_status",
    "orders": "order_status",
    "memberships": "paid_status",
}


def _cell(name: str, value: Any, title: str = "") -> str:
    if value is None:
        return ""
    if name in CODED:
        return words.code(CODED[name], value)
    if name == "status":
        return words.code(STATUS_OF.get(title, "referral_status"), value)
    if isinstance(value, dict) and name != "signals":
        return say("names.list_sep").join(f"{k}：{v}" for k, v in value.items())
    if name == "signals" and isinstance(value, dict):
        said = [say(f"signal.{k}", value=f"{v:.0%}" if isinstance(v, float) else v)
                for k, v in value.items()]  # fmt: skip
        return say("names.list_sep").join(said)
    return str(value)


def _table(rows: list[dict[str, Any]], columns: list[str], title: str = "") -> None:
    shown = words.code("cli.title", title) if title else ""
    if not rows:
        console.print(say("cli.nothing_in", title=shown) if title else say("cli.nothing"))
        return
    # a narrow terminal folds a long cell onto more lines rather than cutting a word off
    table = Table(*(Column(column(c), overflow="fold") for c in columns), title=shown or None)
    for r in rows:
        table.add_row(*[_cell(c, r.get(c), title) for c in columns])
    console.print(table)


def _group_id(conn: Connection, community_id: int, ref: str) -> int:
    """A group of the community by its id or platform id; refused when it is not there."""
    try:
        return views.group_id_of(conn, community_id, ref)
    except views.UnknownCommunity as exc:
        raise GrowthError("unknown_group", str(exc)) from None


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# -- referral ---------------------------------------------------------------------------


@referral_app.command("codes")
def referral_codes(
    community: str = COMMUNITY,
    member: list[int] = typer.Option([], "--member", "-m", help="Member id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Give members their personal invite code (邀请码); all members when none named."""

    def work(conn: Connection, cid: int) -> list[dict[str, Any]]:
        ids = member or member_ids(conn, cid)
        codes = referrals.ensure_invite_codes(conn, cid, ids)
        return [{"member_id": m, "code": c} for m, c in sorted(codes.items())]

    emit(
        _run(community, as_json, work),
        as_json,
        lambda d: _table(d, ["member_id", "code"], "invite codes"),
    )


@referral_app.command("link")
def referral_link(
    community: str = COMMUNITY,
    group: int = typer.Option(..., "--group", "-g", help="Group id (the chat the link joins)."),
    member: int = typer.Option(..., "--member", "-m", help="Member id (the referrer)."),
    limit: int | None = typer.Option(
        None, "--limit", help="How many may join through the link (Telegram: 1-99999)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """A member's personal invite link (Telegram named link with a member limit), bound to
    their invite code: queued for `qunzhu serve`'s connector; run again to see the link."""
    data = _run(
        community,
        as_json,
        lambda conn, cid: referrals.request_invite_link(conn, cid, member, group, limit),
    )

    def render(d: dict[str, Any]) -> None:
        console.print(
            f"member {d['member_id']} code {d['code']}: link {d['link'] or '(not made yet)'}; "
            f"request {d['outbox_id']} {d['status']}"
        )

    emit(data, as_json, render)


@referral_app.command("campaign")
def referral_campaign(
    slug: str = typer.Argument(..., help="Campaign id, e.g. spring-2025."),
    community: str = COMMUNITY,
    name: str = typer.Option(..., "--name"),
    ladder: str = typer.Option(
        ..., "--ladder", help='JSON: [{"invitees": 5, "reward": {"kind": "points", "value": 100}}]'
    ),
    starts: str = typer.Option(None, "--starts", help="ISO time; default now"),
    ends: str = typer.Option(None, "--ends", help="ISO time; default open"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a referral campaign with its reward ladder."""
    try:
        rungs = json.loads(ladder)
        start, end = _when(starts) or datetime.now(UTC), _when(ends)
    except ValueError as exc:
        raise fail(f"--ladder/--starts/--ends: {exc}", as_json=as_json) from None

    def work(conn: Connection, cid: int) -> dict[str, Any]:
        try:
            cid_ = referrals.create_campaign(conn, cid, slug, name, rungs, start, end)
        except ValueError as exc:
            if isinstance(exc, GrowthError):
                raise
            raise GrowthError("bad_ladder", f"--ladder: {exc}") from None
        return {"id": cid_, "campaign": slug}

    emit(
        _run(community, as_json, work),
        as_json,
        lambda d: console.print(f"campaign {d['campaign']} created"),
    )


@referral_app.command("settle")
def referral_settle(
    community: str = COMMUNITY,
    now: str = typer.Option(None, "--now", help="ISO time; default now"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Decide qualification and clawback, grant or hold rungs (run it daily)."""
    at = _when(now)
    data = _run(community, as_json, lambda conn, cid: settle(conn, cid, now=at).as_dict())
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"decided {d['decided']}, granted {d['granted']}, held for review {d['held']}, "
            f"clawed back {d['clawed_back']}"
        ),
    )


@referral_app.command("rewards")
def referral_rewards(
    community: str = COMMUNITY,
    status: str = typer.Option(None, "--status", help="e.g. held"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Rewards by status; ``--status held`` is the fraud review queue."""
    tiers: dict[str, str] = {}

    def read(conn: Connection, cid: int) -> list[dict[str, Any]]:
        tiers.update(words.tier_names(conn, cid))
        return [asdict(r) for r in read_referrals.rewards(conn, cid, status)]

    def named(row: dict[str, Any]) -> dict[str, Any]:
        """A tier reward's value is a tier id: shown by the tier's name in the spec."""
        if row.get("kind") == "tier":
            return {**row, "value": tiers.get(str(row.get("value")), row.get("value"))}
        return row

    data = _run(community, as_json, read)
    emit(
        data,
        as_json,
        lambda d: _table(
            [named(r) for r in d],
            ["id", "campaign", "member_id", "member", "rung", "kind", "value", "status", "signals"],
            "rewards",
        ),
    )


@referral_app.command("review")
def referral_review(
    reward_id: int,
    decision: str = typer.Argument(..., help="approve | reject | redeem"),
    community: str = COMMUNITY,
    note: str = typer.Option("", "--note"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Approve or reject a held reward, or mark a granted one redeemed (兑换)."""
    if decision not in ("approve", "reject", "redeem"):
        raise fail("decision must be approve, reject or redeem", as_json=as_json)
    status = _run(
        community,
        as_json,
        lambda conn, cid: referrals.decide_reward(conn, cid, reward_id, decision, note),
    )
    emit(
        {"id": reward_id, "status": status},
        as_json,
        lambda d: console.print(f"reward {d['id']} is {d['status']}"),
    )


@referral_app.command("leaderboard")
def referral_leaderboard(
    campaign: str,
    community: str = COMMUNITY,
    limit: int = typer.Option(20, "--limit"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Referrers ranked by qualified invitees (排行榜)."""
    data = _run(
        community,
        as_json,
        lambda conn, cid: [
            asdict(leader)
            for leader in read_referrals.campaign_leaderboard(conn, cid, campaign, limit).leaders
        ],
    )
    emit(
        data,
        as_json,
        lambda d: _table(
            d, ["rank", "member_id", "member", "qualified", "pending", "held", "joined"], campaign
        ),
    )


@referral_app.command("stats")
def referral_stats(campaign: str, community: str = COMMUNITY, as_json: bool = JSON_OPTION) -> None:
    """Joins by referral, qualified share and K-factor of a campaign."""
    data = _run(community, as_json, lambda conn, cid: referrals.campaign_stats(conn, cid, campaign))
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"{d['campaign']}: {d['referred_joins']} referred joins {d['by_status']}, "
            f"{d['referrers']} referrers, base {d['base_members']}, K {d['k_joined']} "
            f"(qualified K {d['k_qualified']})"
        ),
    )


@referral_app.command("tree")
def referral_tree(
    member_id: int,
    community: str = COMMUNITY,
    depth: int = typer.Option(5, "--depth"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Whom a member brought in, level by level (attribution tree)."""
    data = _run(
        community,
        as_json,
        lambda conn, cid: referrals.attribution_tree(conn, cid, member_id, depth),
    )

    def render(node: dict[str, Any], indent: int = 0) -> None:
        console.print(
            "  " * indent
            + f"member {node['member_id']}"
            + (f" [{node['status']}]" if node["status"] else "")
            + f" ({node['descendants']} below)"
        )
        for kid in node["invited"]:
            render(kid, indent + 1)

    emit(data, as_json, render)


# -- applications -----------------------------------------------------------------------


@applications_app.command("list")
def applications_list(
    community: str = COMMUNITY,
    status: str = typer.Option("pending", "--status", help="'' for all"),
    as_json: bool = JSON_OPTION,
) -> None:
    """The review queue (审核队列)."""
    data = _run(community, as_json, lambda conn, cid: admission.queue(conn, cid, status or None))
    emit(
        data,
        as_json,
        lambda d: _table(d, ["id", "member_id", "status", "reason", "answers"], "applications"),
    )


@applications_app.command("review")
def applications_review(
    application_id: int,
    decision: str = typer.Argument(..., help="approve | reject | ask"),
    community: str = COMMUNITY,
    reason: str = typer.Option(None, "--reason"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Approve, reject with a reason, or ask for more (补充信息)."""
    data = _run(
        community,
        as_json,
        lambda conn, cid: admission.review(conn, cid, application_id, decision, reason, None),
    )
    emit(data, as_json, lambda d: console.print(f"application {d['id']} is {d['status']}"))


@applications_app.command("codes")
def applications_codes(
    community: str = COMMUNITY,
    count: int = typer.Option(1, "--count"),
    group: str = typer.Option(None, "--group", help="platform group id"),
    days: int = typer.Option(None, "--days", help="valid for N days"),
    note: str = typer.Option("", "--note"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Issue one-time join codes (入群码)."""

    def work(conn: Connection, cid: int) -> list[str]:
        gid = _group_id(conn, cid, group) if group else None
        return admission.issue_join_codes(
            conn, cid, count, group_id=gid, valid_days=days, note=note
        )

    emit(_run(community, as_json, work), as_json, lambda d: console.print("\n".join(d)))


# -- capacity ---------------------------------------------------------------------------


@capacity_app.command("show")
def capacity_show(community: str = COMMUNITY, as_json: bool = JSON_OPTION) -> None:
    """Seats taken per group of the cap, members, who waits, and open proposals."""

    def render(d: dict[str, Any]) -> None:
        policy = words.code("spec.size", d["policy"])
        auto = say("cli.capacity.auto") if d["auto"] else ""
        console.print(say("cli.capacity.policy", policy=policy, cap=d["cap"]) + auto)
        _table(
            d["groups"],
            ["platform_group_id", "name", "seats_taken", "cap", "members", "waitlist"],
            "groups",
        )
        _table(
            d["proposals"],
            ["id", "group_id", "member_id", "for_member_id", "value"],
            "one-in-one-out proposals",
        )

    data = _run(community, as_json, lambda conn, cid: asdict(community_capacity(conn, cid)))
    emit(data, as_json, render)


@capacity_app.command("waitlist")
def capacity_waitlist(group: str, community: str = COMMUNITY, as_json: bool = JSON_OPTION) -> None:
    """The queue of a full group, in order (候补名单): waiting, or offered a held seat."""

    def work(conn: Connection, cid: int) -> list[dict[str, Any]]:
        return [asdict(p) for p in waitlist(conn, cid, _group_id(conn, cid, group))]

    emit(
        _run(community, as_json, work),
        as_json,
        lambda d: _table(d, ["position", "member_id", "status", "since", "notified_at"], group),
    )


@capacity_app.command("decide")
def capacity_decide(
    proposal_id: int,
    decision: str = typer.Argument(..., help="approve | dismiss"),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Answer a one-in-one-out proposal."""
    if decision not in ("approve", "dismiss"):
        raise fail("decision must be approve or dismiss", as_json=as_json)

    def work(conn: Connection, cid: int) -> list[Any]:
        acts = capacity.decide_eviction(conn, cid, proposal_id, decision == "approve")
        outbox.enqueue(conn, cid, acts, f"proposal:{proposal_id}")
        return acts

    acts = _run(community, as_json, work)
    emit(
        {
            "id": proposal_id,
            "actions": [{"kind": a.kind, "group": a.group, "member": a.member} for a in acts],
        },
        as_json,
        lambda d: console.print(f"proposal {d['id']}: {d['actions']}"),
    )


# -- membership -------------------------------------------------------------------------


@membership_app.command("plans")
def membership_plans(community: str = COMMUNITY, as_json: bool = JSON_OPTION) -> None:
    """The plans of the spec (价格、周期、到期处理)."""
    data = _run(
        community,
        as_json,
        lambda conn, cid: [p.model_dump() for p in spec_of(conn, cid).monetization.plans],
    )
    emit(
        data,
        as_json,
        lambda d: _table(
            d,
            ["id", "name", "price_cents", "currency", "period_days", "tier", "on_expiry"],
            "plans",
        ),
    )


@membership_app.command("order")
def membership_order(
    member_id: int, plan: str, community: str = COMMUNITY, as_json: bool = JSON_OPTION
) -> None:
    """Open an order for a member; pay offline and confirm with ``mark-paid``."""
    data = _run(
        community, as_json, lambda conn, cid: payments.create_order(conn, cid, member_id, plan)
    )
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"order {d['order_no']}: {d['amount_cents'] / 100:.2f} {d['currency']} ({d['plan']})"
        ),
    )


@membership_app.command("orders")
def membership_orders(
    community: str = COMMUNITY,
    status: str = typer.Option(None, "--status"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Orders, newest last."""
    data = _run(community, as_json, lambda conn, cid: payments.orders(conn, cid, status))
    emit(
        data,
        as_json,
        lambda d: _table(
            d,
            ["order_no", "member_id", "plan", "amount_cents", "status", "paid_at", "expires_at"],
            "orders",
        ),
    )


@membership_app.command("mark-paid")
def membership_mark_paid(
    order_no: str,
    community: str = COMMUNITY,
    ref: str = typer.Option(..., "--ref", help="receipt / transfer id"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Confirm an offline payment (manual provider); the same --ref twice pays once."""

    def work(conn: Connection, cid: int) -> dict[str, Any]:
        o = [x for x in payments.orders(conn, cid) if x["order_no"] == order_no]
        if not o:
            raise GrowthError("unknown_order", f"order {order_no!r} does not exist")
        paid = payments.record_payment(
            conn,
            "manual",
            PaymentNotice(
                community=community,  # the slug _run resolved to ``cid``
                order_no=order_no,
                payment_id=ref,
                amount_cents=o[0]["amount_cents"],
                currency=o[0]["currency"],
                raw={"confirmed_by": "cli"},
            ),
        )
        return {"order_no": order_no, "new": paid.new, "subscription": paid.subscription}

    emit(
        _run(community, as_json, work),
        as_json,
        lambda d: console.print(
            f"order {d['order_no']} " + ("paid" if d["new"] else "was paid already")
        ),
    )


@membership_app.command("list")
def membership_list(community: str = COMMUNITY, as_json: bool = JSON_OPTION) -> None:
    """Memberships and when they end."""
    data = _run(community, as_json, lambda conn, cid: payments.subscriptions(conn, cid))
    emit(
        data,
        as_json,
        lambda d: _table(
            d, ["member_id", "plan", "status", "expires_at", "reminded_at"], "memberships"
        ),
    )


@membership_app.command("sweep")
def membership_sweep(
    community: str = COMMUNITY,
    now: str = typer.Option(None, "--now", help="ISO time; default now"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send renewal reminders and apply on_expiry (run it daily)."""
    at = _when(now)

    def work(conn: Connection, cid: int) -> dict[str, Any]:
        out = payments.sweep(conn, cid, at)
        stamp = int((at or datetime.now(UTC)).timestamp())
        out["queued"] = len(outbox.enqueue(conn, cid, out["actions"], f"sweep:{stamp}"))
        out["actions"] = [
            {"kind": a.kind, "group": a.group, "member": a.member, "reason": a.reason}
            for a in out["actions"]
        ]
        return out

    emit(
        _run(community, as_json, work),
        as_json,
        lambda d: console.print(
            f"reminded {len(d['reminded'])}, expired {len(d['expired'])}, "
            f"{len(d['actions'])} actions"
        ),
    )


# -- routing ----------------------------------------------------------------------------


@routing_app.command("preview")
def routing_preview(community: str = COMMUNITY, as_json: bool = JSON_OPTION) -> None:
    """Who would move where under the current rules; writes nothing."""
    data = _run(community, as_json, lambda conn, cid: routing.plan(conn, cid))
    emit(
        data,
        as_json,
        lambda d: _table(d, ["member_id", "from", "to", "to_group"], "re-segmentation preview"),
    )


@routing_app.command("apply")
def routing_apply(
    community: str = COMMUNITY,
    yes: bool = typer.Option(False, "--yes", help="apply without asking"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Re-segment everyone (manual assignments stay)."""
    if not yes:
        raise fail(
            "this moves members between segments: look at `routing preview`, then "
            "run again with --yes",
            as_json=as_json,
        )
    n = _run(
        community, as_json, lambda conn, cid: routing.apply(conn, cid, routing.plan(conn, cid))
    )
    emit({"moved": n}, as_json, lambda d: console.print(f"{d['moved']} members re-segmented"))


@routing_app.command("tag")
def routing_tag(
    member_id: int,
    community: str = COMMUNITY,
    add: list[str] = typer.Option([], "--add"),
    remove: list[str] = typer.Option([], "--remove"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add or remove a member's routing tags (interest, job, region…)."""
    tags = _run(
        community, as_json, lambda conn, cid: routing.set_tags(conn, cid, member_id, add, remove)
    )
    emit(
        {"member_id": member_id, "tags": tags},
        as_json,
        lambda d: console.print(f"member {d['member_id']}: {', '.join(d['tags']) or '-'}"),
    )


@routing_app.command("assign")
def routing_assign(
    member_id: int,
    segment: str = typer.Argument(..., help="segment id, or 'holding'"),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Put a member in a segment by hand (kept by later re-segmentation)."""
    seg = None if segment == "holding" else segment
    data = _run(
        community, as_json, lambda conn, cid: routing.assign(conn, cid, member_id, seg, manual=True)
    )
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"member {d['member_id']} → {d['segment'] or 'holding'} ({d['group']})"
        ),
    )


def register(app: typer.Typer) -> None:
    """Mount the growth commands on the main app (one line in cli/main.py)."""
    app.add_typer(referral_app, name="referral")
    app.add_typer(applications_app, name="applications")
    app.add_typer(capacity_app, name="capacity")
    app.add_typer(membership_app, name="membership")
    app.add_typer(routing_app, name="routing")
