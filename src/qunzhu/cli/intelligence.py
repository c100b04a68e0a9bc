"""`qunzhu recompute | health | funnel | report weekly | intelligence train-replies` and
`qunzhu members list | explain | lock-tier | unlock-tier`: what members contribute and how
the groups are doing."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import Connection

from qunzhu.cli.core import progress_bar, store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.engines import views
from qunzhu.engines.recompute import recompute_community
from qunzhu.engines.tierlock import TierLockError, lock_tier, unlock_tier
from qunzhu.readmodels.directory import community_slugs, message_count
from qunzhu.readmodels.health import group_health
from qunzhu.readmodels.members import UnknownMember, member_profile, members_by_value
from qunzhu.reports.render import PdfUnavailable, render_html, write_pdf
from qunzhu.reports.weekly import weekly_data

report_app = typer.Typer(help="Reports (周报).", no_args_is_help=True)
intelligence_app = typer.Typer(help="Member-intelligence models.", no_args_is_help=True)
COMMUNITY = typer.Option(..., "--community", "-c", help="Community slug.")
LANG = typer.Option("en", "--lang", help="zh-CN or en.")


def _lang(value: str, as_json: bool) -> str:
    if value not in ("zh-CN", "zh", "en"):
        raise fail(f"--lang {value!r}: use zh-CN or en", as_json=as_json)
    return value


def _community(conn: Connection, slug: str, as_json: bool) -> int:
    try:
        return views.community_id_of(conn, slug)
    except views.UnknownCommunity as exc:
        raise fail(str(exc), as_json=as_json) from None


def default_day(conn: Connection, community_id: int, today: date) -> date:
    return views.latest_data_day(conn, community_id, today) or today


def recompute(
    community: str | None = typer.Option(None, "--community", "-c", help="Slug; all if left out."),
    day: str | None = typer.Option(
        None, "--day", help="YYYY-MM-DD; default the last day with data."
    ),
    rescore: bool = typer.Option(
        False, "--rescore", help="Score every message again (new weights)."
    ),
    backfill: int = typer.Option(
        0, "--backfill", min=0, max=365, help="Also compute health for this many days before."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Score new messages, then recompute roles, member value, tiers and group health."""
    store = store_at_head(as_json)
    tz = store.settings.tz
    try:
        wanted = date.fromisoformat(day) if day else None
    except ValueError:
        raise fail(f"--day {day!r}: expected YYYY-MM-DD", as_json=as_json) from None
    reports: list[dict[str, Any]] = []
    with store.engine.connect() as conn:
        slugs = [community] if community else community_slugs(conn)
    for slug in slugs:
        with store.engine.connect() as conn, conn.begin():
            cid = _community(conn, slug, as_json)
            at = wanted or default_day(conn, cid, datetime.now(tz).date())
            total = message_count(conn, cid)
            with progress_bar() as bar:
                task = bar.add_task(f"scoring {slug}", total=total if rescore else None)
                result = recompute_community(
                    conn,
                    cid,
                    at,
                    tz,
                    rescore=rescore,
                    backfill_days=backfill,
                    progress=partial(bar.advance, task),
                )
        reports.append({"community_slug": slug, **result.as_dict()})
    emit(reports, as_json, _print_recompute)


def _print_recompute(reports: list[dict[str, Any]]) -> None:
    for r in reports:
        console.print(
            f"{r['community_slug']} {r['day']}: scored {r['scored_messages']:,} messages, "
            f"{r['roles']:,} roles, {r['members_valued']:,} member values, "
            f"{r['tier_changes']} tier changes, {r['groups']} groups"
        )
        for a in r["alerts"]:
            console.print(f"  [bold red]alert[/] {a['day']} {a['message']}", highlight=False)


def health(community: str = COMMUNITY, lang: str = LANG, as_json: bool = JSON_OPTION) -> None:
    """Each group's health: death risk (死群预警) with its reasons, active share, value/day."""
    lang = _lang(lang, as_json)
    store = store_at_head(as_json)
    with store.engine.connect() as conn:
        rows = group_health(conn, _community(conn, community, as_json), lang=lang)
    if not rows:
        raise fail(
            f"no health computed for {community!r} yet: run `qunzhu recompute -c {community}`",
            as_json=as_json,
        )
    emit([r.as_json() for r in rows], as_json, _print_health)


RISK_STYLE = {"high": "bold red", "watch": "yellow", "ok": ""}


def _print_health(rows: list[dict[str, Any]]) -> None:
    table = Table("group", "death risk", "value/day", "spoke 7d", "members", "reasons")
    for r in rows:
        style = RISK_STYLE[r["risk"]]
        table.add_row(
            f"{r['name']} ({r['group']})",
            f"[{style}]{r['death_risk']:.0f}[/]" if style else f"{r['death_risk']:.0f}",
            f"{r['value_per_day']:.1f}",
            f"{r['active_share']:.0%}",
            str(r["members"]),
            "\n".join(r["reasons"]),
        )
    console.print(table)


