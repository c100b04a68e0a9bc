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

from qunzhu.cli import words
from qunzhu.cli.core import progress_bar, store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.cli.words import column, say
from qunzhu.engines import views
from qunzhu.engines.recompute import recompute_community
from qunzhu.engines.tierlock import TierLockError, lock_tier, unlock_tier
from qunzhu.readmodels.directory import community_slugs, message_count
from qunzhu.readmodels.health import group_health
from qunzhu.readmodels.members import UnknownMember, member_profile, members_by_value
from qunzhu.reports.render import PdfUnavailable, render_html, write_pdf
from qunzhu.reports.weekly import weekly_data
from qunzhu.store import Store

report_app = typer.Typer(help="Reports (周报).", no_args_is_help=True)
intelligence_app = typer.Typer(help="Member-intelligence models.", no_args_is_help=True)
COMMUNITY = typer.Option(..., "--community", "-c", help="Community slug.")
LANG = typer.Option(None, "--lang", help="zh-CN or en (default: qunzhu --lang, QUNZHU_LANG).")


def _lang(value: str | None, as_json: bool) -> str:
    if value is not None and words.normal(value) is None:
        raise fail(say("cli.bad_lang", value=value), as_json=as_json)
    return words.language(value)


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
    try:
        wanted = date.fromisoformat(day) if day else None
    except ValueError:
        raise fail(f"--day {day!r}: expected YYYY-MM-DD", as_json=as_json) from None
    with store.engine.connect() as conn:
        slugs = [community] if community else community_slugs(conn)
    reports = [
        recompute_one(store, slug, wanted, rescore=rescore, backfill=backfill, as_json=as_json)
        for slug in slugs
    ]
    emit(reports, as_json, print_recompute)


def recompute_one(
    store: Store,
    slug: str,
    day: date | None = None,
    *,
    rescore: bool = False,
    backfill: int = 0,
    as_json: bool = False,
) -> dict[str, Any]:
    """`qunzhu recompute -c SLUG` (also run by `qunzhu import` when it has added messages):
    one transaction, a progress bar while it scores."""
    tz = store.settings.tz
    with store.engine.connect() as conn, conn.begin():
        cid = _community(conn, slug, as_json)
        at = day or default_day(conn, cid, datetime.now(tz).date())
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
    return {"community_slug": slug, **result.as_dict()}


def print_recompute(reports: list[dict[str, Any]]) -> None:
    for r in reports:
        console.print(
            say(
                "cli.recompute.done",
                community=r["community_slug"],
                day=r["day"],
                messages=f"{r['scored_messages']:,}",
                roles=f"{r['roles']:,}",
                values=f"{r['members_valued']:,}",
                tiers=r["tier_changes"],
                groups=r["groups"],
            )
        )
        for a in r["alerts"]:
            console.print(
                f"  [bold red]{say('cli.alert')}[/] {a['day']} {a['message']}", highlight=False
            )


def health(
    community: str = COMMUNITY, lang: str | None = LANG, as_json: bool = JSON_OPTION
) -> None:
    """Each group's health: death risk (死群预警) with its reasons, active share, value/day."""
    lang = _lang(lang, as_json)
    store = store_at_head(as_json)
    with store.engine.connect() as conn:
        rows = group_health(conn, _community(conn, community, as_json), lang=lang)
    if not rows:
        raise fail(say("cli.health.none", community=community), as_json=as_json)
    emit([r.as_json() for r in rows], as_json, _print_health)


RISK_STYLE = {"high": "bold red", "watch": "yellow", "ok": ""}


