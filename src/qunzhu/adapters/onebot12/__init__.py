"""OneBot 12 bridges (WeChat through ComWeChatBotClient and the like, or any other platform
a bridge names): HTTP webhook, HTTP actions, forward and reverse WebSocket."""
