"""Every page, the weekly report and the CLI's human output, read in Chinese: no catalog key,
no snake_case identifier, no dict printed as text, no English word outside the allow-list
(text_scan.py); and in English no "1 groups".

The sample community (qunzhu.demo) is loaded once for the module. The pages are every GET
route of the dashboard (from the route table), their path parameters filled with the sample's
objects: every group, and the members with the most to explain (sanctions, tiers, rewards,
referrals, each role). Each finding is printed with where it was found.
"""

from __future__ import annotations

import base64
import getpass
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from qunzhu_tests_http import csrf_from, log_in
from qunzhu_tests_routes import PARAM, ROUTES
from sqlalchemy import func, select
from text_scan import Problem, problems, shown_text, words_of
from typer.testing import CliRunner

from qunzhu.auth.operators import create_operator, grant
from qunzhu.auth.ratelimit import MemoryLimiter
from qunzhu.demo import SLUG
from qunzhu.http.app import create_app
from qunzhu.settings import load_settings
from qunzhu.spec import load_spec
from qunzhu.store import Store
from qunzhu.store.intelligence import MemberValue, RoleAssignment
from qunzhu.store.models import (
    Activity,
    Community,
    Group,
    Member,
    Message,
    ModerationAction,
    Operator,
    Referral,
    TierChange,
)

PASSWORD = "correct horse battery staple"
CHARTS = ("value_trend", "role_mix", "funnel", "retention")
MEMBERS_PER_KIND = 3
RECORD_FIELDS = re.compile(
    r"\b(?:findings|sanction|duration_minutes|total_points)\b['\"&#;x0-9]*\s*[:=]"
)
SPEC_EDITOR = re.compile(r"<textarea.*?</textarea>", re.DOTALL)  # the spec's own YAML
SVG_IMAGE = re.compile(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)")


@dataclass
class Sample:
    store: Store
    env: dict[str, str]
    ids: dict[str, list[int]]  # path parameter -> the values to put there
    allowed: set[str]  # names members and operators gave things (any language)
    member_words: set[str]  # what flagged members wrote: the CLI prints it with no markup


def _member_ids(store: Store, community_id: int) -> list[int]:
    """Members with something to explain: sanctioned, tiered, referring, each role, top."""
    picked: list[int] = []
    with store.reading() as session:
        queries = [
            select(ModerationAction.member_id).where(ModerationAction.community_id == community_id),
            select(TierChange.member_id).where(TierChange.community_id == community_id),
            select(Referral.inviter_member_id).where(Referral.community_id == community_id),
            select(MemberValue.member_id)
            .where(MemberValue.community_id == community_id)
            .order_by(MemberValue.value.desc()),
        ]
        roles = session.scalars(select(RoleAssignment.role).distinct()).all()
        queries += [
            select(RoleAssignment.member_id).where(
                RoleAssignment.community_id == community_id, RoleAssignment.role == role
            )
            for role in roles
        ]
        for query in queries:
            found = session.scalars(query.distinct().limit(MEMBERS_PER_KIND)).all()
            picked += [int(m) for m in found if m is not None and m not in picked]
    return picked


def _allowed_words(store: Store) -> set[str]:
    with store.reading() as session:
        texts: list[str | None] = []
        columns = (Member.display_name, Group.name, Community.name, Community.slug, Activity.name)
        for column in (*columns, Operator.username):
            texts += session.scalars(select(column)).all()
        try:
            from qunzhu.store.growth import Campaign

            texts += session.scalars(select(Campaign.name)).all()
            texts += session.scalars(select(Campaign.slug)).all()
        except ImportError:  # pragma: no cover - the growth tables are part of the app
            pass
        texts += [p for spec in session.scalars(select(Community.spec_yaml)) for p in _prose(spec)]
    # the OS account a command ran as is written in the audit log (系统账户：root): a name
    texts.append(getpass.getuser())
    return words_of(texts)


IDENTIFIER = re.compile(r"^[a-z0-9_:.-]*$")


