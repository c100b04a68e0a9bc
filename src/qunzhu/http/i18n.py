"""Dashboard messages in Simplified Chinese and English, and which language a request gets.

The catalogs are JSON files, one per language, in ``qunzhu/http/web/messages/`` (``en.json``,
``zh-CN.json``): a flat map from key to text with ``{name}`` placeholders. A page's template
asks ``t("key", n=3)``; a key missing in one language falls back to English, then to the
key itself, so a gap shows and does not break (tests/http/web/test_web_i18n.py keeps both files
complete). English counts its nouns with ``{n:group|groups}`` (the singular when ``n`` is
1, else the plural, the count itself written ``{n}`` beside it, or shown apart when the text is
a figure's label); Chinese has no plural and writes ``{n}`` alone. The choice sticks in the
``qz_lang`` cookie; without it the operator's own setting, then ``settings.language``, decide.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES: dict[str, str] = {"zh-CN": "简体中文", "en": "English"}
MESSAGES_DIR = Path(__file__).parent / "web" / "messages"

Translator = Callable[..., str]
PLURAL = re.compile(r"\{(\w+):([^{}|]*)\|([^{}|]*)\}")


def plural_forms(text: str, values: Mapping[str, Any]) -> str:
    """``{n:one|other}`` replaced by the form that fits the value of ``n``."""
    return PLURAL.sub(
        lambda m: m.group(2) if str(values.get(m.group(1))) == "1" else m.group(3), text
    )


@cache
def catalog(language: str) -> Mapping[str, str]:
    """The messages of ``language`` (read once per process)."""
    path = MESSAGES_DIR / f"{language}.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def translator(language: str) -> Translator:
    table = catalog(language if language in LANGUAGES else "en")
    fallback = catalog("en")

    def t(key: str, **values: Any) -> str:
        text = table.get(key) or fallback.get(key) or key
        return plural_forms(text, values).format(**values) if values else text

    return t


def choose_language(cookie: str | None, operator_language: str | None, default: str) -> str:
    for candidate in (cookie, operator_language, default):
        if candidate in LANGUAGES:
            return candidate
    return "zh-CN"
