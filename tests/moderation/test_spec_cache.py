"""The live pipeline is built once and kept: a spec edited while it runs (the dashboard's
editor, another process) must change what the very next batch decides, in every stage that
reads the spec (moderation, value scoring, growth), while one batch reads it only once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select, update

from qunzhu import events as ev
from qunzhu.engines.reactor import ValueScorer
from qunzhu.growth.reactor import GrowthReactor
from qunzhu.moderation.moderator import RuleModerator
from qunzhu.pipeline import Pipeline
from qunzhu.store import Store
from qunzhu.store.models import Community, Message
from qunzhu.store.resolve import community_specs

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SPAM = "加 薇 信 abc_123 了解赚钱项目"
HEAD = "name: 测试群\npurpose: spec cache tests\n"
RULES = """\
rules:
  contact_solicitation:
    action: {action}
    severity: 2
  classifier:
    action: allow
    threshold_flag: 1.0
    threshold_act: 1.0
"""


def _community(store: Store, spec: str | None) -> int:
    with store.unit_of_work() as session:
        community = Community(slug="c1", name="测试群", spec_yaml=spec)
        session.add(community)
        session.flush()
        return community.id


def _edit(store: Store, spec: str | None) -> None:
    """What the dashboard's spec editor does: another transaction sets the text."""
    with store.unit_of_work() as session:
        session.execute(update(Community).where(Community.slug == "c1").values(spec_yaml=spec))


def _message(n: int, text: str, member: str) -> ev.MessagePosted:
    return ev.MessagePosted(
        platform="test",
        community="c1",
        group="g1",
        member=member,
        member_name=member,
        occurred_at=START + timedelta(hours=n),
        message_id=f"m{n}",
        text=text,
    )


@contextmanager
def _spec_reads(store: Store) -> Iterator[list[str]]:
    seen: list[str] = []

    def listen(conn, cursor, statement, params, context, executemany) -> None:
        # the spec read itself; capacity's read of a group's seats joins the spec in passing
        if "spec_yaml" in statement and "FROM communities" in statement:
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", listen)


def test_an_edited_moderation_rule_applies_to_the_next_batch(store: Store) -> None:
    _community(store, HEAD + RULES.format(action="delete_warn"))
    pipeline = Pipeline(store, moderator=RuleModerator())
    first = pipeline.run([_message(1, SPAM, "a")], source="test")
    assert [a.kind for a in first.actions] == ["delete_message", "warn"]
    _edit(store, HEAD + RULES.format(action="allow"))
    assert pipeline.run([_message(2, SPAM, "b")], source="test").actions == []
    _edit(store, HEAD + RULES.format(action="delete_warn"))
    third = pipeline.run([_message(3, SPAM, "c")], source="test")
    assert [a.kind for a in third.actions] == ["delete_message", "warn"]


def test_edited_value_weights_apply_to_the_next_batch(store: Store) -> None:
    _community(store, None)
    pipeline = Pipeline(store, reactors=[ValueScorer(UTC)])
    text = "今天把模型部署到服务器上了，遇到的内存问题通过调小批量解决，步骤已经写在文档里"
    pipeline.run([_message(1, text, "a")], source="test")
    _edit(store, HEAD + "value:\n  substance: 6.0\n")
    pipeline.run([_message(2, text + "。", "b")], source="test")
    _edit(store, None)
    pipeline.run([_message(3, text + "！", "c")], source="test")
    with store.reading() as session:
        values = {
            m: v for m, v in session.execute(select(Message.platform_message_id, Message.value))
        }
    assert values["m2"] > values["m1"] + 1
    assert values["m3"] == values["m1"]


def test_an_edited_admission_threshold_applies_to_the_next_batch(store: Store) -> None:
    _community(store, HEAD + "threshold: {kind: join_code}\n")
    pipeline = Pipeline(store, reactors=[GrowthReactor()])

    def join(member: str, n: int) -> list[str]:
        joined = ev.MemberJoined(
            platform="test",
            community="c1",
            group="g1",
            member=member,
            occurred_at=START + timedelta(hours=n),
        )
        return [a.kind for a in pipeline.run([joined], source="test").actions]

    assert join("a", 1) == ["decline_join"]
    _edit(store, HEAD)
    assert join("b", 2) == []


def test_one_batch_reads_the_spec_once_for_every_stage(store: Store) -> None:
    _community(store, HEAD + RULES.format(action="delete_warn"))
    pipeline = Pipeline(
        store, moderator=RuleModerator(), reactors=[ValueScorer(UTC), GrowthReactor()]
    )
    batch: list[ev.Event] = [
        _message(1, "大家好，今天的作业在哪里提交？", "a"),
        _message(2, SPAM, "b"),
        ev.MemberJoined(platform="test", community="c1", group="g1", member="n", occurred_at=START),
    ]
    with _spec_reads(store) as reads:
        report = pipeline.run(batch, source="test")
    assert report.added == 3 and "delete_message" in [a.kind for a in report.actions]
    assert len(reads) == 1
    with _spec_reads(store) as reads:  # a new batch, a new transaction: read again
        pipeline.run([_message(3, "谢谢", "c")], source="test")
    assert len(reads) == 1


def test_specs_are_read_again_in_a_new_transaction(store: Store) -> None:
    cid = _community(store, "a")
    with store.engine.connect() as conn:
        with _spec_reads(store) as reads, conn.begin():
            assert community_specs(conn, [cid])[cid].spec_yaml == "a"
            assert community_specs(conn, [cid]) == {cid: ("c1", "a")}
        assert len(reads) == 1
        _edit(store, "c")
        with conn.begin():
            assert community_specs(conn, [cid, cid + 1]) == {cid: ("c1", "c")}
