"""WeChat personal groups, live through WeChatFerry."""
