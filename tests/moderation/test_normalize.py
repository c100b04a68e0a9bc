"""Normalization undoes the evasions spammers use and keeps the way back to the original."""

from __future__ import annotations

import pytest

from qunzhu.moderation.normalize import normalize


@pytest.mark.parametrize(
    ("written", "compact"),
    [
        ("加 薇 信 abc_123", "加微信abc_123"),
        ("V❤X: hello_99", "微信 hello_99"),
        ("聯繫我 1️⃣3️⃣8️⃣ 0013 8000", "联系我13800138000"),
        ("需要的-家-752753636是-企-鹅", "需要的家752753636是qq"),
        ("𝐟𝐫𝐞𝐞 ｍｏｎｅｙ", "free money"),
        ("f.r.e.e m o n e y now", "freemoney now"),
        ("Ｖ Ｘ ①②③④⑤⑥", "微信 123456"),
        ("扣扣 1234567", "qq1234567"),
        ("进群🐧 12345678", "进群qq 12345678"),
        ("раураl", "paypal"),
        ("w\u200bx\u200d：ab\u2060c123", "微信 abc123"),
    ],
)
def test_evasions_become_one_form(written: str, compact: str) -> None:
    assert normalize(written).compact == compact


@pytest.mark.parametrize(
    ("written", "compact"),
    [
        # letters of other scripts that Unicode's confusables data says look like Latin ones
        ("yօսr prıze", "your prize"),
        ("ᏟᏞᎪᎥᎷ now", "claim now"),
        # Hangul fillers are default-ignorable: drawn as nothing; a braille blank is a space
        ("wi\u3164nner t\uffa0ext", "winner text"),
        ("hello\u2800world", "hello world"),
        # a symbol between two letters breaks no word; with a space beside it, it does
        ("cl🔥aim f•r•e•e", "claim free"),
        ("hello 🙂 world", "hello world"),
    ],
)
def test_general_unicode_tricks_are_undone(written: str, compact: str) -> None:
    assert normalize(written).compact == compact


def test_chinese_text_and_its_symbols_are_left_alone_by_the_look_alike_table() -> None:
    assert normalize("口丨一二三").compact == "口丨一二三"
    assert normalize("价格💰100").compact == "价格100"


def test_plain_words_keep_their_spaces_and_are_not_mistaken_for_contact_words() -> None:
    assert normalize("I am a cat").compact == "i am a cat"
    assert normalize("wxpython and vxlan").compact == "wxpython and vxlan"


@pytest.mark.parametrize(
    "written", ["加 薇 信 abc_123", "聯繫我 1️⃣3️⃣8️⃣ 0013 8000", "进群🐧 12345678", "ｑｑ：１２３４５６"]
)
def test_evidence_maps_back_to_the_original_text(written: str) -> None:
    norm = normalize(written)
    assert norm.evidence("compact", 0, len(norm.compact)) == written.strip()
    start = norm.compact.index("qq") if "qq" in norm.compact else 0
    first, last = norm.span("compact", start, start + 2)
    assert 0 <= first < last <= len(written)


def test_a_canonical_word_points_at_the_written_variant() -> None:
    norm = normalize("请加 薇 信 abc")
    at = norm.compact.index("微信")
    assert norm.evidence("compact", at, at + 2) == "薇 信"


@pytest.mark.parametrize("odd", ["", "   ", "\ud800\udfff\ud800", "\x00\x01", "(((((" * 1000])
def test_odd_input_never_raises(odd: str) -> None:
    norm = normalize(odd)
    assert isinstance(norm.compact, str)
    assert norm.span("compact", 0, 5) == norm.span("compact", 0, 5)


def test_a_hundred_kilobyte_message_is_normalized_whole() -> None:
    norm = normalize("微信 abc123 " * 10_000)
    assert norm.compact.count("微信") == 10_000


def _slow_compact(text: str) -> str:
    from qunzhu.moderation.normalize import _mapped_compact

    return _mapped_compact(text)[0]


