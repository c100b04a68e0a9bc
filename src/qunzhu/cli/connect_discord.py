"""``qunzhu connect discord``: a Discord bot on the gateway (registered on ``connect``)."""

from __future__ import annotations

import typer

from qunzhu.cli.connect import _done, _save, _secret, connect_app
from qunzhu.cli.output import JSON_OPTION


@connect_app.command("discord")
def discord(
    community: str = typer.Argument(..., help="Community slug."),
    name: str = typer.Option("discord", help="Connector name."),
    token: str | None = typer.Option(
        None,
        envvar="QUNZHU_DISCORD_TOKEN",
        help="Bot token from the Developer Portal → Bot (env QUNZHU_DISCORD_TOKEN).",
    ),
    home_channel: str | None = typer.Option(
        None,
        help="Channel id where joins and leaves are counted when a server has no system channel.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Connect a Discord bot (gateway in, REST out); every channel it reads is a group."""
    config = {"home_channel": home_channel} if home_channel else {}
    _save(community, "discord", name, config, {"token": _secret(token, "Bot token")}, as_json)
    _done(
        {
            "platform": "discord",
            "name": name,
            "community": community,
            "next": [
                "Developer Portal → Bot: turn on the Server Members and Message Content intents",
                "invite the bot with Manage Messages, Moderate Members, Kick Members, "
                "Ban Members, Manage Server and Create Invite",
                "run qunzhu serve: the bot connects to the gateway",
            ],
        },
        as_json,
    )
