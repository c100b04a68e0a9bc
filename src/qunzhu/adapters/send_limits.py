"""How fast a bot may speak on each platform, so a broadcast is paced to the platform's limits
instead of running into them (a 429 is still waited out, but a bot that keeps hitting limits
is slowed or banned).

Telegram's Bot API FAQ: about 30 messages a second in all, at most one a second in one chat,
and at most 20 a minute in one group. QQ publishes no figure for OneBot implementations; a
personal account that posts fast is frozen, so the default is cautious. WeCom's group
messages are tasks the owner confirms, paced only so the API is not flooded.

A WeChat personal account (through a bridge on the operator's PC) is the most fragile: WeChat
publishes no limits, and restricts accounts that post like a machine — many messages a day,
bursts, and the same interval between every two. Its default keeps a gap of seconds between
any two sends, adds a random jitter to each, and stops at a daily cap (the rest become alerts
for an operator instead of risking the account).

Discord allows a bot 50 requests a second in all and, per its rate-limit headers, about
five messages per five seconds in one channel (discord.py also waits out what the headers
say).

A connector's config may change them: ``send_per_second``, ``send_per_chat_per_minute``,
``send_min_gap`` (seconds), ``send_jitter`` (seconds, the most added at random),
``send_daily_cap`` (messages in any 24 hours; 0: none).
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
    min_gap: float = 0.0  # seconds between any two messages of the connector
    jitter: float = 0.0  # up to this many seconds added at random to each message
    daily_cap: int = 0  # messages in any 24 hours (0: no cap)


DEFAULTS: dict[str, SendLimits] = {
    "telegram": SendLimits(per_second=30.0, per_chat_per_minute=20, chat_gap=1.0),
    "qq": SendLimits(per_second=2.0, per_chat_per_minute=20, chat_gap=1.0),
    "wecom": SendLimits(per_second=5.0, per_chat_per_minute=30, chat_gap=0.5),
    "discord": SendLimits(per_second=40.0, per_chat_per_minute=60, chat_gap=1.0),
    "wechat": SendLimits(
        per_second=1.0,
        per_chat_per_minute=10,
        chat_gap=3.0,
        min_gap=3.0,
        jitter=2.0,
        daily_cap=300,
    ),
}
FALLBACK = SendLimits(per_second=5.0, per_chat_per_minute=20, chat_gap=1.0)
MESSAGE_KINDS = frozenset({"send_message", "warn"})


class SendLimitsError(ValueError):
    """A pacing setting that is not a number in its range; names the setting."""


def _number(config: Mapping[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = config.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SendLimitsError(f"{name}: {value!r} is not a number") from None
    if not low <= number <= high:
        raise SendLimitsError(f"{name}: {number:g} is outside {low:g}–{high:g}")
    return number


def limits_for(platform: str, config: Mapping[str, Any]) -> SendLimits:
    base = DEFAULTS.get(platform, FALLBACK)
    per_second = float(config.get("send_per_second") or base.per_second)
    per_minute = int(config.get("send_per_chat_per_minute") or base.per_chat_per_minute)
    min_gap = _number(config, "send_min_gap", base.min_gap, 0.0, 3600.0)
    return SendLimits(
        per_second=max(0.1, min(per_second, 1000.0)),
        per_chat_per_minute=max(1, min(per_minute, 600)),
        # a gap set for the connector is one between two messages in a chat too
        chat_gap=min(base.chat_gap, min_gap) if "send_min_gap" in config else base.chat_gap,
        min_gap=min_gap,
        jitter=_number(config, "send_jitter", base.jitter, 0.0, 3600.0),
        daily_cap=int(_number(config, "send_daily_cap", base.daily_cap, 0, 1_000_000)),
    )
