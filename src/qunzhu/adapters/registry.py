"""The connector of each platform, loaded on first use (DESIGN §5.1). A connector whose
config names a ``protocol`` (a bridge speaking a standard, such as OneBot 12) is built by
that protocol's class, whatever platform it serves."""

from __future__ import annotations

from importlib import import_module
from typing import Any

CONNECTORS: dict[str, str] = {
    "telegram": "qunzhu.adapters.telegram.adapter:TelegramConnector",
    "qq": "qunzhu.adapters.onebot.adapter:OneBotConnector",
    "wecom": "qunzhu.adapters.wecom.adapter:WeComConnector",
    "discord": "qunzhu.adapters.discord.adapter:DiscordConnector",
}
PROTOCOLS: dict[str, str] = {
    "onebot11": "qunzhu.adapters.onebot.adapter:OneBotConnector",
    "onebot12": "qunzhu.adapters.onebot12.adapter:OneBot12Connector",
}


def connector_class(platform: str, protocol: str | None = None) -> Any:
    if protocol:
        try:
            where = PROTOCOLS[protocol]
        except KeyError:
            raise ValueError(
                f"no connector for protocol {protocol!r} (known: {', '.join(PROTOCOLS)})"
            ) from None
    else:
        try:
            where = CONNECTORS[platform]
        except KeyError:
            raise ValueError(
                f"no live connector for platform {platform!r} (known: {', '.join(CONNECTORS)}; "
                f"a bridge's platform needs its protocol, e.g. onebot12)"
            ) from None
    module, _, name = where.partition(":")
    return getattr(import_module(module), name)
