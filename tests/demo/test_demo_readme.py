"""The figures the README quotes for `qunzhu demo` are the sample's own."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from qunzhu import events as ev
from qunzhu.demo import GROUPS, generate

README = Path(__file__).resolve().parents[2] / "README.md"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _quoted() -> dict[str, int]:
    (row,) = [line for line in README.read_text(encoding="utf-8").splitlines()
              if line.startswith("| `qunzhu demo` |")]  # fmt: skip
    pattern = (
        r"(\d+) groups, (\d+) days, about ([\d,]+) messages, (\d+) people "
        r"\((\d+) of them in a group at the end, in (\d+) group memberships\)"
    )
    found = re.search(pattern, row)
    assert found, row
    names = ("groups", "days", "messages", "people", "in_a_group", "memberships")
    return {n: int(v.replace(",", "")) for n, v in zip(names, found.groups(), strict=True)}


def test_the_readme_quotes_the_sample_as_it_is():
    sample = list(generate(7, now=NOW))  # `qunzhu demo`'s seed
    quoted = _quoted()
    state: dict[tuple[str, str, str], bool] = {}  # (group, platform, member) → in the group
    for e in sample:
        if isinstance(e, ev.MemberJoined | ev.MemberLeft):
            state[(e.group, e.platform, e.member)] = isinstance(e, ev.MemberJoined)
    messages = sum(isinstance(e, ev.MessagePosted) for e in sample)
    assert quoted["groups"] == len(GROUPS)
    assert quoted["days"] == round((sample[-1].occurred_at - sample[0].occurred_at).days, -1)
    assert abs(messages - quoted["messages"]) <= quoted["messages"] * 0.02  # varies with the date
    people = {(e.platform, e.member) for e in sample if getattr(e, "member", None)}
    assert quoted["people"] == len(people)
    assert quoted["memberships"] == sum(state.values())
    assert quoted["in_a_group"] == len({(p, m) for (_, p, m), inside in state.items() if inside})