def funnel(
    community: str = COMMUNITY,
    weeks: int = typer.Option(12, min=1, max=104),
    as_json: bool = JSON_OPTION,
) -> None:
    """Joins by source and referrer, D7/D30 retention by join week, conversion to paid."""
    store = store_at_head(as_json)
    with store.engine.connect() as conn:
        cid = _community(conn, community, as_json)
        data = views.funnel_data(
            conn, cid, default_day(conn, cid, datetime.now(UTC).date()), weeks, store.settings.tz
        )

    def show(d: dict[str, Any]) -> None:
        table = Table("cohort", "joins", "D7", "D30", "paid")
        for c in d["cohorts"]:
            table.add_row(
                c["cohort"], str(c["joins"]), _pct(c["d7"]), _pct(c["d30"]), _pct(c["paid"])
            )
        console.print(f"joins since {d['since']}: {d['joins']} by source {d['by_source']}")
        console.print(table)

    emit(data, as_json, show)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


@report_app.command("weekly")
def weekly(
    community: str = COMMUNITY,
    out: Path = typer.Option(..., "--out", "-o", help="HTML file to write."),
    pdf: bool = typer.Option(False, "--pdf", help="Also write a PDF beside it."),
    lang: str = LANG,
    day: str | None = typer.Option(None, "--day", help="Last day of the week (YYYY-MM-DD)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The weekly report: value trend, role mix, cohorts, top contributors, groups at risk,
    unanswered questions, suggested actions. One HTML file with its charts inside."""
    lang = _lang(lang, as_json)
    store = store_at_head(as_json)
    try:
        wanted = date.fromisoformat(day) if day else None
    except ValueError:
        raise fail(f"--day {day!r}: expected YYYY-MM-DD", as_json=as_json) from None
    with store.engine.connect() as conn:
        cid = _community(conn, community, as_json)
        try:
            data = weekly_data(conn, cid, wanted, lang)
        except LookupError as exc:
            raise fail(f"{exc} -c {community}", as_json=as_json) from None
    out.write_text(render_html(data, lang), encoding="utf-8")
    files = {"html": str(out)}
    if pdf:
        pdf_path = out.with_suffix(".pdf")
        try:
            write_pdf(data, pdf_path, lang)
        except PdfUnavailable as exc:
            raise fail(str(exc), as_json=as_json) from None
        files["pdf"] = str(pdf_path)
    emit(
        {
            "community": community,
            "week": data["week"],
            "files": files,
            "groups_at_risk": [g["group"] for g in data["at_risk"]],
        },
        as_json,
        lambda d: console.print(f"wrote {', '.join(d['files'].values())}"),
    )


def members_list(
    community: str = COMMUNITY,
    group: str | None = typer.Option(None, "--group", "-g", help="Group id or platform id."),
    limit: int = typer.Option(50, min=1, max=100000),
    as_json: bool = JSON_OPTION,
) -> None:
    """Members by value (highest first) with their role and tier."""
    store = store_at_head(as_json)
    with store.engine.connect() as conn:
        cid = _community(conn, community, as_json)
        try:
            gid = views.group_id_of(conn, cid, group) if group else None
        except views.UnknownCommunity as exc:
            raise fail(str(exc), as_json=as_json) from None
        rows = [asdict(r) for r in members_by_value(conn, cid, gid, limit)]

    def show(rs: list[dict[str, Any]]) -> None:
        table = Table("member", "names", "messages", "value", "role", "tier")
        for r in rs:
            table.add_row(
                str(r["member"]),
                ", ".join(r["names"]),
                str(r["messages"]),
                f"{r['value']:.1f}",
                r["role"],
                r["tier"] or "–",
            )
        console.print(table)

    emit(rows, as_json, show)


def members_explain(
    member: int = typer.Argument(..., help="Member id."),
    community: str = COMMUNITY,
    lang: str = LANG,
    as_json: bool = JSON_OPTION,
) -> None:
    """Why a member has their value, role and tier, and what the next tier still needs."""
    lang = _lang(lang, as_json)
    store = store_at_head(as_json)
    with store.engine.connect() as conn:
        cid = _community(conn, community, as_json)
        try:
            profile = member_profile(conn, cid, member, lang)
        except UnknownMember:
            raise fail(f"no member {member} in {community!r}", as_json=as_json) from None
    emit(profile.document, as_json, lambda d: _print_explain(d, lang))


UNCOUNTED = {
    "bot": (
        "a bot: not counted in rankings, leaderboards, roles, tiers or referral rewards",
        "机器人：不计入排行、排行榜、角色、等级和拉新奖励",
    ),
    "staff": (
        "staff (the spec's staff list): not counted in rankings, leaderboards, roles, tiers "
        "or referral rewards",
        "工作人员（规格中的 staff）：不计入排行、排行榜、角色、等级和拉新奖励",
    ),
}


def _print_explain(d: dict[str, Any], lang: str = "en") -> None:
    console.print(
        f"[bold]{', '.join(d['names']) or d['member']}[/]  value {d['value']} "
        f"(decayed, half-life {d['half_life_days']:g} days; {d['raw_value']} undecayed, "
        f"{d['messages']} messages on {d['days_active']} days)"
    )
    for line in d["value_explained"]:
        console.print(f"  {line}", highlight=False)
    if d.get("kind"):
        console.print(UNCOUNTED[d["kind"]][lang.startswith("zh")], highlight=False)
    for r in d["roles"]:
        console.print(
            f"role in {r['group']}: [bold]{r['role_name']}[/] since {r['since']} — {r['reason']}"
        )
    for h in d.get("role_history", []):
        was = f" (was {h['previous_role']})" if h["previous_role"] else ""
        console.print(
            f"  {h['day']} {h['group']}: became {h['role_name']}{was} — {h['reason']}",
            highlight=False,
        )
    if d["tier"]:
        lock = " (locked)" if d["tier"]["locked"] else ""
        console.print(f"tier: [bold]{d['tier']['tier']}[/]{lock} since {d['tier']['since']}")
    nxt = d["next_tier"]
    if nxt:
        console.print(f"next tier {nxt['tier']} ({nxt['name_zh']}) still needs:")
        for n in nxt["needs"]:
            console.print(
                f"  {n['criterion']}: have {n['have']}, need {n['need']}"
                + (f", missing {n['missing']}" if n["missing"] else " ✓")
            )


def members_lock_tier(
    member: int = typer.Argument(..., help="Member id."),
    tier: str = typer.Option(..., "--tier", help="Tier id from the spec."),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the tier history)."),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Put a member in a tier by hand and keep them there until unlocked."""
    store = store_at_head(as_json)
    with store.engine.connect() as conn, conn.begin():
        cid = _community(conn, community, as_json)
        try:
            result = lock_tier(conn, cid, member, tier, reason, datetime.now(UTC))
        except TierLockError as exc:
            raise fail(str(exc), as_json=as_json) from None
    emit(
        result,
        as_json,
        lambda d: console.print(
            f"member {member} locked in tier {d['tier']} (was {d['previous'] or '–'})"
        ),
    )


def members_unlock_tier(
    member: int = typer.Argument(..., help="Member id."),
    community: str = COMMUNITY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Let the rules move a member's tier again from the next recompute."""
    store = store_at_head(as_json)
    with store.engine.connect() as conn, conn.begin():
        cid = _community(conn, community, as_json)
        try:
            result = unlock_tier(conn, cid, member, datetime.now(UTC))
        except TierLockError as exc:
            raise fail(str(exc), as_json=as_json) from None
    emit(result, as_json, lambda d: console.print(json.dumps(d, ensure_ascii=False)))


@intelligence_app.command("train-replies")
def train_replies(
    directory: Path = typer.Argument(
        ..., help="Annotated IRC sessions: NAME.raw.txt beside NAME.annotation.txt (i j -)."
    ),
    out: Path = typer.Option(
        ..., "--out", help="Where to write the model (JSON); the shipped one is engines/data."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Train the reply-link model on the train half of the sessions (split by a hash of
    each session's name) and print its precision and recall on the held-out half."""
    from qunzhu.engines.replytrain import train

    if not directory.is_dir():
        raise fail(f"{directory}: not a directory", as_json=as_json)
    try:
        model, report = train(directory)
    except ValueError as exc:
        raise fail(str(exc), as_json=as_json) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")

    def show(d: dict[str, Any]) -> None:
        console.print(
            f"trained on {d['sessions_train']} sessions ({d['pairs_train']:,} candidate pairs); "
            f"threshold {model.threshold}"
        )
        for half in ("train", "held_out"):
            s = d[half]
            console.print(
                f"  {half}: precision {s['precision']:.3f}, recall {s['recall']:.3f}, "
                f"F1 {s['f1']:.3f}"
            )
        console.print(f"written to {out}")

    emit(report, as_json, show)


def register(app: typer.Typer) -> None:
    """Add the commands to the root app and to `qunzhu members` (called from cli/main.py)."""
    from qunzhu.cli import members

    app.command()(recompute)
    app.command()(health)
    app.command()(funnel)
    app.add_typer(report_app, name="report")
    app.add_typer(intelligence_app, name="intelligence")
    members.app.command("list")(members_list)
    members.app.command("explain")(members_explain)
    members.app.command("lock-tier")(members_lock_tier)
    members.app.command("unlock-tier")(members_unlock_tier)
