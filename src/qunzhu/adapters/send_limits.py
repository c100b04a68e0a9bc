"""How fast a bot may speak on each platform, so a broadcast is paced to the platform's limits
instead of running into them (a 429 is still waited out, but a bot that keeps hitting limits
is slowed or banned).

Telegram's Bot API FAQ: about 30 messages a second in all, at most one a second in one chat,
and at most 20 a minute in one group. QQ publishes no figure for OneBot implementations; a
personal account that posts fast is frozen, so the default is cautious. WeCom's group
messages are tasks the owner confirms, paced only so the API is not flooded. Discord allows
a bot 50 requests a second in all and, per its rate-limit headers, about five messages per
five seconds in one channel (discord.py also waits out what the headers say). A connector's
config may lower or raise them: ``send_per_second``, ``send_per_chat_per_minute``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SendLimits:
    per_second: float  # messages a second, all chats together
    per_chat_per_minute: int  # messages a minute in one chat
    chat_gap: float  # seconds between two messages in one chat


DEFAULTS: dict[str, SendLimits] = {
    "telegram": SendLimits(per_second=30.0, per_chat_per_minute=20, chat_gap=1.0),
    "qq": SendLimits(per_second=2.0, per_chat_per_minute=20, chat_gap=1.0),
    "wecom": SendLimits(per_second=5.0, per_chat_per_minute=30, chat_gap=0.5),
    "discord": SendLimits(per_second=40.0, per_chat_per_minute=60, chat_gap=1.0),
}
FALLBACK = SendLimits(per_second=5.0, per_chat_per_minute=20, chat_gap=1.0)
MESSAGE_KINDS = frozenset({"send_message", "warn"})


def limits_for(platform: str, config: Mapping[str, Any]) -> SendLimits:
    base = DEFAULTS.get(platform, FALLBACK)
    per_second = float(config.get("send_per_second") or base.per_second)
    per_minute = int(config.get("send_per_chat_per_minute") or base.per_chat_per_minute)
    return SendLimits(
        per_second=max(0.1, min(per_second, 1000.0)),
        per_chat_per_minute=max(1, min(per_minute, 600)),
        chat_gap=base.chat_gap,
    )
