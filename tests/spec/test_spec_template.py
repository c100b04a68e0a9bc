"""The template `qunzhu spec init` writes: every section present, commented in zh and en."""

from __future__ import annotations

import re

from qunzhu.spec import CommunitySpec, lint, load_spec, template


def test_template_fills_in_every_section() -> None:
    spec = load_spec(template())
    assert spec.model_fields_set == set(CommunitySpec.model_fields)
    assert lint(spec) == []


def test_template_comments_speak_chinese_and_english() -> None:
    comments = [line.split("#", 1)[1] for line in template().splitlines() if "#" in line]
    assert len(comments) >= 30
    assert sum(bool(re.search(r"[\u4e00-\u9fff]", c)) for c in comments) >= 20
    assert sum(bool(re.search(r"[A-Za-z]{4,} [a-z]{2,}", c)) for c in comments) >= 15
