"""The positioning lint: one mutation of the clean template per check, each firing exactly
the codes expected; the template itself proves every check silent."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from ruamel.yaml import YAML

from qunzhu.spec import load_spec, template
from qunzhu.spec.lint import CHECKS, lint
from qunzhu.spec.lint.core import SEVERITY_RANK

TODAY = date(2026, 6, 1)
DROP = object()
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _base() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(template())
    return data


def _apply(data: dict[str, Any], path: str, value: object) -> None:
    steps: list[str | int] = [key if key else int(index) for key, index in _STEP.findall(path)]
    node: Any = data
    for step in steps[:-1]:
        node = node[step]
    if value is DROP:
        del node[steps[-1]]
    else:
        node[steps[-1]] = value


def _mutated(changes: dict[str, object]) -> str:
    data = _base()
    for path, value in changes.items():
        _apply(data, path, value)
    out = io.StringIO()
    YAML(typ="safe").dump(data, out)
    return out.getvalue()


GHOST = "ghost"

# (expected codes, changes to the template) — one row at least per registered check.
MUTATIONS: list[tuple[tuple[str, ...], dict[str, object]]] = [
    (("QZ001",), {"threshold.questions[1].id": "level"}),
    (("QZ101",), {"lifecycle": {"kind": "campaign"}}),
    (("QZ407",), {"staff": ["wechat:wxid_leo", "wechat:wxid_leo", "telegram:"]}),
    (("QZ102",), {"lifecycle": {"kind": "campaign", "ends_on": "2026-05-01"}}),
    (("QZ103",), {"lifecycle.ends_on": "2030-01-01"}),
    (("QZ104",), {"persona": {}}),
    (("QZ105",), {"culture.slogan": DROP}),
    (("QZ106",), {"threshold.kind": "open", "member_value": []}),
    (("QZ107",), {"platforms": []}),
    (("QZ201",), {"size.cap": 800}),
    (("QZ202",), {"size.cap": 69}),
    (("QZ203",), {"member_value": []}),
    (("QZ204",), {"threshold.plans": []}),
    (("QZ205",), {"threshold.plans": ["annual", GHOST]}),
    (("QZ206", "QZ604"), {"threshold.kind": "application", "threshold.questions": []}),
    (
        ("QZ207",),
        {
            "threshold.review": "auto",
            "threshold.deny_words": [],
            "threshold.questions[0].choices": DROP,
        },
    ),
    (("QZ208",), {"size.policy": "one_in_one_out", "size.protected": []}),
    (("QZ209",), {"rules.who_may_invite": "all"}),
    (("QZ301",), {"rules.ads.action": "allow"}),
    (("QZ302",), {"escalation.ladder[1].points": 1}),
    (("QZ302",), {"escalation.ladder[2].action": "warn"}),
    (("QZ303",), {"escalation.ladder[1].duration_minutes": DROP}),
    (("QZ304",), {"rules.classifier.threshold_flag": 0.95}),
    (("QZ304",), {"rules.classifier.threshold_act_good_standing": 0.5}),
    (("QZ305",), {"rules.group_invites.severity": 12}),
    (("QZ306",), {"escalation.tier_slack": {GHOST: 2.0}}),
    (("QZ307",), {"escalation.ladder": []}),
    (("QZ308",), {"rules.classifier.model": "models/mine.npz"}),
    (("QZ401",), {"tiers[2].demote": DROP}),
    (("QZ402",), {"tiers[3].promote": {"min_value": 10}}),
    (("QZ403",), {"role_targets.active": {"min": 0.5, "max": 0.3}}),
    (("QZ403",), {"role_targets.lurker": {"min": 0.6}, "role_targets.active": {"min": 0.5}}),
    (("QZ404",), {"roles.core_min_value": 2.0}),
    (("QZ405",), {"monetization.plans[0].on_expiry": f"downgrade_to:{GHOST}"}),
    (("QZ406",), {"monetization.plans[0].tier": GHOST}),
    (("QZ406",), {"tiers[1].promote.plan": GHOST}),
    (("QZ501",), {"referral.qualification": DROP}),
    (("QZ502",), {"referral.ladder[1].invitees": 3}),
    (("QZ503",), {"referral.ladder[2].reward.value": GHOST}),
    (("QZ504",), {"referral.ladder": []}),
    (
        ("QZ505",),
        {"referral.qualification": {"stay_days": 0, "must_speak": False, "min_value": 0.0}},
    ),
    (("QZ601",), {"monetization.model": "product_sales"}),
    (("QZ601",), {"monetization.model": "hybrid", "monetization.plans[1].kind": "membership"}),
    (("QZ602",), {"monetization.model": "none"}),
    (("QZ603",), {"routing.rules[0].segment": GHOST}),
    (("QZ604",), {"routing.rules[0].match.answers": {"job": ["pm"]}}),
    (("QZ605",), {"routing.rules[0].match": {}}),
    (("QZ606",), {"segments[0].groups": []}),
    (("QZ607",), {"segments[2].groups": ["aipm-builders", "aipm-practice-2"]}),
    (("QZ008",), {"timezone": "Mars/Olympus"}),
    (("QZ008",), {"groups.aipm-builders.timezone": "Asia/Singapur"}),
]


def _ids() -> list[str]:
    return ["+".join(codes) + "-" + ",".join(changes) for codes, changes in MUTATIONS]


def test_template_is_clean() -> None:
    assert lint(load_spec(template()), today=TODAY) == []


@pytest.mark.parametrize(("codes", "changes"), MUTATIONS, ids=_ids())
def test_mutation_fires_its_check(codes: tuple[str, ...], changes: dict[str, object]) -> None:
    spec = load_spec(_mutated(changes))
    findings = lint(spec, today=TODAY)
    assert sorted({f.code for f in findings}) == sorted(codes), [f.message_en for f in findings]
    for finding in findings:
        assert finding.message_en and finding.message_zh
        assert CJK.search(finding.message_zh), finding.message_zh
        assert not CJK.search(finding.message_en.split("(")[0]), finding.message_en
        assert finding.line is not None, f"{finding.code} {finding.path} has no line"
        assert finding.message("zh-CN") == finding.message_zh
        assert finding.as_dict("en")["message"] == finding.message_en


# checks that need the community's members, given to lint() where they are at hand
NEEDS_MEMBERS = {"QZ408"}


def test_a_staff_entry_naming_no_member_is_a_warning_at_its_line() -> None:
    spec = load_spec(_mutated({"staff": ["Leo（群主）", "telegram:404"]}))
    assert lint(spec, today=TODAY) == []  # without the members nothing is claimed
    findings = lint(spec, today=TODAY, names_member=lambda entry: entry == "Leo（群主）")
    assert [(f.code, f.severity, f.path) for f in findings] == [("QZ408", "warning", "staff[1]")]
    assert findings[0].line is not None
    assert "telegram:404" in findings[0].message_en and CJK.search(findings[0].message_zh)


def test_every_registered_check_is_in_the_table() -> None:
    tested = {code for codes, _ in MUTATIONS for code in codes} | NEEDS_MEMBERS
    assert {c.code for c in CHECKS} - tested == set()
    assert len(CHECKS) >= 12


@pytest.mark.parametrize("registered", CHECKS, ids=lambda c: c.code)
def test_check_titles_in_both_languages(registered: Any) -> None:
    assert re.fullmatch(r"QZ\d{3}", registered.code)
    assert registered.severity in SEVERITY_RANK
    assert registered.title_en and not CJK.search(registered.title_en)
    assert CJK.search(registered.title_zh)


def test_findings_point_at_the_line_of_the_field() -> None:
    text = _mutated({"size.cap": 800})
    (finding,) = lint(load_spec(text), today=TODAY)
    line = text.splitlines()[finding.line - 1] if finding.line else ""
    assert "800" in line


def test_errors_come_before_warnings() -> None:
    spec = load_spec(_mutated({"size.cap": 800, "referral.qualification": DROP}))
    assert [f.code for f in lint(spec, today=TODAY)] == ["QZ501", "QZ201"]


def test_campaign_still_running_is_fine() -> None:
    spec = load_spec(_mutated({"lifecycle": {"kind": "campaign", "ends_on": "2026-07-01"}}))
    assert lint(spec, today=TODAY) == []


def test_an_unknown_zone_names_its_line_and_field() -> None:
    text = (
        "name: n\npurpose: p\ntimezone: Asia/Shanghai\n"
        "groups:\n  '#de':\n    timezone: Europe/Berln\n  '#cn': {timezone: Asia/Shanghai}\n"
    )
    found = [f for f in lint(load_spec(text), today=TODAY) if f.code == "QZ008"]
    assert [(f.severity, f.path, f.line) for f in found] == [("error", "groups.#de.timezone", 6)]
    assert "'Europe/Berln'" in found[0].message_en and "groups.#de.timezone" in found[0].message_en
