"""Bot API updates of tests/adapters/corpus/telegram/live/, each read as the case beside it
says: forum topics, anonymous admins, automatic forwards, and service messages left out
(where the shapes were learned: the file's ``learned_from``; the content is our own)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qunzhu import events as ev
from qunzhu.adapters.telegram.parse import parse_update

SAMPLE = Path(__file__).parents[1] / "corpus" / "telegram" / "live" / "bot_api_updates.json"
DATA = json.loads(SAMPLE.read_text(encoding="utf-8"))
CASES = DATA["cases"]


def _no_links(_link: str) -> tuple[str | None, str | None]:
    return None, None


def test_the_sample_says_where_its_shapes_were_learned() -> None:
    assert "core.telegram.org/bots/api" in DATA["learned_from"]


@pytest.mark.parametrize("case", CASES, ids=[c["note"][:60] for c in CASES])
def test_the_live_update_reads_as_written_beside_it(case: dict[str, Any]) -> None:
    parsed = parse_update(case["update"], "c1", _no_links)
    expected = case["expected"]
    if isinstance(expected, dict):  # left out: no event, and the reason names what it was
        assert parsed.events == []
        assert expected["ignored"] in parsed.ignored
        return
    got = [
        {"member": e.member, "name": e.member_name, "reply_to": e.reply_to,
         "bot": e.member_is_bot, "date": int(e.occurred_at.timestamp())}
        for e in parsed.events
        if isinstance(e, ev.MessagePosted)
    ]  # fmt: skip
    assert got == expected
    assert len(parsed.events) == len(expected)


def test_anonymous_admins_of_two_groups_are_two_members() -> None:
    """GroupAnonymousBot sends for every group; each group's posts are its own member."""
    anonymous = [c["update"] for c in CASES if c["update"]["message"]["from"]["id"] == 1087968824]
    members = {parse_update(u, "c1", _no_links).events[0].member for u in anonymous}
    assert len(anonymous) == 2 and len(members) == 2 and "1087968824" not in members
