"""``qunzhu connect telegram|onebot|wecom|wechat|discord`` and ``qunzhu connectors ...``:
live connectors (OneBot 12 bridges and WeChat: :mod:`qunzhu.cli.connect_bridges`).

Secrets come from the environment (or a prompt), never from an option typed on the command
line that the shell history would keep; they are stored encrypted with a key derived from
``QUNZHU_SECRET_KEY``. ``qunzhu serve`` runs every enabled connector.
"""

from __future__ import annotations

import secrets
from typing import Any

import typer
from rich.table import Table

from qunzhu.adapters.base import ConnectorError
from qunzhu.adapters.manage import ConnectorConfigError, describe, save_connector, set_enabled
from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import JSON_OPTION, console, emit, fail
from qunzhu.store.credentials import CredentialsError

connect_app = typer.Typer(
    name="connect",
    no_args_is_help=True,
    help="Connect a live platform (Telegram, QQ via OneBot, WeCom, WeChat via a bridge, Discord).",
)
connectors_app = typer.Typer(
    name="connectors", no_args_is_help=True, help="Live connectors: state, enable/disable, sync."
)


def register(app: typer.Typer) -> None:
    from qunzhu.cli import connect_bridges, connect_discord  # noqa: F401  (`connect discord`)

    connect_bridges.register(connect_app, _save, _done, lambda v: _secret(v, "access_token"))
    app.add_typer(connect_app, name="connect")
    app.add_typer(connectors_app, name="connectors")


def _secret(value: str | None, label: str) -> str:
    return value or typer.prompt(label, hide_input=True)


def _save(
    community: str,
    platform: str,
    name: str,
    config: dict[str, Any],
    credentials: dict[str, str],
    as_json: bool,
) -> int:
    store = store_at_head(as_json)
    try:
        return save_connector(
            store,
            community=community,
            platform=platform,
            name=name,
            config=config,
            credentials=credentials,
        )
    except (ConnectorConfigError, CredentialsError) as exc:
        raise fail(str(exc), as_json=as_json) from None
    finally:
        store.dispose()


def _done(data: dict[str, Any], as_json: bool) -> None:
    def render(d: dict[str, Any]) -> None:
        console.print(
            f"[bold green]connected[/] {d['platform']} as [bold]{d['name']}[/] for {d['community']}"
        )
        for line in d.get("next", []):
            console.print(f"  • {line}", soft_wrap=True)

    emit(data, as_json, render)


