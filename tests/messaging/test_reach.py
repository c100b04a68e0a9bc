"""What becomes of a delivery on each platform, said before it is queued: the outcomes the
live executor reaches when it tries (sent, owner confirms, a task, skipped)."""

from __future__ import annotations

import pytest

from qunzhu.messaging.reach import Reach, reach

DISABLED = {("telegram", "-100gone"): "the bot was removed from the group"}


@pytest.mark.parametrize(
    ("platform", "chat", "private", "connected", "expected"),
    [
        ("telegram", "-100", False, {"telegram"}, Reach("send")),
        ("telegram", "42", True, {"telegram"}, Reach("send")),
        ("qq", "42", True, {"qq"}, Reach("send")),
        ("wecom", "wr1", False, {"wecom"}, Reach("confirm", "owner_confirms")),
        ("wecom", "u1", True, {"wecom"}, Reach("task", "no_private")),
        ("telegram", "-100", False, {"qq"}, Reach("task", "not_connected")),
        ("wechat", "g@chatroom", False, {"telegram", "qq"}, Reach("task", "no_connector_platform")),
        ("irc", "#c", False, set(), Reach("task", "no_connector_platform")),
        (
            "telegram",
            "-100gone",
            False,
            {"telegram"},
            Reach("skip", "group_disabled", "the bot was removed from the group"),
        ),
    ],
)
def test_each_platform_and_state(platform, chat, private, connected, expected):
    assert (
        reach(platform, chat, private=private, connected=connected, disabled=DISABLED) == expected
    )