def _prose(spec_yaml: str | None) -> list[str]:
    """The text the operator wrote in the spec (names, purpose, coupons), not its codes."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and not IDENTIFIER.match(node):
            found.append(node)

    walk(load_spec(spec_yaml).model_dump() if spec_yaml else {})
    return found


# one worker builds the module fixture: with --dist loadgroup an ungrouped module is spread
# over the workers and each would build it
pytestmark = pytest.mark.xdist_group("zh-cn-scan")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Sample]:
    path = tmp_path_factory.mktemp("scan") / "demo.db"
    shutil.copyfile(demo_template, path)  # the sample as load_demo(store) leaves it
    env = {
        "QUNZHU_DATABASE_URL": f"sqlite:///{path}",
        "QUNZHU_SECRET_KEY": "s" * 40,
        "QUNZHU_SAMPLE_DATA": "false",
    }
    store = Store(
        load_settings(
            database_url=env["QUNZHU_DATABASE_URL"], secret_key="s" * 40, language="zh-CN"
        )
    )
    with store.unit_of_work() as session:
        create_operator(session, "owner", PASSWORD, source="system")
        grant(session, "owner", SLUG, "owner", source="system")
        community_id = session.scalars(select(Community.id).where(Community.slug == SLUG)).one()
        groups = session.scalars(select(Group.id).where(Group.community_id == community_id)).all()
        assert session.scalar(select(func.count()).select_from(Member)), "the sample loaded"
    ids = {
        "slug": [SLUG],
        "group_id": [int(g) for g in groups],
        "member_id": _member_ids(store, community_id),
        "name": list(CHARTS),
    }
    with store.reading() as session:
        flagged = session.scalars(
            select(Message.text).join(ModerationAction, ModerationAction.message_id == Message.id)
        ).all()
    sample = Sample(store, env, ids, _allowed_words(store), words_of(flagged))
    _act_as_operators(sample)
    ids["broadcast_id"] = [_send_from_the_page(sample, [int(g) for g in groups])]
    yield sample
    store.dispose()


def dashboard_paths(ids: dict[str, list[int | str]] | dict[str, Any]) -> list[str]:
    """Every GET page of the dashboard with its parameters filled, once per value."""
    paths: list[str] = []
    for method, route in ROUTES:
        if method != "GET" or route.startswith(("/api", "/static", "/healthz")):
            continue
        if route in ("/login", "/login/code", "/docs", "/openapi.json", "/redoc"):
            continue
        expanded = [route]
        for name in PARAM.findall(route):
            values = ids.get(name)
            assert values, f"no value for {{{name}}} in {route}: add it to the scan's ids"
            expanded = [p.replace(f"{{{name}}}", str(v)) for p in expanded for v in values]
        paths += expanded
    review = [f"/c/{SLUG}/review?status={s}" for s in ("applied", "alerted", "all")]
    review.append(f"/c/{SLUG}?scope=all")  # every operator's tasks on Today's plan
    group_left = [f"/c/{SLUG}/groups/{g}?status=all" for g in ids["group_id"][:1]]
    errors = [f"/c/{SLUG}/members/999999", "/c/no-such-community"]
    return paths + review + group_left + errors


def _client(sample: Sample, language: str) -> TestClient:
    settings = load_settings(
        database_url=sample.env["QUNZHU_DATABASE_URL"], secret_key="s" * 40, language=language
    )
    app = create_app(settings, sample.store, login_limiter=MemoryLimiter(100))
    client = TestClient(app)
    assert log_in(client, "owner", PASSWORD).status_code == 303
    client.cookies.set("qz_lang", language)
    return client


def _send_from_the_page(sample: Sample, groups: list[int]) -> int:
    """A broadcast previewed and sent on the send page, to every group (the broadcast's
    page then has deliveries of each platform to show)."""
    client = _client(sample, "zh-CN")
    page = client.get(f"/c/{SLUG}/send")
    fields = {"csrf_token": csrf_from(page.text), "text_zh": "{group}：周六晚八点线上分享",
              "to": "groups", "group": [str(g) for g in groups], "lang": "zh-CN"}  # fmt: skip
    preview = client.post(f"/c/{SLUG}/send/preview", data=fields)
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', preview.text)
    assert preview.status_code == 200 and digest is not None, preview.text
    sent = client.post(f"/c/{SLUG}/send", data={**fields, "digest": digest.group(1)},
                       follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303, sent.text
    return int(sent.headers["location"].split("/broadcasts/")[1].split("?")[0])


def _act_as_operators(sample: Sample) -> None:
    """What an operator does on the first day, so the audit log and the statuses have more
    than role grants to show: a review decision, a reward decision, a tier locked by hand."""
    from qunzhu.cli.main import app
    from qunzhu.store.growth import ReferralReward

    client = _client(sample, "zh-CN")
    review = client.get(f"/c/{SLUG}/review")
    with sample.store.reading() as session:
        item = session.scalars(
            select(ModerationAction.id).where(ModerationAction.status == "pending_review")
        ).first()
        reward = session.scalars(
            select(ReferralReward.id).where(ReferralReward.status == "held")
        ).first()
    assert item is not None and reward is not None, "the sample has items to decide"
    token = csrf_from(review.text)
    decided = client.post(
        f"/c/{SLUG}/review/decide",
        data={"ids": str(item), "decision": "approve", "csrf_token": token},
        follow_redirects=False,
    )
    moved = client.post(
        f"/c/{SLUG}/rewards/{reward}",
        data={"move": "approve", "csrf_token": token},
        follow_redirects=False,
    )
    assert decided.status_code == moved.status_code == 303
    member = str(sample.ids["member_id"][0])
    locked = CliRunner().invoke(
        app,
        ["members", "lock-tier", member, "--tier", "core", "--reason", "助教推荐", "-c", SLUG],
        env=sample.env,
    )
    assert locked.exit_code == 0, locked.output
    library = ["library", "suggest", "-c", SLUG, "--json"]
    suggested = json.loads(CliRunner().invoke(app, library, env=sample.env).output)
    page = client.get(f"/c/{SLUG}/library")
    kept = client.post(
        f"/c/{SLUG}/library/keep",
        data={"message_id": suggested[0]["message_id"], "tags": "干货", "csrf_token": token},
        follow_redirects=False,
    )
    assert page.status_code == 200 and kept.status_code == 303
    # the library commands print what members wrote, in whatever language they wrote it
    listed = CliRunner().invoke(app, ["library", "list", "-c", SLUG, "--json"], env=sample.env)
    shown = [s["text"] for s in suggested + json.loads(listed.output)]
    words = words_of(shown)
    # a table cuts a long text where it must ("试试这个：pi…"): a cut word is still theirs
    sample.member_words |= words | {w[:k] for w in words for k in range(2, len(w))}
    audit = shown_text(client.get(f"/c/{SLUG}/audit").text)
    assert {"确认处理", "通过奖励"} <= set(audit.split()), audit
    _plan_the_day(sample)


def _plan_the_day(sample: Sample) -> None:
    """Tasks on Today: the queues' and the health alerts' (qunzhu task generate), one written
    by hand, and a welcome for a group qunzhu cannot write to, so the plan is scanned full."""
    from datetime import UTC, datetime, timedelta

    from qunzhu.cli.main import app
    from qunzhu.store import tasks as store_tasks

    group = str(sample.ids["group_id"][0])
    with sample.store.reading() as session:
        community_id = session.scalars(select(Community.id).where(Community.slug == SLUG)).one()
        group_name = session.get_one(Group, int(group)).name
    runner, c = CliRunner(), ["-c", SLUG]
    for args in (
        ["operator", "assign", "owner", group_name, *c],
        ["task", "generate", *c],
        ["task", "add", "给新人打电话，问问第一周感受", *c, "--due", "2020-01-01T09:00"],
    ):
        done = runner.invoke(app, args, env=sample.env)
        assert done.exit_code == 0, (args, done.output)
    with sample.store.engine.begin() as conn:
        store_tasks.add(
            conn,
            community_id,
            [
                {
                    "kind": "welcome",
                    "source_key": "scan-welcome",
                    "group_id": int(group),
                    "text": "欢迎新朋友！请先读群规。",
                    "due_at": datetime.now(UTC) + timedelta(hours=1),
                    "detail": {"what": "send"},
                }
            ],
            datetime.now(UTC),
        )
    today = _client(sample, "zh-CN").get(f"/c/{SLUG}?scope=all").text
    assert today.count('class="task task-') >= 3, "Today shows the tasks to scan"


def _scan_pages(sample: Sample, language: str) -> tuple[list[Problem], int]:
    found: list[Problem] = []
    client = _client(sample, language)
    paths = dashboard_paths(sample.ids)
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        text = shown_text(response.text)
        found += problems(text, f"page {path}", language=language, allowed=sample.allowed)
        # what members wrote is not scanned for English, but a stored record printed as
        # if it were their words would be: its field names show anywhere in the page
        for match in RECORD_FIELDS.finditer(SPEC_EDITOR.sub("", response.text)):
            found.append(Problem("record_text", f"page {path}", match.group(0), ""))
    login = TestClient(client.app)
    login.cookies.set("qz_lang", language)
    found += problems(
        shown_text(login.get("/login").text), "page /login", language=language,
        allowed=sample.allowed,
    )  # fmt: skip
    return found, len(paths) + 1


def _scan_report(sample: Sample, language: str) -> list[Problem]:
    from qunzhu.reports.render import render_html
    from qunzhu.reports.weekly import weekly_data

    with sample.store.engine.connect() as conn:
        cid = conn.execute(select(Community.id).where(Community.slug == SLUG)).scalar_one()
        html = render_html(weekly_data(conn, cid, None, language), language)
    found = problems(shown_text(html), "weekly report", language=language, allowed=sample.allowed)
    for n, chart in enumerate(SVG_IMAGE.findall(html)):
        svg = base64.b64decode(chart).decode("utf-8")
        where = f"weekly report, chart {n + 1}"
        found += problems(shown_text(svg), where, language=language, allowed=sample.allowed)
    return found


def cli_commands(ids: dict[str, Any], out: Path) -> list[list[str]]:
    member = str(ids["member_id"][0])
    c = ["-c", SLUG]
    return [
        ["health", *c],
        ["members", "list", *c, "--limit", "15"],
        *[["members", "explain", str(m), *c] for m in ids["member_id"][:6]],
        ["funnel", *c],
        ["report", "weekly", *c, "--out", str(out)],
        ["referral", "leaderboard", "default", *c],
        ["referral", "rewards", *c],
        ["capacity", "show", *c],
        ["moderation", "review", "list", *c],
        ["moderation", "review", "stats", *c],
        ["members", "explain", "999999", *c],
        ["members", "lock-tier", member, "--tier", "no-such-tier", "--reason", "x", *c],
        ["send", *c, "--all-groups", "-t", "{group}：周末读书分享", "--preview"],
        ["sent", *c],
        ["calendar", "list", *c],
        ["calendar", "feed", *c],
        ["library", "suggest", *c],
        ["library", "list", *c],
        ["library", "search", "群", *c],
        ["playbook", "list", *c],
        ["today", *c],
    ]


def _scan_cli(sample: Sample, language: str, tmp: Path) -> tuple[list[Problem], int]:
    from qunzhu.cli.main import app

    runner = CliRunner()
    found: list[Problem] = []
    out = tmp / "weekly.html"
    commands = cli_commands(sample.ids, out)
    # the file's path, also where the console wrapped it across lines ("weekly.h⏎tml"),
    # is the operator's own text, not the interface's
    path = re.compile(r"\s*".join(re.escape(ch) for ch in str(out)))
    env = {**sample.env, "QUNZHU_LANG": language, "COLUMNS": "200"}
    for args in commands:
        result = runner.invoke(app, args, env=env)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            result.output,
        )
        where = "qunzhu " + " ".join(args)
        allowed = sample.allowed | sample.member_words
        shown = path.sub(" ", result.output)
        found += problems(shown, where, language=language, allowed=allowed)
    return found, len(commands)


def _report(found: list[Problem]) -> str:
    kinds: dict[str, int] = {}
    for problem in found:
        kinds[problem.kind] = kinds.get(problem.kind, 0) + 1
    seen: set[tuple[str, str]] = set()
    lines = []
    for problem in found:
        if (problem.where, problem.found) not in seen:
            seen.add((problem.where, problem.found))
            lines.append(str(problem))
    return f"{len(found)} found {kinds}:\n" + "\n".join(lines)


@pytest.mark.slow
def test_every_page_report_and_command_speaks_chinese(sample: Sample, tmp_path: Path) -> None:
    pages, n_pages = _scan_pages(sample, "zh-CN")
    report = _scan_report(sample, "zh-CN")
    commands, n_commands = _scan_cli(sample, "zh-CN", tmp_path)
    found = pages + report + commands
    print(f"scanned {n_pages} pages, the weekly report and {n_commands} commands in zh-CN")
    print(_report(found))
    assert n_pages > 20 and n_commands > 10
    assert not found, _report(found)


@pytest.mark.slow
def test_english_pages_report_and_commands_count_in_the_right_number(
    sample: Sample, tmp_path: Path
) -> None:
    pages, _ = _scan_pages(sample, "en")
    report = _scan_report(sample, "en")
    commands, _ = _scan_cli(sample, "en", tmp_path)
    found = pages + report + commands
    print(_report(found))
    assert not found, _report(found)
