"""How every command prints: rich for people, one JSON document for scripts (--json)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of a table.")


def _default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON when asked, else hand it to ``render`` for a rich view."""
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=_default, indent=2) + "\n")
    else:
        render(data)


def fail(message: str, *, as_json: bool = False, code: int = 2, **extra: Any) -> typer.Exit:
    """Report an error the caller can act on and return the Exit to raise."""
    if as_json:
        payload = {"error": message, **extra}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=_default) + "\n")
    else:
        # soft_wrap: a command line in the message must stay copyable, not broken at the edge
        from qunzhu.cli.words import say

        prefix = say("cli.error")
        err_console.print(f"[bold red]{prefix}[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
