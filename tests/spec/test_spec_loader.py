"""Loading community.yaml: every problem names its field path, line and column, in both
languages; good specs load with their defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from qunzhu.spec import CommunitySpec, SpecError, SpecProblem, load_spec

HEAD = "name: x\npurpose: y\n"

# (yaml after the two head lines, expected path, line, column, words the message contains)
BROKEN = [
    # wrong types
    ("size:\n  cap: '300'\n", "size.cap", 4, 8, "whole number"),
    ("size: {cap: 300.5}\n", "size.cap", 3, 13, "whole number"),
    ("platforms: wechat\n", "platforms", 3, 12, "list"),
    ("referral: {enabled: yes}\n", "referral.enabled", 3, 21, "true or false"),
    ("size:\n", "size", 3, 1, "mapping"),
    ("lifecycle: {kind: campaign, ends_on: 2025-13-01}\n", "lifecycle.ends_on", 3, 38, "date"),
    # unknown keys, with a hint where one is close
    ("purpse: z\n", "purpse", 3, 1, "did you mean 'purpose'"),
    ("size:\n  capp: 300\n", "size.capp", 4, 3, "did you mean 'cap'"),
    # bad enums
    ("size:\n  policy: one-in-one-out\n", "size.policy", 4, 11, "did you mean 'one_in_one_out'"),
    ("type: club\n", "type", 3, 7, "not one of"),
    # nested list items
    (
        "tiers:\n  - id: a\n    name_zh: A\n  - id: b\n    name_zh: B\n"
        "    promote: {min_value: -1}\n",
        "tiers[1].promote.min_value",
        8,
        26,
        "at least 0",
    ),
    (
        "escalation:\n  ladder:\n    - {points: 1, action: warn}\n"
        "    - {points: 2, action: kick}\n",
        "escalation.ladder[1].action",
        6,
        27,
        "not one of",
    ),
    (
        "escalation:\n  ladder:\n    - {points: 1, action: warn, minutes: 3}\n",
        "escalation.ladder[0].minutes",
        5,
        33,
        "did you mean 'duration_minutes'",
    ),
    (
        "monetization:\n  plans:\n    - id: a\n      name: A\n      prize_cents: 3\n",
        "monetization.plans[0].prize_cents",
        7,
        7,
        "did you mean 'price_cents'",
    ),
    ("tiers:\n  - name_zh: A\n", "tiers[0].id", 4, 5, "missing required field 'id'"),
    ("tiers:\n  - abc\n", "tiers[0]", 4, 5, "mapping"),
    (
        "referral:\n  ladder:\n    - invitees: 3\n      reward: {kind: points, value: abc}\n",
        "referral.ladder[0].reward",
        6,
        15,
        "positive whole number",
    ),
    # our own validators
    ("persona: {age_band: 40-25}\n", "persona.age_band", 3, 21, "runs backwards"),
    ("size: {auto: true}\n", "size", 3, 7, "one_in_one_out"),
    ("value: [a, b]\n", "value", 3, 8, "member_value"),
    ("messages:\n  warn: {zh-CN: '{who}', en: x}\n", "messages.warn.zh-CN", 4, 17, "{who}"),
    (
        "monetization:\n  plans:\n    - {id: a, name: A, currency: rmb}\n",
        "monetization.plans[0].currency",
        5,
        34,
        "three-letter",
    ),
    (  # beyond what an order's amount holds (bounds.MAX_AMOUNT)
        "monetization:\n  plans:\n    - {id: a, name: A, price_cents: 9007199254740992}\n",
        "monetization.plans[0].price_cents",
        5,
        37,
        "at most 9007199254740991",
    ),
    # the file itself
    ("name: z\n", "name", 3, 1, "duplicate key 'name'"),
    ("size:\n  cap: 3\n  cap: 4\n", "size.cap", 5, 3, "duplicate key 'cap'"),
]


@pytest.mark.parametrize(("body", "path", "line", "column", "words"), BROKEN)
def test_problem_names_path_line_and_column(
    body: str, path: str, line: int, column: int, words: str
) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(HEAD + body)
    problems = caught.value.problems
    assert [(p.path, p.line, p.column) for p in problems] == [(path, line, column)]
    assert words in problems[0].message
    assert problems[0].message_zh, "every schema problem has Chinese text too"
    assert problems[0].text("zh-CN") == problems[0].message_zh
    assert f"line {line}, column {column}" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        (HEAD + "size:\n  cap: [1,\n", 5, 1),
        (HEAD + "  bad: indent\n", 3, 6),
        ("name: x\n\tpurpose: y\n", 2, 1),
    ],
)
def test_yaml_syntax_error_has_line_and_column(text: str, line: int, column: int) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(text)
    (problem,) = caught.value.problems
    assert (problem.path, problem.line, problem.column) == ("", line, column)
    assert problem.message.startswith("YAML syntax:")
    assert problem.message_zh.startswith("YAML 语法错误")


@pytest.mark.parametrize("text", ["", "just text\n", "- a\n- b\n"])
def test_not_a_mapping_is_refused(text: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(text)
    assert caught.value.problems[0].line == 1


def test_every_problem_is_reported_in_file_order() -> None:
    text = HEAD + "rules: {ads: {action: ban}}\nsize: {cap: 1, policy: x}\n"
    with pytest.raises(SpecError) as caught:
        load_spec(text)
    assert [p.path for p in caught.value.problems] == [
        "rules.ads.action",
        "size.cap",
        "size.policy",
    ]
    assert "and 2 more problems" in str(caught.value)


def test_missing_required_fields_point_at_the_top() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec("version: 1\n")
    assert {(p.path, p.line) for p in caught.value.problems} == {("name", 1), ("purpose", 1)}


def test_minimal_spec_loads_with_defaults() -> None:
    spec = load_spec(HEAD)
    assert isinstance(spec, CommunitySpec)
    assert spec.size.cap == 300 and spec.size.policy == "new_group"
    assert [t.id for t in spec.tiers] == ["member"]
    assert spec.escalation.step_for(6) is not None
    assert spec.escalation.step_for(6).action == "mute"  # type: ignore[union-attr]


def test_friendly_forms_are_accepted() -> None:
    spec = load_spec(
        HEAD + "tiers:\n  - {id: 1, name_zh: A, demote: never}\n"
        "routing:\n  rules:\n    - {match: {answers: {level: beginner}}, segment: s}\n"
        "lifecycle: {kind: campaign, ends_on: '2030-06-30'}\n"
    )
    assert spec.tiers[0].id == "1" and spec.tiers[0].demote is not None
    assert spec.tiers[0].demote.never and not spec.tiers[0].demotes
    assert spec.routing.rules[0].match.answers == {"level": ["beginner"]}
    assert str(spec.lifecycle.ends_on) == "2030-06-30"


def test_loads_from_a_path_and_strips_a_bom(tmp_path: Path) -> None:
    file = tmp_path / "community.yaml"
    file.write_text("\ufeff" + HEAD, encoding="utf-8")
    assert load_spec(file).name == "x"
    assert load_spec(str(file)).purpose == "y"


def test_non_utf8_file_is_a_spec_error(tmp_path: Path) -> None:
    file = tmp_path / "community.yaml"
    file.write_bytes(b"name: \xff\xfe\npurpose: y\n")
    with pytest.raises(SpecError, match="UTF-8"):
        load_spec(file)


def test_spec_remembers_where_fields_were() -> None:
    spec = load_spec(HEAD + "size:\n  cap: 200\n")
    assert spec.location("size.cap") == (4, 8)
    assert spec.location("size.policy") == (4, 3)  # not written: where its section starts


def test_problem_text_falls_back_to_english() -> None:
    problem = SpecProblem("a", 1, 2, "english only")
    assert problem.text("zh") == "english only"
