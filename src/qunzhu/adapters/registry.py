"""The connector of each platform, loaded on first use (DESIGN §5.1)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

CONNECTORS: dict[str, str] = {
    "telegram": "qunzhu.adapters.telegram.adapter:TelegramConnector",
    "qq": "qunzhu.adapters.onebot.adapter:OneBotConnector",
    "wecom": "qunzhu.adapters.wecom.adapter:WeComConnector",
    "wechat": "qunzhu.adapters.wechat.adapter:WeChatFerryConnector",
}


def connector_class(platform: str) -> Any:
    try:
        module, _, name = CONNECTORS[platform].partition(":")
    except KeyError:
        raise ValueError(
            f"no live connector for platform {platform!r} (known: {', '.join(CONNECTORS)})"
        ) from None
    return getattr(import_module(module), name)
