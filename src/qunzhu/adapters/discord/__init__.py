"""Discord: gateway bot in (discord.py), REST out."""