def test_the_fast_compact_view_equals_the_one_built_with_its_map() -> None:
    import random

    from qunzhu.moderation.evasion import evade

    rng = random.Random(4)
    samples = [
        "加 薇 信 abc_123",
        "f.r.e.e m o n e y now",
        "I am a cat",
        "12:30 - 14:45",
        "ok...  再见!!",
        "+v 186 7683 3260",
        "@bob hi",
        " - 加 - ",
        "a",
        "",
    ]
    samples += [evade(s, rng) for s in samples for _ in range(20)]
    for sample in samples:
        norm = normalize(sample)
        assert norm.compact == _slow_compact(norm.text), sample


@pytest.mark.shared_data
def test_the_fast_compact_view_matches_on_real_messages(shared_data) -> None:
    import csv

    path = shared_data / "spam" / "zh-telegram-groups.train.csv"
    with path.open(encoding="utf-8") as handle:
        texts = [row["input"] for row in csv.DictReader(handle)][:3000]
    assert all(normalize(t).compact == _slow_compact(normalize(t).text) for t in texts)


def test_long_separator_runs_are_joined_or_kept_as_one_space() -> None:
    # a run of tens of thousands of separators is read once, not again from each character
    assert normalize("ab" + "-" * 20_000 + "cd").compact == "ab cd"
    assert normalize("加" + "-" * 20_000 + "x").compact == "加x"
    assert normalize("1" + " " * 20_000 + "2").compact == "12"
    assert normalize("-" * 40_000).compact == ""
    norm = normalize("ab" + " -" * 10_000 + "cd")
    assert norm.compact == "ab cd" and norm.evidence("compact", 0, 5) == norm.original


@pytest.mark.parametrize(
    ("written", "compact"),
    [
        # a digit that stands for a letter between two letters, and then the token's ends
        ("W1N a pr1z3, it's fr3e", "win a prize it s free"),
        ("c0st 57op n0w", "cost 57op now"),
        # accents and marks on Latin letters: the base letter
        ("ćlàím yóur prìzé", "claim your prize"),
        ("Café", "cafe"),
        # a half-width mark alone folds to a combining mark: dropped like one
        ("cl\uff9faim", "claim"),
        # Chinese numerals for digits: among Latin text, or a long run among Chinese
        ("Call 〇八四四 八六一 now", "call 0844861 now"),
        ("加我一三八零零一三八零零零", "加我13800138000"),
        ("txt WIN to 捌柒壹贰壹", "txt win to 87121"),
        # a numeral with Chinese text beside it, past an emoji, is a word
        ("五🐎你可以", "五你可以"),
    ],
)
def test_swapped_characters_are_undone(written: str, compact: str) -> None:
    assert normalize(written).compact == compact


@pytest.mark.parametrize(
    "written",
    [
        # versions, architectures, codecs, ordinals, addresses and hashes are no leet
        "python3 x86_64 mp3 ipv4 h264 and 1st 3rd win7",
        "0x1f3a a3f41bc deadbeef sx111505zq",
        # a digit beside a contact word in an id stays: the contact word is still found
        "1飞机3飞机1hs",
        "user@example com",
        # Chinese numerals that are words among Chinese text
        "一下三个第一五一",
        # Japanese kana keep their marks
        "ガイド",
    ],
)
def test_what_is_no_evasion_stays_as_it_is(written: str) -> None:
    assert normalize(written).compact == written


@pytest.mark.parametrize("written", ["W1N a pr1z3", "Call 〇八四四 八六一", "ćlàím nów"])
def test_swapped_characters_map_back_to_what_was_written(written: str) -> None:
    norm = normalize(written)
    assert norm.evidence("compact", 0, len(norm.compact)) == written
    first = norm.compact.split(" ")[0]
    assert norm.evidence("compact", 0, len(first)) == written.split(" ")[0]