@connect_app.command("telegram")
def telegram(
    community: str = typer.Argument(..., help="Community slug."),
    name: str = typer.Option("telegram", help="Connector name (part of the webhook URL)."),
    token: str | None = typer.Option(
        None,
        envvar="QUNZHU_TELEGRAM_TOKEN",
        help="Bot token from @BotFather (env QUNZHU_TELEGRAM_TOKEN).",
    ),
    mode: str = typer.Option("webhook", help="webhook or polling."),
    public_url: str | None = typer.Option(
        None,
        help="Public https base URL of this server: the webhook is registered with setWebhook.",
    ),
    api_base: str = typer.Option("https://api.telegram.org", help="Bot API server."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Connect a Telegram bot (webhook with a secret token, or long polling)."""
    if mode not in ("webhook", "polling"):
        raise fail("--mode must be webhook or polling", as_json=as_json)
    bot_token = _secret(token, "Bot token")
    webhook_secret = secrets.token_urlsafe(32)
    hook = f"/hooks/telegram/{name}"
    steps = []
    if public_url and mode == "webhook":
        from qunzhu.adapters.telegram.adapter import ALLOWED_UPDATES
        from qunzhu.adapters.telegram.api import BotApi

        api = BotApi(bot_token, base_url=api_base)
        try:
            api.call(
                "setWebhook",
                {
                    "url": public_url.rstrip("/") + hook,
                    "secret_token": webhook_secret,
                    "allowed_updates": ALLOWED_UPDATES,
                },
            )
        except ConnectorError as exc:
            raise fail(f"setWebhook failed: {exc}", as_json=as_json) from None
        finally:
            api.close()
        steps.append(f"webhook registered: {public_url.rstrip('/')}{hook}")
    elif mode == "webhook":
        steps.append(f"run again with --public-url https://<your host> to register {hook}")
    steps.append("make the bot an admin with delete, ban and invite-link rights")
    _save(
        community,
        "telegram",
        name,
        {"mode": mode, "api_base": api_base},
        {"token": bot_token, "webhook_secret": webhook_secret},
        as_json,
    )
    _done(
        {
            "platform": "telegram",
            "name": name,
            "community": community,
            "webhook": hook,
            "next": steps,
        },
        as_json,
    )


@connect_app.command("onebot")
def onebot(
    community: str = typer.Argument(..., help="Community slug."),
    name: str = typer.Option("qq", help="Connector name (part of the URLs)."),
    access_token: str | None = typer.Option(
        None, envvar="QUNZHU_ONEBOT_ACCESS_TOKEN", help="OneBot access_token (env)."
    ),
    secret: str | None = typer.Option(
        None, envvar="QUNZHU_ONEBOT_SECRET", help="OneBot HTTP POST secret for X-Signature (env)."
    ),
    api_url: str | None = typer.Option(
        None, help="OneBot HTTP API URL (optional when a WebSocket is used)."
    ),
    ws_url: str | None = typer.Option(
        None,
        help="The OneBot implementation's own WebSocket server (forward WebSocket), e.g. "
        "ws://127.0.0.1:6700: qunzhu connects to it and reconnects when it drops.",
    ),
    callback_window: int = typer.Option(
        300,
        help="Seconds a signed HTTP POST event's `time` may be off this server's clock; "
        "older ones and replays are refused (0: no check).",
    ),
    version: int = typer.Option(
        11, "--version", help="OneBot version the implementation speaks: 11 (QQ) or 12."
    ),
    platform: str = typer.Option(
        "wechat",
        help="OneBot 12 only: the platform the bridge serves, for actions to groups not seen "
        "yet (each event lands on the platform the bridge names).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Connect QQ through a OneBot v11 implementation (HTTP POST, reverse or forward
    WebSocket), or a OneBot 12 bridge (``--version 12``)."""
    if version not in (11, 12):
        raise fail(f"--version must be 11 or 12, not {version}", as_json=as_json)
    if version == 12:
        from qunzhu.cli.connect_bridges import connect_onebot12

        connect_onebot12(
            community, name, platform, ws_url, api_url, as_json,
            save=_save, done=_done, token=_secret(access_token, "access_token"),
        )  # fmt: skip
        return
    if ws_url and not ws_url.startswith(("ws://", "wss://")):
        raise fail(f"--ws-url must start with ws:// or wss://, not {ws_url!r}", as_json=as_json)
    token = _secret(access_token, "access_token")
    post_secret = secret or secrets.token_urlsafe(24)
    _save(
        community,
        "qq",
        name,
        {"api_url": api_url or "", "ws_url": ws_url or "", "callback_window": callback_window},
        {"access_token": token, "secret": post_secret},
        as_json,
    )
    _done(
        {
            "platform": "qq",
            "name": name,
            "community": community,
            "webhook": f"/hooks/onebot/{name}",
            "websocket": f"/hooks/onebot/{name}/ws",
            "next": [
                f"HTTP POST: post_url=<server>/hooks/onebot/{name}, secret as given"
                + ("" if secret else f" (generated: {post_secret})"),
                f"or reverse WebSocket: ws://<server>/hooks/onebot/{name}/ws with the "
                "same access_token",
                f"or forward WebSocket: qunzhu serve connects to {ws_url}"
                if ws_url
                else "or forward WebSocket: give --ws-url ws://<onebot host>:<port>",
            ],
        },
        as_json,
    )


@connect_app.command("wecom")
def wecom(
    community: str = typer.Argument(..., help="Community slug."),
    name: str = typer.Option("wecom", help="Connector name (part of the callback URL)."),
    corp_id: str = typer.Option(..., help="企业ID (corp id)."),
    secret: str | None = typer.Option(
        None, envvar="QUNZHU_WECOM_SECRET", help="客户联系 secret (env QUNZHU_WECOM_SECRET)."
    ),
    token: str | None = typer.Option(
        None, envvar="QUNZHU_WECOM_TOKEN", help="Callback Token (env QUNZHU_WECOM_TOKEN)."
    ),
    aes_key: str | None = typer.Option(
        None, envvar="QUNZHU_WECOM_AES_KEY", help="Callback EncodingAESKey (env)."
    ),
    sync_interval: int = typer.Option(3600, help="Seconds between group syncs (0: never)."),
    callback_window: int = typer.Option(
        300,
        help="Seconds a callback's signed timestamp may be off this server's clock; older "
        "ones and replays are refused (0: no check).",
    ),
    api_base: str = typer.Option("https://qyapi.weixin.qq.com", help="WeCom API server."),
    welcome: str | None = typer.Option(
        None,
        help="Group welcome text (入群欢迎语), registered as a WeCom template when qunzhu "
        "serve runs the connector (or now, with `qunzhu connectors welcome`).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Connect WeCom customer groups (callbacks and the customer-contact API)."""
    if welcome is not None:
        welcome = _welcome_text(welcome, as_json)
    aes = _secret(aes_key, "EncodingAESKey")
    if len(aes) != 43:
        raise fail(
            "the EncodingAESKey has 43 characters (copy it from the callback settings)",
            as_json=as_json,
        )
    _save(
        community,
        "wecom",
        name,
        {"api_base": api_base, "sync_interval": sync_interval, "callback_window": callback_window}
        | ({"welcome": welcome} if welcome else {}),
        {
            "corp_id": corp_id,
            "secret": _secret(secret, "客户联系 secret"),
            "token": _secret(token, "Callback Token"),
            "aes_key": aes,
        },
        as_json,
    )
    _done(
        {
            "platform": "wecom",
            "name": name,
            "community": community,
            "webhook": f"/hooks/wecom/{name}",
            "next": [
                f"set the callback URL to https://<your host>/hooks/wecom/{name} "
                "(qunzhu serve must be running to answer the check)",
                "WeCom cannot delete, mute or remove in customer groups: those "
                "decisions appear as alerts",
            ],
        },
        as_json,
    )


@connectors_app.command("list")
def list_(
    community: str | None = typer.Option(None, help="Only this community."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Connectors with their state: connected, last event, last error, disabled groups."""
    store = store_at_head(as_json)
    try:
        items = describe(store)
    finally:
        store.dispose()
    if community:
        items = [i for i in items if i["community"] == community]

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table(
            "name",
            "platform",
            "community",
            "status",
            "last event",
            "last error",
            "events",
            "actions",
            "alerts",
        )
        for r in rows:
            status = r["status"] + (f" ({r['reason']})" if r["reason"] else "")
            if r["groups"]:
                status += f"; {len(r['groups'])} group(s) not active"
            table.add_row(
                r["name"],
                r["platform"],
                r["community"],
                status,
                r["last_event_at"] or "—",
                (r["last_error"] or "—")[:60],
                str(r["events"]),
                str(r["actions"]),
                str(r["open_alerts"]),
            )
        console.print(table)

    emit(items, as_json, render)


def _toggle(name: str, enabled: bool, as_json: bool) -> None:
    store = store_at_head(as_json)
    try:
        set_enabled(store, name, enabled)
    except ConnectorConfigError as exc:
        raise fail(str(exc), as_json=as_json) from None
    finally:
        store.dispose()
    emit(
        {"name": name, "enabled": enabled},
        as_json,
        lambda d: console.print(f"{d['name']}: {'enabled' if enabled else 'disabled'}"),
    )


@connectors_app.command("enable")
def enable(name: str, as_json: bool = JSON_OPTION) -> None:
    """Enable a connector (``qunzhu serve`` runs it after a restart)."""
    _toggle(name, True, as_json)


@connectors_app.command("disable")
def disable(name: str, as_json: bool = JSON_OPTION) -> None:
    """Disable a connector."""
    _toggle(name, False, as_json)


@connectors_app.command("sync")
def sync(
    name: str,
    group: str | None = typer.Option(None, help="One group only (QQ: required)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Sync group members from the platform (QQ get_group_member_list, WeCom groupchat)."""
    from qunzhu.live.hub import ConnectorHub

    store = store_at_head(as_json)
    hub = ConnectorHub.load(store, durable=None)  # stored before this command returns
    try:
        connector: Any = hub.by_name(name)
        if connector is None or not hasattr(connector, "sync"):
            raise fail(f"no enabled connector {name!r} that can sync", as_json=as_json)
        if connector.info.platform in ("qq", "wechat") and not group:
            raise fail(
                f"{connector.info.platform} syncs one group at a time: add --group <group id>",
                as_json=as_json,
            )
        hub.start()
        try:
            count = connector.sync(group) if group else connector.sync()
        except ConnectorError as exc:
            raise fail(f"sync failed: {exc}", as_json=as_json) from None
    finally:
        hub.stop()
        store.dispose()
    emit(
        {"name": name, "members": count},
        as_json,
        lambda d: console.print(f"{d['name']}: {d['members']} members synced"),
    )


WELCOME_MAX = 4000  # WeCom's limit for the text of a welcome template


def _welcome_text(text: str, as_json: bool) -> str:
    text = text.strip()
    if not text:
        raise fail("the welcome text is empty (use --clear to remove it)", as_json=as_json)
    if len(text) > WELCOME_MAX:
        raise fail(
            f"the welcome text has {len(text)} characters; WeCom takes at most {WELCOME_MAX}",
            as_json=as_json,
        )
    return text


@connectors_app.command("welcome")
def welcome(
    name: str = typer.Argument(..., help="A WeCom connector's name."),
    text: str | None = typer.Argument(None, help="The welcome text (入群欢迎语)."),
    clear: bool = typer.Option(False, "--clear", help="Remove the welcome."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set the group welcome a WeCom connector registers (and register it now when the
    WeCom API answers; else qunzhu serve registers it when it runs the connector)."""
    from qunzhu.adapters.manage import platform_of
    from qunzhu.adapters.state import StateBook
    from qunzhu.adapters.wecom.adapter import WeComConnector, update_config
    from qunzhu.live.hub import load_infos

    if clear == (text is not None):
        raise fail("give the welcome text, or --clear (not both)", as_json=as_json)
    wanted = None if clear else _welcome_text(text or "", as_json)
    store = store_at_head(as_json)
    try:
        try:
            connector_id, platform = platform_of(store, name)
        except ConnectorConfigError:
            raise fail(f"no connector named {name!r}", as_json=as_json) from None
        if platform != "wecom":
            raise fail(
                f"{name!r} is a {platform} connector: only WeCom keeps a welcome template "
                "(on Telegram and QQ the growth rules of the spec send welcomes)",
                as_json=as_json,
            )
        update_config(
            store,
            connector_id,
            welcome=wanted,
            welcome_registered=None,
            **({"welcome_template_id": None} if clear else {}),
        )
        data: dict[str, Any] = {"name": name, "welcome": wanted, "template_id": None}
        info = next((i for i in load_infos(store) if i.name == name), None)
        if wanted is not None and info is None:
            data["note"] = "stored; the connector is disabled, so nothing was sent"
        elif wanted is not None and info is not None:
            connector = WeComConnector(info, store, StateBook(store), lambda events: None)
            try:
                data["template_id"] = connector.ensure_welcome()
            except ConnectorError as exc:
                data["note"] = (
                    f"stored; WeCom did not take it now ({exc}): qunzhu serve registers it "
                    "when it runs the connector"
                )
            finally:
                connector.close()
    finally:
        store.dispose()

    def render(d: dict[str, Any]) -> None:
        if d["welcome"] is None:
            console.print(f"{d['name']}: welcome removed")
        elif d["template_id"]:
            console.print(f"{d['name']}: welcome registered as template {d['template_id']}")
        console.print(f"  {d.get('note', '')}" if d.get("note") else "", end="")

    emit(data, as_json, render)