def _print_health(rows: list[dict[str, Any]]) -> None:
    names = ("group", "health", "death_risk", "value_per_day", "spoke_7d", "members", "reasons")
    table = Table(*(column(n) for n in names))
    for r in rows:
        style = RISK_STYLE[r["risk"]]
        table.add_row(
            f"{r['name']} ({r['group']})",
            f"[{style}]{words.code('risk', r['risk'])}[/]"
            if style
            else words.code("risk", r["risk"]),
            f"{r['death_risk']:.0f}",
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
        table = Table(*(column(n) for n in ("cohort", "joins", "d7", "d30", "paid")))
        for c in d["cohorts"]:
            table.add_row(
                c["cohort"], str(c["joins"]), _pct(c["d7"]), _pct(c["d30"]), _pct(c["paid"])
            )
        sources = say("names.list_sep").join(
            f"{words.code('source', k)} {v}" for k, v in d["by_source"].items()
        )
        console.print(say("cli.funnel.joins", since=d["since"], joins=d["joins"], sources=sources))
        console.print(table)

    emit(data, as_json, show)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


@report_app.command("weekly")
def weekly(
    community: str = COMMUNITY,
    out: Path = typer.Option(..., "--out", "-o", help="HTML file to write."),
    pdf: bool = typer.Option(False, "--pdf", help="Also write a PDF beside it."),
    lang: str | None = LANG,
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
            data = weekly_data(conn, cid, wanted, lang, default_zone=store.settings.tz)
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
        lambda d: console.print(say("cli.wrote", files=", ".join(d["files"].values()))),
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
        tiers = words.tier_names(conn, cid)

    # in a group: the value of the 30 days the role was decided on; else the decayed value
    # the tiers test (docs/figures.md): one name per figure
    value_name = "value_30d" if gid else "value_decayed"

    def show(rs: list[dict[str, Any]]) -> None:
        names = ("member", "names", "messages", value_name, "role", "tier")
        table = Table(*(column(n) for n in names))
        for r in rs:
            table.add_row(
                str(r["member"]),
                ", ".join(r["names"]),
                str(r["messages"]),
                f"{r['value']:.1f}",
                words.code("member_role", r["role"]),
                tiers.get(r["tier"], r["tier"]) if r["tier"] else "–",
            )
        console.print(table)

    emit(rows, as_json, show)


def members_explain(
    member: int = typer.Argument(..., help="Member id."),
    community: str = COMMUNITY,
    lang: str | None = LANG,
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
            raise fail(
                say("cli.no_member", member=member, community=community), as_json=as_json
            ) from None
        tiers = words.tier_names(conn, cid)
    emit(profile.document, as_json, lambda d: _print_explain(d, tiers))


def _print_explain(d: dict[str, Any], tiers: dict[str, str]) -> None:
    console.print(
        f"[bold]{', '.join(d['names']) or d['member']}[/]  "
        + say(
            "cli.explain.value",
            value=d["value"],
            half_life=f"{d['half_life_days']:g}",
            raw=d["raw_value"],
            messages=d["messages"],
            days=d["days_active"],
        )
    )
    for line in d["value_explained"]:
        console.print(f"  {line}", highlight=False)
    if d.get("kind"):
        console.print(say(f"cli.explain.uncounted.{d['kind']}"), highlight=False)
    for r in d["roles"]:
        console.print(
            say("cli.explain.role", group=r["group"], role=r["role_name"], since=r["since"])
            + f" — {r['reason']}"
        )
    for h in d.get("role_history", []):
        was = (
            say("cli.explain.was", role=words.code("member_role", h["previous_role"]))
            if h["previous_role"]
            else ""
        )
        console.print(
            "  "
            + say("cli.explain.became", day=h["day"], group=h["group"], role=h["role_name"])
            + f"{was} — {h['reason']}",
            highlight=False,
        )
    if d["tier"]:
        tier = d["tier"]
        lock = say("cli.explain.locked") if tier["locked"] else ""
        name = tiers.get(tier["tier"], tier["tier"])
        console.print(say("cli.explain.tier", tier=f"[bold]{name}[/]{lock}", since=tier["since"]))
    nxt = d["next_tier"]
    if nxt:
        console.print(say("cli.explain.next", tier=tiers.get(nxt["tier"], nxt["name_zh"])))
        for n in nxt["needs"]:
            need = say(f"tier_need.{n['criterion']}", need=n["need"], has=n["have"])
            if need.startswith("tier_need."):
                need = f"{column(n['criterion'])} {n['have']} / {n['need']}"
            done = say("cli.explain.missing", n=n["missing"]) if n["missing"] else " ✓"
            console.print(f"  {need}{done}", highlight=False)


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
            raise fail(_refusal(exc), as_json=as_json) from None
    emit(
        result,
        as_json,
        lambda d: console.print(
            say("cli.locked", member=member, tier=d["tier"], previous=d["previous"] or "–")
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
            raise fail(_refusal(exc), as_json=as_json) from None
    emit(result, as_json, lambda d: console.print(json.dumps(d, ensure_ascii=False)))


def _refusal(exc: TierLockError) -> str:
    """The refusal in the output's language when the catalogs know its code."""
    key = f"cli.tierlock.{exc.code}"
    said = say(key, **exc.values)
    return str(exc) if said == key else said


@intelligence_app.command("train-replies")
def train_replies(
    directory: Path = typer.Argument(
        ..., help="Annotated IRC sessions: NAME.raw.txt beside NAME.annotation.txt (i j -)."
    ),
    out: Path = typer.Option(
        ..., "--out", help="Where to write the model (JSON); the shipped one is engines/data."
    ),
    split: str = typer.Option(
        "session-hash",
        "--split",
        help="session-hash: half the sessions by a hash of their name are held out; "
        "time: the sessions of the last ten dates are held out.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Train the reply-link model on the train part of the sessions and print its precision
    and recall on the held-out part."""
    from qunzhu.engines.replytrain import SPLITS, train

    if split not in SPLITS:
        raise fail(f"--split {split}: one of {', '.join(SPLITS)}", as_json=as_json)
    if not directory.is_dir():
        raise fail(f"{directory}: not a directory", as_json=as_json)
    try:
        model, report = train(directory, split)
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
