"""Both message catalogs are complete, and every key the templates use exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

from qunzhu.http.i18n import LANGUAGES, MESSAGES_DIR, catalog, translator

TEMPLATES = Path(MESSAGES_DIR).parent / "templates"
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']\s*[,)]""")


def _placeholders(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogs_have_the_same_keys_and_placeholders():
    en, zh = catalog("en"), catalog("zh-CN")
    assert set(en) == set(zh), set(en) ^ set(zh)
    for key in en:
        assert _placeholders(en[key]) == _placeholders(zh[key]), key
        assert en[key].strip() and zh[key].strip(), key


def test_every_literal_key_in_templates_and_pages_exists():
    used = set()
    sources = [
        *TEMPLATES.glob("*.html"),  # i18n.py itself only shows an example key
        *(p for p in Path(MESSAGES_DIR).parent.rglob("*.py") if p.name != "i18n.py"),
    ]
    for path in sources:
        used |= set(LITERAL_KEY.findall(path.read_text(encoding="utf-8")))
    missing = sorted(k for k in used if k not in catalog("en"))
    assert not missing, missing


def test_every_language_has_a_catalog_and_unknown_keys_show_themselves():
    for code in LANGUAGES:
        assert catalog(code)
    assert translator("zh-CN")("no.such.key") == "no.such.key"
    assert translator("xx")("tab.today") == "Today"


def test_chinese_pages_speak_chinese(client, personas):
    from qunzhu_tests_http import log_in

    log_in(client, "owner")
    client.cookies.set("qz_lang", "zh-CN")
    assert "今日待办" in client.get("/c/acme").text
    client.cookies.set("qz_lang", "en")
    assert "Today" in client.get("/c/acme").text


def test_keys_built_from_values_exist_for_every_value():
    from qunzhu.http.web.pages.common import TABS
    from qunzhu.http.web.queries.community import RISK_ORDER
    from qunzhu.http.web.queries.group import SORTS, STATUSES
    from qunzhu.http.web.queries.review import DECISIONS, QUEUE_STATUSES
    from qunzhu.store.models import ROLES

    en = catalog("en")
    families = {
        "tab": [key for key, _, _ in TABS],
        "risk": list(RISK_ORDER),
        "sort": list(SORTS),
        "membership_status": list(STATUSES),
        "mod_status": list(QUEUE_STATUSES),
        "role": list(ROLES),
        "funnel": ["joined", "spoke", "paid"],
        "done": [f"decided_{d}" for d in DECISIONS],
        "today": ["review", "applications", "questions", "at_risk", "rewards", "errors"],
        "referral_status": ["pending", "qualified", "disqualified", "clawed_back", "held"],
        "chart": ["value_trend", "role_mix", "funnel", "retention"],
    }
    missing = [
        f"{prefix}.{value}"
        for prefix, values in families.items()
        for value in values
        if f"{prefix}.{value}" not in en
    ]
    assert not missing, missing
