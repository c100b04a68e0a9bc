"""``qunzhu operator 2fa``: turn two-factor sign-in (TOTP) on or off for an operator.

``enable`` shows the otpauth:// URI and the secret once (to scan or type into an
authenticator app), then asks for a first code: the secret is stored, sealed with
``QUNZHU_SECRET_KEY``, only when that code matches, so nobody is locked out by a typo.
"""

from __future__ import annotations

import typer

from qunzhu.auth.credentials import CredentialError
from qunzhu.auth.operators import find_operator
from qunzhu.auth.permissions import Conflict, NotFound
from qunzhu.auth.twofactor import disable_2fa, enable_2fa, new_secret, provisioning_uri
from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import console, fail

app = typer.Typer(help="Two-factor sign-in (TOTP) for the dashboard.", no_args_is_help=True)


@app.command("enable")
def enable(username: str = typer.Argument(..., metavar="NAME")) -> None:
    """Show a new secret once, then store it when a first code from the app matches."""
    store = store_at_head()
    try:
        if store.settings.secret_key is None:  # say so before anyone scans a useless secret
            raise CredentialError(
                "QUNZHU_SECRET_KEY is not set: the two-factor secret is stored encrypted with "
                "a key derived from it (try: export QUNZHU_SECRET_KEY=$(openssl rand -hex 32))",
                field="totp",
            )
        with store.reading() as session:
            name = find_operator(session, username).username
        secret = new_secret()
        console.print("Scan or open this in an authenticator app (shown only now):")
        console.print(provisioning_uri(secret, name), highlight=False, soft_wrap=True)
        console.print(f"secret: [bold]{secret}[/]", highlight=False)
        code = typer.prompt("6-digit code from the app")
        with store.unit_of_work() as session:
            enable_2fa(session, store.settings, name, secret, code, source="cli")
    except (CredentialError, Conflict, NotFound) as exc:
        raise fail(str(exc)) from None
    finally:
        store.dispose()
    console.print(f"two-factor sign-in enabled for [bold]{name}[/]", highlight=False)


@app.command("disable")
def disable(username: str = typer.Argument(..., metavar="NAME")) -> None:
    """Turn two-factor sign-in off (for a lost phone: then enable it again)."""
    store = store_at_head()
    try:
        with store.unit_of_work() as session:
            name = disable_2fa(session, username, source="cli").username
    except (Conflict, NotFound) as exc:
        raise fail(str(exc)) from None
    finally:
        store.dispose()
    console.print(f"two-factor sign-in disabled for [bold]{name}[/]", highlight=False)
