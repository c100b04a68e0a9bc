"""Both message catalogs are complete, and every key the templates use exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

from qunzhu.http.i18n import LANGUAGES, MESSAGES_DIR, PLURAL, catalog, translator

TEMPLATES = Path(MESSAGES_DIR).parent / "templates"
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']\s*[,)]""")


def _placeholders(text):
    """The values a text prints; a plural selector only chooses a word (a label beside a
    figure shown apart may carry it alone, and Chinese has none)."""
    return {name for _, name, _, _ in string.Formatter().parse(PLURAL.sub("", text)) if name}


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


# words after a count that are verbs or pronouns, not nouns needing a plural form
NOT_NOUNS = {"needs", "has", "this", "was", "does", "exists", "is", "its"}
COUNTED = re.compile(r"\{(\w+)\} (?:[a-z]+ )?([a-z]+s)\b")


def test_english_counts_choose_singular_or_plural():
    from qunzhu.http.i18n import plural_forms

    en = catalog("en")
    bare = [
        key
        for key, text in en.items()
        for _, noun in COUNTED.findall(text)
        if noun not in NOT_NOUNS
    ]
    assert not bare, f"counted nouns without a {{n:one|other}} form: {bare}"
    t = translator("en")
    assert t("today.at_risk.act", n=1) == "See all 1 group at risk"
    assert t("today.at_risk.act", n=2) == "See all 2 groups at risk"
    assert translator("zh-CN")("today.at_risk.act", n=1) == "查看全部 1 个预警群"
    assert plural_forms("{n} {n:day|days}", {"n": "1"}) == "{n} day"


def test_codes_the_engines_store_have_names_in_both_languages():
    from typing import get_args

    from qunzhu.spec.base import Action
    from qunzhu.spec.positioning import MonetizationModel
    from qunzhu.spec.rules import Rules

    en = catalog("en")
    families = {
        "mod_action": [a for a in get_args(Action)],
        # who may invite and what an uninvited join gets are settings, not rules a breach names
        "rule": [n for n in Rules.model_fields if n not in ("who_may_invite", "uninvited_join")],
        "monetization": list(get_args(MonetizationModel)),
        "signal": ["burst", "quick_leave_share", "silent_share", "ring"],
    }
    missing = [f"{p}.{v}" for p, values in families.items() for v in values if f"{p}.{v}" not in en]
    assert not missing, missing


def test_names_say_codes_in_words():
    from qunzhu.demo.spec import DEMO_SPEC
    from qunzhu.http.web.names import Names
    from qunzhu.spec import load_spec

    spec = load_spec(DEMO_SPEC)
    zh = Names(translator("zh-CN"), "zh-CN", spec)
    en = Names(translator("en"), "en", spec)
    assert (zh.tier("core"), en.tier("core")) == ("核心学员", "Core member")
    assert zh.action("delete_warn") == "删除并警告"
    assert zh.action("mute_remove") == "禁言 + 移出"  # a compound the catalog has no entry for
    assert zh.code("rule", "no_such_rule") == "其他"  # never the code itself
    assert zh.signals({"burst": 16}) == "同一天有 16 人通过邀请入群"
    assert en.signals({"burst": 1, "quick_leave_share": 0.6}) == (
        "1 invitee joined on one day; 60% of the invitees left within days"
    )
    assert zh.reward("tier", "core") == "等级 核心学员"
    assert zh.reason("unknown_referral_code: referral code 'AB12' does not exist") == (
        "成员入群时使用的邀请码 AB12 不存在"
    )
    assert zh.reason("no timestamp on the line") == "no timestamp on the line"  # not coded
    assert zh.location("member 5 joined group 2 with 'AB12'") == "成员 #5 用 AB12 加入群 #2"
    assert zh.campaign("default", "裂变 (spec ladder)") == "邀请奖励阶梯（来自定位）"
    assert zh.audit_action("role.grant") == "授予角色"
    detail = {"role": "owner", "previous": None, "fingerprint": "9f8e7d"}
    assert zh.audit_detail(detail) == "角色：所有者"  # the hash is nothing to read
