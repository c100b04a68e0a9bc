"""Helpers for the importer tests: parse a file made in the test, count what came out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from qunzhu import events as ev
from qunzhu.adapters import importers

UTC = ZoneInfo("UTC")


def parse_all(path: Path, fmt: str, tz: Any = UTC, group: str = "g1") -> list[Any]:
    return list(importers.parse(path, fmt, community="c1", group=group, tz=tz))


def kinds(items: list[Any]) -> Counter[str]:
    return Counter(type(i).__name__ for i in items)


def of(items: list[Any], cls: type[Any]) -> list[Any]:
    return [i for i in items if isinstance(i, cls)]


@pytest.fixture
def parsed() -> Callable[..., list[Any]]:
    return parse_all


@pytest.fixture
def messages_of() -> Callable[[list[Any]], list[ev.MessagePosted]]:
    return lambda items: of(items, ev.MessagePosted)
