"""The language of the commands' human output, and its words (the dashboard's catalogs).

The language is, first found: ``--lang`` on the command, ``qunzhu --lang``, the
``QUNZHU_LANG`` environment variable, ``QUNZHU_LANGUAGE`` (the dashboard's default), zh-CN.
``--json`` output keeps its codes: it is for scripts, not people.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Connection, select

from qunzhu.http.i18n import LANGUAGES, translator
from qunzhu.spec import SpecError, load_spec
from qunzhu.spec.members import default_tiers
from qunzhu.store.models import Community

_chosen: list[str] = []  # set by `qunzhu --lang` (main.py)


def normal(value: str | None) -> str | None:
    """``zh``/``zh-CN``/``en`` as the catalogs name them; None for anything else."""
    if not value:
        return None
    if value.lower().startswith("zh"):
        return "zh-CN"
    return value if value in LANGUAGES else None


def set_language(value: str | None) -> None:
    _chosen[:] = [v for v in (normal(value),) if v]


def language(asked: str | None = None) -> str:
    for candidate in (asked, *_chosen, os.environ.get("QUNZHU_LANG"),
                      os.environ.get("QUNZHU_LANGUAGE")):  # fmt: skip
        found = normal(candidate)
        if found:
            return found
    return "zh-CN"


def say(key: str, **values: Any) -> str:
    """``cli.<key>`` (or any catalog key with a dot in front of a family) in the language."""
    return translator(language())(key, **values)


def column(name: str) -> str:
    """A table's column heading: ``cli.col.<name>``, or the name when there is none."""
    key = f"cli.col.{name}"
    text = say(key)
    return name if text == key else text


def code(family: str, value: Any) -> str:
    """A stored code (a status, a reward kind) by its catalog name; ``–`` when empty."""
    if value is None or value == "":
        return "–"
    key = f"{family}.{value}"
    text = say(key)
    return str(value) if text == key else text


def action(value: str) -> str:
    """A moderation action; ``delete_warn`` and other compounds by their parts."""
    whole = code("mod_action", value)
    if whole != value:
        return whole
    return " + ".join(code("mod_action", part) for part in value.split("_"))


def tier_names(conn: Connection, community_id: int) -> dict[str, str]:
    """Tier id -> the name the community's spec gives it, in the language."""
    text = conn.execute(
        select(Community.spec_yaml).where(Community.id == community_id)
    ).scalar_one_or_none()
    try:
        tiers = load_spec(text).tiers if text else default_tiers()
    except SpecError:
        return {}
    english = language() == "en"
    return {t.id: (t.name_en if english and t.name_en else t.name_zh) for t in tiers}
