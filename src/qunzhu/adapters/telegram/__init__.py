"""Telegram through the Bot API: webhook (secret token) or long polling."""
