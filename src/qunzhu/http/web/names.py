"""Codes stored by the engines, said in the operator's language.

Pages get a :class:`Names` as ``names``: tiers and plans by the names the community's spec
gives them, everything else (moderation actions, rules, detectors, reward kinds, risk
signals, audit events, rejected-input reasons, join sources) through the message catalogs.
A code the catalogs do not know is shown as a neutral word ("other"), never as the code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from qunzhu.http.i18n import Translator
from qunzhu.spec import CommunitySpec

# "unknown_referral_code: referral code 'X' does not exist" -> code, then the detail
_CODED_REASON = re.compile(r"^([a-z][a-z0-9_]*): (.*)$", re.DOTALL)
_QUOTED = re.compile(r"'([^']*)'")
# where a refused join is kept (qunzhu.growth.join_decide.Refusal.record)
_JOIN_WHERE = re.compile(r"^member (\d+) joined group (\d+)(?: with '(.*)')?$")
_SOURCE_CODE = re.compile(r"^[a-z_]+:[a-z_]+$")


class Names:
    def __init__(self, t: Translator, lang: str, spec: CommunitySpec | None) -> None:
        self.t, self.lang, self.spec = t, lang, spec

    def _known(self, key: str, **values: Any) -> str | None:
        text = self.t(key, **values)
        return None if text == key else text

    def code(self, family: str, code: str | None, **values: Any) -> str:
        """``family.code`` from the catalogs, or the family's word for "other"."""
        if not code:
            return "–"
        return self._known(f"{family}.{code}", **values) or self.t("names.other")

    def tier(self, tier_id: str | None) -> str:
        if not tier_id:
            return "–"
        for tier in self.spec.tiers if self.spec else ():
            if tier.id == tier_id:
                english = self.lang == "en" and tier.name_en
                return tier.name_en if english else tier.name_zh
        return self._known(f"tier.{tier_id}") or tier_id

    def plan(self, plan_id: str | None) -> str:
        if not plan_id:
            return "–"
        for plan in self.spec.monetization.plans if self.spec else ():
            if plan.id == plan_id:
                return plan.name
        return plan_id

    def action(self, action: str | None) -> str:
        """A moderation action; ``delete_warn`` and other compounds by their parts."""
        if not action:
            return "–"
        whole = self._known(f"mod_action.{action}")
        if whole:
            return whole
        parts = [self._known(f"mod_action.{p}") for p in action.split("_")]
        return " + ".join(p for p in parts if p) or self.t("names.other")

    def rule(self, rule: str | None) -> str:
        return self.code("rule", rule)

    def detector(self, detector: str | None) -> str:
        return self.code("detector", detector)

    def reward(self, kind: str, value: Any) -> str:
        """A reward: its kind, then its value (a tier by its name, points as a number)."""
        shown = self.tier(str(value)) if kind == "tier" else str(value)
        return f"{self.code('reward', kind)} {shown}"

    def signals(self, signals: Any) -> str:
        """The fraud check's signals (``{"burst": 16}``) as sentences."""
        if not isinstance(signals, Mapping):
            return str(signals or "")
        said = []
        for name, value in signals.items():
            if isinstance(value, float) and value <= 1:
                value = f"{value:.0%}"
            said.append(self._known(f"signal.{name}", value=value) or self.t("names.other"))
        return self.t("names.list_sep").join(said)

    def campaign(self, slug: str, name: str) -> str:
        """The campaign the spec's ladder makes has a name of the catalog's; others their own."""
        return self.t("growth.spec_campaign") if slug == "default" else name

    def reason(self, text: str | None) -> str:
        """A stored reason of the form ``code: detail`` by the catalog's sentence for it."""
        if not text:
            return ""
        coded = _CODED_REASON.match(text)
        if not coded:
            return text
        quoted = _QUOTED.findall(coded.group(2))
        said = self._known(f"reject.{coded.group(1)}", value=quoted[0] if quoted else "")
        return said or coded.group(2)

    def label(self, family: str, code: str | None) -> str:
        """A code that is also a proper name (a payment provider): the catalog's, or as is."""
        return (self._known(f"{family}.{code}") or code) if code else "–"

    def source(self, source: str) -> str:
        """Where rejected input came from: a file as it is, an internal source by name."""
        if _SOURCE_CODE.match(source):
            return self._known(f"input_source.{source.replace(':', '_')}") or self.t("names.other")
        return source

    def location(self, text: str | None) -> str:
        joined = _JOIN_WHERE.match(text or "")
        if not joined:
            return text or ""
        member, group, code = joined.groups()
        key = "reject_where.join_code" if code else "reject_where.join"
        return self.t(key, member=member, group=group, code=code or "")

    def audit_action(self, action: str) -> str:
        return self._known(f"audit_event.{action}") or self.t("names.other")

    def audit_detail(self, detail: Mapping[str, Any] | None) -> str:
        """An audit entry's detail as "what: value" pairs, the codes in it named."""
        said = []
        for key, value in (detail or {}).items():
            if value is None or value == "":
                continue
            label = self._known(f"audit_field.{key}")
            if label is None:
                continue  # hashes, internal ids: nothing an operator reads
            said.append(f"{label}：{self._value(key, value)}" if self.lang != "en" else
                        f"{label}: {self._value(key, value)}")  # fmt: skip
        return self.t("names.list_sep").join(said)

    def _value(self, key: str, value: Any) -> str:
        if key == "rule" and isinstance(value, str):
            return self.rule(value)
        if key in ("before", "after", "status") and isinstance(value, str):
            families = ("mod_status", "reward_status", "referral_status", "order_status")
            named = (self._known(f"{family}.{value}") for family in families)
            return next((n for n in named if n), value)
        if key in ("role", "previous") and isinstance(value, str):
            return self.code("role", value)
        if key in ("tier", "previous_tier"):
            return self.tier(str(value))
        if isinstance(value, bool):
            return self.t("names.yes") if value else self.t("names.no")
        if isinstance(value, list | tuple):
            return self.t("names.list_sep").join(str(v) for v in value)
        if isinstance(value, Mapping):
            return self.t("names.list_sep").join(f"{v}" for v in value.values())
        return str(value)
