"""`qunzhu moderation check|eval|train|audit|review|export-feedback`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.cli.main import app
from qunzhu.moderation.moderator import RuleModerator
from qunzhu.pipeline import Pipeline
from qunzhu.store import Store
from qunzhu.store.intelligence import RoleAssignment
from qunzhu.store.models import Community, Member, ModerationAction

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _labelled(tmp_path: Path) -> Path:
    rows = ["label,text"]
    for i in range(30):
        rows.append(f'1,"加微信 abc{i:04d} 日赚五百 稳定项目 {i}"')
        rows.append(f'0,"今天第 {i} 次读书会的笔记已经上传"')
    path = tmp_path / "mine.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_check_shows_the_decision_with_findings_and_evidence(cli) -> None:
    result = cli.invoke(app, ["moderation", "check", "加 薇 信 abc_123 了解一下", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["decision"] == "delete_warn" and data["spam"] is True
    assert {"decision", "spam", "score", "findings"} <= set(data)
    assert any(f["evidence"] == "薇 信 abc_123" for f in data["findings"])
    calm = json.loads(cli.invoke(app, ["moderation", "check", "今晚八点开会", "--json"]).stdout)
    assert calm["decision"] == "allow" and calm["spam"] is False


def test_eval_prints_precision_recall_f1_and_fpr(cli, tmp_path: Path) -> None:
    result = cli.invoke(app, ["moderation", "eval", str(_labelled(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"precision", "recall", "f1", "fpr", "n"} <= set(data) and data["n"] == 60
    assert data["f1"] > 0.9 and data["fpr"] < 0.1


def test_eval_names_a_bad_file(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("label,text\nperhaps,hi\n", encoding="utf-8")
    result = cli.invoke(app, ["moderation", "eval", str(bad), "--json"])
    assert result.exit_code == 2 and "bad.csv:2" in json.loads(result.stdout)["error"]


def test_train_writes_a_model_that_check_and_eval_can_use(cli, tmp_path: Path) -> None:
    out = tmp_path / "mine.npz"
    result = cli.invoke(
        app, ["moderation", "train", str(_labelled(tmp_path)), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["messages"] == 60 and out.is_file()
    checked = cli.invoke(
        app, ["moderation", "check", "加微信 abc9999 日赚五百", "--model", str(out), "--json"]
    )
    assert json.loads(checked.stdout)["spam"] is True


def test_review_lists_and_undoes_then_feedback_exports(
    cli, cli_env, store: Store, tmp_path: Path
) -> None:
    with store.unit_of_work() as s:
        s.add(Community(slug="c1", name="c1"))
    message = ev.MessagePosted(
        platform="test",
        community="c1",
        group="g",
        member="u1",
        occurred_at=START,
        message_id="m1",
        text="有意者联系 13912345678",
    )
    Pipeline(store, moderator=RuleModerator()).run([message], source="test")
    with store.reading() as s:
        item = s.scalars(select(ModerationAction.id)).one()
    listed = cli.invoke(app, ["moderation", "review", "list", "-c", "c1", "--status", "", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [i["id"] for i in json.loads(listed.stdout)] == [item]
    undone = cli.invoke(
        app,
        [
            "moderation",
            "review",
            "undo",
            str(item),
            "-c",
            "c1",
            "--note",
            "appeal: my own number",
            "--json",
        ],
    )
    assert json.loads(undone.stdout)[0]["status"] == "undone", undone.output
    again = cli.invoke(app, ["moderation", "review", "undo", str(item), "-c", "c1", "--json"])
    assert again.exit_code == 2
    out = tmp_path / "feedback.csv"
    exported = cli.invoke(
        app, ["moderation", "export-feedback", "-c", "c1", "--out", str(out), "--json"]
    )
    assert json.loads(exported.stdout)["rows"] == 1
    assert out.read_text(encoding="utf-8").splitlines() == [
        "label,text",
        "0,有意者联系 13912345678",
    ]


def test_audit_reports_per_rule_without_writing(cli, cli_env, store: Store) -> None:
    messages = [
        ev.MessagePosted(
            platform="wechat",
            community="c1",
            group="g",
            member=f"u{n}",
            occurred_at=START + timedelta(minutes=n),
            message_id=f"m{n}",
            text=text,
        )
        for n, text in enumerate(["大家好", "加 薇 信 abc_123", "扣扣 1234567 带你飞"])
    ]
    Pipeline(store, create_communities=True).run(messages, source="import")
    result = cli.invoke(app, ["moderation", "audit", "-c", "c1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["messages"] == 3 and data["acted"] == 2
    assert {r["rule"] for r in data["by_rule"]} == {"contact_solicitation"}
    with store.reading() as s:
        assert s.scalars(select(ModerationAction)).all() == []
    unknown = cli.invoke(app, ["moderation", "audit", "-c", "nope", "--json"])
    assert unknown.exit_code == 2


def test_undoing_the_flags_of_a_disruptor_recomputes_the_role_at_once(
    cli, cli_env, store: Store
) -> None:
    with store.unit_of_work() as s:
        s.add(Community(slug="c1", name="c1"))
    offers = [
        ev.MessagePosted(
            platform="test",
            community="c1",
            group="g",
            member="u1",
            occurred_at=START + timedelta(minutes=n),
            message_id=f"m{n}",
            text=f"有意者联系 1391234567{n}",
        )
        for n in range(3)
    ]
    Pipeline(store, moderator=RuleModerator()).run(offers, source="test")
    assert cli.invoke(app, ["recompute", "-c", "c1", "--json"]).exit_code == 0
    with store.reading() as s:
        ids = [str(i) for i in s.scalars(select(ModerationAction.id))]
        assert set(s.scalars(select(RoleAssignment.role))) == {"disruptor"}
    undone = cli.invoke(app, ["moderation", "review", "undo", *ids, "-c", "c1", "--json"])
    assert undone.exit_code == 0, undone.output
    with store.reading() as s:
        assert "disruptor" not in set(s.scalars(select(RoleAssignment.role)))


def test_train_with_a_community_learns_a_layer_from_its_reviews(
    cli, cli_env, store: Store, tmp_path: Path
) -> None:
    with store.unit_of_work() as s:
        s.add(Community(slug="c1", name="c1"))
    texts = [f"欢迎 @{n} 加入AI编程训练营 请先看群公告" for n in ("Ann", "Bo", "Cy", "Di", "Ed")]
    with store.unit_of_work() as s:
        community_id = s.scalar(select(Community.id))
        assert community_id is not None
        member = Member(community_id=community_id, display_name="u1")
        s.add(member)
        s.flush()
        for n, text in enumerate(texts):
            s.add(
                ModerationAction(
                    community_id=community_id,
                    member_id=member.id,
                    key=f"k{n}",
                    action="flag",
                    rule="classifier",
                    detector="classifier",
                    evidence={"text": text},
                    score=0.9,
                    status="undone",
                    mode="live",
                    reviewed_at=START,
                    created_at=START,
                )
            )
    out = tmp_path / "c1.npz"
    result = cli.invoke(app, ["moderation", "train", "-c", "c1", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["reviews"], data["spam"], data["community"]) == (5, 0, "c1")
    checked = cli.invoke(app, ["moderation", "check", texts[0], "--model", str(out), "--json"])
    assert json.loads(checked.stdout)["decision"] == "allow"
    nothing = cli.invoke(app, ["moderation", "train", "--json"])
    assert nothing.exit_code == 2
