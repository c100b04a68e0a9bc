"""First run: make the first operator, so nobody ever needs a default password.

When the database has no operator at all, :func:`ensure_first_operator` creates ``admin`` as
superuser with a random password and returns a message saying how to log in. ``qunzhu serve``
prints it once; the password is not stored anywhere but as its hash, so the message is the
only place it appears. On every later start there is an operator and nothing is printed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from qunzhu.auth.credentials import random_password
from qunzhu.auth.operators import create_operator
from qunzhu.store.models import Operator
from qunzhu.store.session import Store

FIRST_USERNAME = "admin"


def login_url(host: str, port: int, path: str = "/login") -> str:
    # 0.0.0.0 / :: mean "every address": a browser on this machine reaches it on localhost
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}{path}"


def ensure_first_operator(
    store: Store, *, host: str | None = None, port: int | None = None
) -> str | None:
    """Create the first superuser when there is no operator; the login message, or None.
    ``host`` and ``port`` are where the server really listens (`serve --port`), when they
    are not the settings'."""
    password = random_password()
    try:
        with store.unit_of_work() as session:
            if session.scalar(select(Operator.id).limit(1)) is not None:
                return None
            create_operator(
                session,
                FIRST_USERNAME,
                password,
                superuser=True,
                display_name="Administrator",
                source="system",
            )
    except IntegrityError:  # another process starting at the same moment made it first
        return None
    url = login_url(host or store.settings.host, port or store.settings.port)
    return (
        "First run: created the operator 'admin' (superuser).\n"
        f"  Log in at {url}\n"
        f"  username: {FIRST_USERNAME}\n"
        f"  password: {password}\n"
        "This password is shown only now. Change it with "
        "`qunzhu operator passwd admin --password-stdin`.\n"
        f"首次运行：已创建超级管理员 admin。请在 {url} 登录，用户名 {FIRST_USERNAME}，"
        f"密码 {password}（仅显示这一次）。"
    )
