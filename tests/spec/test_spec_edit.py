"""A playbook changed from the dashboard's form: only its own lines change in community.yaml
(comments, aligned flow mappings and the rest stay byte for byte), the result loads, and an
unknown name is refused."""

from __future__ import annotations

import pytest

from qunzhu.spec import SpecError, load_spec, template
from qunzhu.spec.edit import with_playbook

WELCOME = {
    "name": "newcomer",
    "trigger": "member_joined",
    "steps": [
        {"day": 0, "to": "group", "text": {"zh-CN": "{name} 欢迎！", "en": ""}},
        {"day": 2, "unless": "spoke", "text": {"zh-CN": "{name}，说两句吧"}},
    ],
}
RENEW = {
    "name": "renew",
    "trigger": "before_expiry",
    "steps": [{"day": 7, "text": {"zh-CN": "还剩 {days_left} 天"}}],
}


def _outside(text: str, start: str, end: str) -> list[str]:
    lines = text.splitlines()
    first = lines.index(start)
    last = next(i for i in range(first + 1, len(lines)) if lines[i].startswith(end))
    return lines[:first] + lines[last:]


def test_replacing_a_playbook_changes_only_its_lines():
    before = template()
    after = with_playbook(before, "newcomer", WELCOME)
    assert _outside(after, "playbooks:", "# ── 等级") == _outside(before, "playbooks:", "# ── 等级")
    [book] = load_spec(after).playbooks
    assert [s.day for s in book.steps] == [0, 2] and book.steps[0].to == "group"
    assert "  ads:                  {action: delete_warn, severity: 3}" in after  # as aligned


def test_add_then_delete_down_to_none_and_add_again():
    text = with_playbook(template(), None, RENEW)
    assert [b.name for b in load_spec(text).playbooks] == ["newcomer", "renew"]
    text = with_playbook(text, "newcomer", None)
    text = with_playbook(text, "renew", None)
    assert "playbooks: []" in text and load_spec(text).playbooks == []
    text = with_playbook(text, None, RENEW)
    assert [b.name for b in load_spec(text).playbooks] == ["renew"]
    spare = with_playbook("name: x\npurpose: y   # 为什么\n", None, WELCOME)
    assert spare.startswith("name: x\npurpose: y   # 为什么\n")
    assert load_spec(spare).playbooks[0].name == "newcomer"


def test_a_flow_style_list_is_round_tripped_and_an_unknown_name_refused():
    flow = (
        "name: x\npurpose: y\n"
        "playbooks: [{name: a, trigger: member_joined, steps: [{day: 1, text: {zh-CN: hi}}]}]\n"
    )
    changed = with_playbook(flow, "a", {**WELCOME, "name": "a"})
    assert [s.day for s in load_spec(changed).playbooks[0].steps] == [0, 2]
    with pytest.raises(SpecError):
        with_playbook(flow, "nope", WELCOME)
