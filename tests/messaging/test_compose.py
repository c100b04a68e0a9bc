from __future__ import annotations

import pytest

from qunzhu.messaging.compose import ComposeError, compose


def test_a_message_to_groups_fills_in_the_group_and_community():
    composed = compose(
        {"zh-CN": "{group} 的朋友们：{community} 周五有活动", "en": None}, to_members=False
    )
    assert composed.render("zh-CN", {"group": "一群", "community": "读书会"}) == (
        "一群 的朋友们：读书会 周五有活动"
    )


def test_the_other_language_is_used_when_one_is_missing():
    composed = compose({"zh-CN": "你好", "en": ""}, to_members=False)
    assert composed.render("en", {}) == "你好"
    both = compose({"zh-CN": "你好", "en": "hello"}, to_members=False)
    assert both.render("en", {}) == "hello"


@pytest.mark.parametrize(
    ("texts", "to_members", "field", "words"),
    [
        ({"zh-CN": "hi {nmae}"}, True, "text.zh-CN", "unknown variable {nmae}"),
        ({"zh-CN": "ok", "en": "hi {name}"}, False, "text.en", "{name} names one member"),
        ({"zh-CN": "hi {name"}, True, "text.zh-CN", "unbalanced braces"),
        ({"zh-CN": "hi {}"}, True, "text.zh-CN", "a variable needs a name"),
        ({"zh-CN": "hi {0}"}, True, "text.zh-CN", "a variable needs a name"),
        ({"zh-CN": "  ", "en": None}, False, "text", "empty"),
        ({"zh-CN": "x" * 4001}, False, "text.zh-CN", "4001 characters"),
        ({"zh-CN": "a\x00b"}, False, "text.zh-CN", "NUL"),
        ({"fr": "bonjour"}, False, "text.fr", "unknown language"),
    ],
)
def test_a_bad_text_is_named_with_its_field(texts, to_members, field, words):
    with pytest.raises(ComposeError) as caught:
        compose(texts, to_members=to_members)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_doubled_braces_are_plain_braces():
    composed = compose({"zh-CN": "格式 {{name}}: {group}"}, to_members=False)
    assert composed.render("zh-CN", {"group": "g"}) == "格式 {name}: g"