def test_the_ascii_join_pattern_joins_what_the_full_one_joins_in_ascii_text() -> None:
    import random

    from qunzhu.moderation.normalize import _JOIN, _JOIN_ASCII, _RUNS, _RUNS_ASCII

    rng = random.Random(16)
    pieces = ["a", "b", "ab", "free", "1", "23", "456", "+", "@x", "_", " ", "  ", "-", ".", "\t"]
    samples = ["f.r.e.e", "v x", "138 0013 8000", "12:30 - 14:45", "I am a cat", " a ", "a.b c"]
    samples += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    for text in samples:
        assert text.isascii()
        assert _JOIN_ASCII.sub("", text) == _JOIN.sub("", text), text
        fast = [(m.span(), m.group(1)) for m in _RUNS_ASCII.finditer(text)]
        assert fast == [(m.span(), m.group(1)) for m in _RUNS.finditer(text)], text


def test_the_ascii_compact_shortcut_agrees_with_the_regular_expressions() -> None:
    import random

    from qunzhu.moderation.normalize import _JOIN_ASCII, _WORDISH, _ascii_compact

    rng = random.Random(17)
    pieces = ["a", "b", "ab", "Free", "1", "23", "456", "+", "@x", "_", " ", "  ", "-", ".", "\t"]
    pieces += ["\n", "\x00", "\x7f", "!", "~", "i", "9", "x9", "é"]
    samples = ["f.r.e.e", "v x", "138 0013 8000", "12:30 - 14:45", "I am a cat", " a ", "", "a"]
    samples += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 14))) for _ in range(5000)]
    shortcut = 0
    for text in (s.lower() for s in samples if s.isascii()):
        expected = " ".join(_WORDISH.findall(_JOIN_ASCII.sub("", text)))
        got = _ascii_compact(text)
        assert got is None or got == expected, text
        shortcut += got is not None
        if got is None:  # said to be joinable: the pattern does join something
            assert _JOIN_ASCII.search(text), text
    assert shortcut > 1000


def test_the_numeral_run_pattern_finds_what_its_first_form_found() -> None:
    import random
    import re

    from qunzhu.moderation.normalize import _CJK, _NUMERAL_RUN, _NUMERALS, MIN_NUMERAL_RUN

    first = re.compile(
        f"[{_NUMERALS}]{{{MIN_NUMERAL_RUN},}}|(?<![{_CJK}])[{_NUMERALS}]+(?![{_CJK}])"
    )
    rng = random.Random(20)
    pieces = [*"一二三〇零五八九", "个", "下", "a", "1", " ", "-", "！", "你", "ア"]
    samples = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))) for _ in range(8000)]
    for text in samples:
        assert [m.span() for m in _NUMERAL_RUN.finditer(text)] == [
            m.span() for m in first.finditer(text)
        ], text


def test_the_evidence_map_is_the_map_built_with_the_compact_view() -> None:
    import random

    from qunzhu.moderation.normalize import _mapped_compact, _segments

    rng = random.Random(23)
    pieces = ["薇信", "相信", "开心", "v信", "wx", "扣扣", "tg", "电报", "a", "1", "3", " ", "-"]
    pieces += ["微", "x", "xin", "qq", "fr3e", "加", "群", "。", "abc", "\u200b", "Ｖ"]
    samples = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 10))) for _ in range(4000)]
    for written in samples:
        text = normalize(written).text
        assert _segments(text) == _mapped_compact(text)[1], written


def test_the_uneven_characters_are_found_as_the_set_finds_them() -> None:
    import random

    from qunzhu.moderation.normalize import _FoldTable

    rng = random.Random(13)
    # ligatures, ß, combining marks, enclosed and full-width forms, CJK, plain ASCII
    alphabet = "ﬁﬂßẞŉǰ\u0301\u0336①⑴㈱㍿ＡＢ１２加微信群abc 123.,!İ😀\u200b"
    table = _FoldTable()
    assert not table.any_uneven("ﬁ")  # nothing seen yet: nothing known to be uneven
    seen = 0
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        text.translate(table)  # the table learns the characters it translates
        assert table.any_uneven(text) == (not table.uneven.isdisjoint(text)), text
        seen += table.any_uneven(text)
    assert seen > 1000 and len(table.uneven) >= 5
