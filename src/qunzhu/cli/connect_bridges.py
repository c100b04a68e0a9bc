"""``qunzhu connect wechat --bridge onebot12`` and ``qunzhu connect onebot --version 12``: a
OneBot 12 bridge, whose events land on the platform the bridge names (WeChat for the WeChat
bridges). qunzhu reaches the bridge's WebSocket server (forward), or the bridge reaches
qunzhu's (reverse) or posts to its webhook; the access token comes from the environment.
"""

from __future__ import annotations

from typing import Any

import typer

from qunzhu.adapters.send_limits import SendLimitsError, limits_for
from qunzhu.cli.output import JSON_OPTION, fail

MODES = ("forward", "reverse", "webhook")


def onebot12_config(
    *,
    platform: str,
    mode: str,
    ws_url: str | None,
    api_url: str | None,
    pacing: dict[str, Any],
    as_json: bool,
) -> dict[str, Any]:
    """The connector's config, checked: a bad URL or pacing value fails here, naming it."""
    if mode not in MODES:
        raise fail(f"--mode must be one of {', '.join(MODES)}, not {mode!r}", as_json=as_json)
    if ws_url and not ws_url.startswith(("ws://", "wss://")):
        raise fail(
            f"the WebSocket URL must start with ws:// or wss://: {ws_url!r}", as_json=as_json
        )
    if api_url and not api_url.startswith(("http://", "https://")):
        raise fail(f"--api-url must start with http:// or https://: {api_url!r}", as_json=as_json)
    if mode == "forward" and not ws_url:
        raise fail("forward mode connects to the bridge: give --host and --port", as_json=as_json)
    config: dict[str, Any] = {
        "protocol": "onebot12",
        "mode": mode,
        "ws_url": ws_url if mode == "forward" else "",
        "api_url": api_url or "",
    }
    config.update({k: v for k, v in pacing.items() if v is not None})
    try:
        limits_for(platform, config)
    except SendLimitsError as exc:
        raise fail(str(exc), as_json=as_json) from None
    return config


def onebot12_steps(name: str, mode: str, ws_url: str) -> list[str]:
    if mode == "forward":
        first = f"qunzhu serve connects to the bridge at {ws_url} and reconnects when it drops"
    elif mode == "reverse":
        first = (
            f"in the bridge, set the reverse WebSocket url to ws://<qunzhu host>/hooks/onebot/"
            f"{name}/ws with the same access_token"
        )
    else:
        first = (
            f"in the bridge, set the HTTP webhook url to http://<qunzhu host>/hooks/onebot/{name} "
            "with the same access_token (give --api-url so qunzhu can act)"
        )
    return [
        first,
        "WeChat cannot recall others' messages or mute: those decisions become alerts",
        "removals work in groups where the WeChat account is the owner or an admin",
    ]


def connect_onebot12(
    community: str,
    name: str,
    platform: str,
    ws_url: str | None,
    api_url: str | None,
    as_json: bool,
    *,
    save: Any,
    done: Any,
    token: str,
) -> None:
    """``qunzhu connect onebot --version 12``: forward with a ``--ws-url``, else reverse."""
    from qunzhu.store.connectors import CONNECTOR_PLATFORMS

    if platform not in CONNECTOR_PLATFORMS:
        raise fail(
            f"--platform must be one of {', '.join(CONNECTOR_PLATFORMS)}, not {platform!r}",
            as_json=as_json,
        )
    mode = "forward" if ws_url else "reverse"
    config = onebot12_config(
        platform=platform, mode=mode, ws_url=ws_url, api_url=api_url, pacing={}, as_json=as_json
    )
    save(community, platform, name, config, {"access_token": token}, as_json)
    done(
        {
            "platform": platform,
            "name": name,
            "community": community,
            "protocol": "onebot12",
            "webhook": f"/hooks/onebot/{name}",
            "websocket": f"/hooks/onebot/{name}/ws",
            "next": onebot12_steps(name, mode, config["ws_url"]),
        },
        as_json,
    )


def register(connect_app: typer.Typer, save: Any, done: Any, secret: Any) -> None:
    @connect_app.command("wechat")
    def wechat(
        community: str = typer.Argument(..., help="Community slug."),
        bridge: str = typer.Option(..., help="The bridge on the operator's PC: onebot12."),
        host: str | None = typer.Option(None, help="The bridge's host (forward WebSocket)."),
        port: int | None = typer.Option(None, help="The bridge's WebSocket port (forward)."),
        mode: str = typer.Option("forward", help="forward, reverse or webhook."),
        name: str = typer.Option("wechat", help="Connector name (part of the URLs)."),
        api_url: str | None = typer.Option(
            None, help="The bridge's HTTP action URL (for webhook mode), e.g. http://pc:8000/"
        ),
        access_token: str | None = typer.Option(
            None, envvar="QUNZHU_ONEBOT_ACCESS_TOKEN", help="The bridge's access_token (env)."
        ),
        min_gap: float | None = typer.Option(
            None, help="Seconds between two messages sent (default 3)."
        ),
        jitter: float | None = typer.Option(
            None, help="Up to this many seconds added at random to each send (default 2)."
        ),
        daily_cap: int | None = typer.Option(
            None, help="Messages sent in any 24 hours at most; past it, alerts (default 300)."
        ),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Connect WeChat personal groups through a bridge on the operator's PC."""
        if bridge != "onebot12":
            raise fail(
                f"--bridge {bridge!r}: this command knows onebot12 (a OneBot 12 WeChat bridge "
                "such as ComWeChatBotClient)",
                as_json=as_json,
            )
        if (host is None) != (port is None):
            raise fail("give --host and --port together", as_json=as_json)
        ws_url = f"ws://{host}:{port}/" if host else None
        pacing = {"send_min_gap": min_gap, "send_jitter": jitter, "send_daily_cap": daily_cap}
        config = onebot12_config(
            platform="wechat",
            mode=mode,
            ws_url=ws_url,
            api_url=api_url,
            pacing=pacing,
            as_json=as_json,
        )
        save(community, "wechat", name, config, {"access_token": secret(access_token)}, as_json)
        done(
            {
                "platform": "wechat",
                "name": name,
                "community": community,
                "protocol": "onebot12",
                "webhook": f"/hooks/onebot/{name}",
                "websocket": f"/hooks/onebot/{name}/ws",
                "next": onebot12_steps(name, mode, config["ws_url"]),
            },
            as_json,
        )
