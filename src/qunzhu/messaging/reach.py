"""Whether a delivery can go out on its platform, said before anything is queued (the
preview) — the same outcomes the live executor reaches when it tries: sent, sent for the
owner to confirm (WeCom), an operator's task (an alert), or skipped (the bot left).

Pure: the caller says which platforms the community has a live connector for and which
chats a connector recorded as disabled (removed, kicked).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

LIVE = frozenset({"telegram", "qq", "wecom"})  # platforms qunzhu has a connector for
PRIVATE = frozenset({"telegram", "qq"})  # where a bot may write to one member
OWNER_CONFIRMS = frozenset({"wecom"})  # a group message is a template the owner sends

Outcome = Literal["send", "confirm", "task", "skip"]


@dataclass(frozen=True, slots=True)
class Reach:
    outcome: Outcome
    why: str = ""  # a catalog code (reach.<why>), "" when it simply goes out
    detail: str = ""  # what the platform or the connector said, where it said anything


def reach(
    platform: str,
    chat: str,
    *,
    private: bool,
    connected: Collection[str],
    disabled: Mapping[tuple[str, str], str],
) -> Reach:
    """What becomes of a message to ``chat`` on ``platform``."""
    if platform not in LIVE:  # a WeChat group without a bridge, an imported IRC channel
        return Reach("task", "no_connector_platform")
    if platform not in connected:
        return Reach("task", "not_connected")
    if private and platform not in PRIVATE:
        return Reach("task", "no_private")
    if (platform, chat) in disabled:
        return Reach("skip", "group_disabled", disabled[(platform, chat)])
    if platform in OWNER_CONFIRMS:
        return Reach("confirm", "owner_confirms")
    return Reach("send")
