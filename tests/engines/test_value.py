"""Message value from features: filler, information, questions, answers, penalties."""

from __future__ import annotations

from datetime import date

import pytest

from qunzhu.engines.features import text_features
from qunzhu.engines.value import Context, decayed_sum, explain_points, score_message
from qunzhu.spec.members import ValueWeights

W = ValueWeights()


@pytest.mark.parametrize("text", ["+1", "收到", "哈哈哈哈哈", "666666", "ok", "[偷笑]", "thanks!!"])
def test_filler_messages_keep_a_tenth_of_a_point(text):
    f = text_features(text)
    assert f.filler
    assert score_message(f, Context(), W).value == pytest.approx(0.1)


@pytest.mark.parametrize("kind", ["sticker", "red_envelope"])
def test_sticker_and_red_envelope_count_as_filler(kind):
    f = text_features("", kind)
    assert f.filler and score_message(f, Context(), W).value == pytest.approx(0.1)


def test_substance_grows_with_words_and_is_capped():
    short = text_features("use the nightly build")
    long = text_features("you need to rebuild the initramfs after changing the module " * 3)
    huge = text_features("word " * 2000)
    assert 0 < short.substance < long.substance <= huge.substance == 1.5


def test_code_link_and_question_add_their_weights():
    plain = score_message(text_features("I think the driver is the problem here"), Context(), W)
    code = score_message(text_features("run `sudo modprobe -r iwlwifi` then reload"), Context(), W)
    link = score_message(
        text_features("see https://wiki.ubuntu.com/Wifi for the steps"), Context(), W
    )
    assert code.points["code"] == W.code and code.value > plain.value
    assert link.points["link"] == W.link
    question = text_features("怎么把 RAG 的召回率提上去？")
    assert question.question
    assert score_message(question, Context(), W).points["question"] == W.question


def test_answer_to_another_members_question_earns_the_answer_weight():
    f = text_features("set chunk size to 500 tokens with 50 overlap")
    assert score_message(f, Context(answer=True), W).points["answer"] == W.answer
    assert "answer" not in score_message(f, Context(), W).points


def test_duplicate_and_flagged_messages_are_worth_nothing():
    f = text_features("join my channel for free signals")
    dup = score_message(f, Context(duplicate=True), W)
    assert dup.value == 0 and dup.points["duplicate"] < 0
    assert score_message(f, Context(flagged=True), W).value == 0


def test_weights_come_from_the_spec():
    f = text_features("look at this https://example.com/a")
    heavy = ValueWeights(link=5.0)
    assert score_message(f, Context(), heavy).value > score_message(f, Context(), W).value + 4


def test_explanation_names_each_point_in_both_languages():
    scored = score_message(text_features("try `apt-get install -f` ?"), Context(answer=True), W)
    en = explain_points(scored.points, "en")
    zh = explain_points(scored.points, "zh-CN")
    assert any("answers another member's question" in line for line in en)
    assert any("回答他人问题" in line for line in zh)


def test_member_value_halves_every_half_life():
    today = date(2026, 3, 31)
    days = [(date(2026, 3, 1), 10.0), (today, 1.0)]
    assert decayed_sum(days, today, 30.0) == pytest.approx(10 * 0.5 + 1)
    assert decayed_sum([(date(2026, 4, 2), 5.0)], today, 30.0) == 0  # the future counts nothing


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("then sudo apt-get install it", True),
        ("aptitude is fine", False),  # a keyword needs a space after it
        ("try foo-apt install", True),  # a word boundary after a dash
        ("edit ~/x and see", True),
        ("a~/b is not a path", False),  # a path starts the text or follows a space
        ("look in /etc/fstab for it", True),
        ("look in x/etc/fstab for it", False),
        ("open xorg.conf please", True),
        ("the .conf files", False),  # a file name needs a name before the dot
        ("if (x) { y", False),
        ("if (x) { y; }", True),
        ("$ ls -la", True),
        ("plain words, no code at all", False),
    ],
)
def test_code_is_what_a_shell_keyword_path_file_name_or_mark_shows(text, code):
    assert text_features(text).code is code
