"""The shipped classifier, training on an operator's file, model files and labelled files."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from qunzhu.moderation.classifier import (
    ModelError,
    SpamModel,
    load_model,
    script_of,
    shipped_model,
)
from qunzhu.moderation.evaluate import evaluate
from qunzhu.moderation.features import FeatureConfig, hash_features
from qunzhu.moderation.inspect import Inspector
from qunzhu.moderation.labelled import Example, LabelledFileError, read_labelled
from qunzhu.moderation.normalize import normalize
from qunzhu.moderation.training import TrainingError, _best_threshold, train

ADS = [
    "加微信 {} 日赚五百 稳定项目",
    "招代理 佣金日结 详情私聊 {}",
    "Win a free iPhone now! Text WIN to {}",
    "网上兼职 一单一结 联系 {}",
    "URGENT! You have won a cash prize, call {} to claim",
]
CHAT = [
    "今天的作业 {} 交了吗",
    "明天下午 {} 点开会",
    "Anyone tried kernel {} on this laptop?",
    "谢谢大家，第 {} 章看完了",
    "I think the bus leaves at {} tomorrow",
]


def _examples(n: int, seed: int = 1) -> list[Example]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        spam = i % 2 == 0
        template = rng.choice(ADS if spam else CHAT)
        out.append(Example(template.format(rng.randint(10, 99999)), spam))
    return out


def test_features_are_stable_and_stay_within_their_messages() -> None:
    config = FeatureConfig(dim_bits=12)
    one = hash_features(["abc 微信"], config)
    two = hash_features(["abc 微信", "other text"], config)
    assert np.array_equal(one.buckets, two.buckets[two.docs == 0])
    assert one.buckets.max() < config.dim
    assert hash_features([], config).counts.size == 0


def test_a_number_is_told_by_where_it_starts_and_old_files_do_without(tmp_path: Path) -> None:
    config = FeatureConfig(dim_bits=16)
    texts = ["call 09099726481 now", "call 01223585236 now", "call 09011111111 now", "ok 12"]
    hashed = hash_features(texts, config)
    bare = hash_features(texts, FeatureConfig(dim_bits=16, numbers=False))
    mine = [set(hashed.buckets[hashed.docs == d].tolist()) for d in range(len(texts))]
    plain = [set(bare.buckets[bare.docs == d].tolist()) for d in range(len(texts))]
    # every digit hashes as 0 in the n-grams: without number features the two look alike
    assert plain[0] == plain[1]
    assert mine[0] != mine[1] and mine[0] == mine[2]
    assert mine[3] == plain[3]  # two digits are no number worth a feature
    # a model file from before number features has no "numbers" in its settings
    path = tmp_path / "old.npz"
    SpamModel(np.zeros(config.dim, dtype=np.float32), 0.0, config).save(path)
    note = dict(np.load(path))
    text = bytes(note["note"]).decode().replace(', "numbers": true', "")
    note["note"] = np.frombuffer(text.encode(), dtype=np.uint8)
    np.savez(path, **note)
    assert load_model(path).config.numbers is False


def test_binary_features_count_once_per_message_and_old_files_keep_counting(
    tmp_path: Path,
) -> None:
    repeated = ["❤❤❤❤ 加我 加我 加我", "hello"]
    once = hash_features(repeated, FeatureConfig(dim_bits=12))
    every = hash_features(repeated, FeatureConfig(dim_bits=12, binary=False))
    for doc in (0, 1):
        mine = once.buckets[once.docs == doc]
        assert len(set(mine.tolist())) == len(mine) == once.counts[doc]
        assert set(mine.tolist()) == set(every.buckets[every.docs == doc].tolist())
    assert once.counts[0] < every.counts[0]
    # a model file from before binary features has no "binary" in its settings
    config = FeatureConfig(dim_bits=12, binary=False)
    path = tmp_path / "old.npz"
    SpamModel(np.zeros(config.dim, dtype=np.float32), 0.0, config).save(path)
    note = dict(np.load(path))
    text = bytes(note["note"]).decode().replace(', "binary": false', "")
    note["note"] = np.frombuffer(text.encode(), dtype=np.uint8)
    np.savez(path, **note)
    assert load_model(path).config.binary is False


def test_the_decision_point_counts_what_the_rules_catch_already() -> None:
    labels = np.array([True] * 10 + [False] * 30)
    # five sure ads, five the classifier barely sees (0.3), and two chats at 0.3 too
    scores = np.array([0.9] * 5 + [0.3] * 5 + [0.3] * 2 + [0.05] * 28)
    alone = np.zeros(40, dtype=bool)
    assert _best_threshold(labels, scores, alone) == 0.3  # going low pays alone...
    caught = alone.copy()
    caught[5:10] = True  # ...but a rule detector catches those five ads anyway
    # every point above the chats does as well then: the strictest of them
    assert _best_threshold(labels, scores, caught) == 0.9


def test_the_decision_point_keeps_within_what_background_chat_allows() -> None:
    labels = np.array([True] * 10 + [False] * 30)
    scores = np.array([0.9] * 5 + [0.3] * 5 + [0.05] * 30)
    caught = np.zeros(40, dtype=bool)
    assert _best_threshold(labels, scores, caught) == 0.3
    # a lower point would flag too much ordinary chat: only 0.6 and above are allowed
    allowed = (0.6, 0.7, 0.8)
    assert _best_threshold(labels, scores, caught, allowed=allowed) == 0.8


def test_a_lower_point_must_do_measurably_better_to_be_chosen() -> None:
    # 1,000 ads: the lower point catches one more and flags one more chat (F1 equal within
    # EQUAL_F1), so the stricter stands; catching fifty more is worth a lower point
    labels = np.array([True] * 1000 + [False] * 1000)
    caught = np.zeros(2000, dtype=bool)
    one_more = np.array([0.9] * 900 + [0.5] + [0.1] * 99 + [0.5] + [0.1] * 999)
    assert _best_threshold(labels, one_more, caught, allowed=(0.45, 0.6)) == 0.6
    fifty_more = np.array([0.9] * 900 + [0.5] * 50 + [0.1] * 50 + [0.5] + [0.1] * 999)
    assert _best_threshold(labels, fifty_more, caught, allowed=(0.45, 0.6)) == 0.45


def test_each_script_has_its_own_decision_point_and_old_files_fall_back() -> None:
    assert [script_of(t) for t in ("加微信 abc", "call now", "138 0013")] == [
        "cjk",
        "latin",
        "other",
    ]
    config = FeatureConfig(dim_bits=12)
    weights = np.zeros(config.dim, dtype=np.float32)
    three = SpamModel(
        weights, 0.0, config, {"thresholds": {"cjk": 0.5, "latin": 0.6, "other": 0.8}}
    )
    assert [three.spam_threshold(t) for t in ("加微信", "call now", "138")] == [0.5, 0.6, 0.8]
    old = SpamModel(weights, 0.0, config, {"thresholds": {"cjk": 0.55, "other": 0.75}})
    assert old.thresholds == (0.55, 0.75, 0.75)


def test_training_bounds_false_positives_on_background_chat() -> None:
    chat = [f"Anyone tried kernel {k} on this laptop? call me" for k in range(300)]
    model = train(_examples(300), background=chat, max_background_fpr=0.0)
    latin = model.thresholds[1]
    scores = model.scores([normalize(t).compact for t in chat])
    assert model.about["background"] == {"messages": 300, "max_fpr": 0.0}
    assert (scores >= latin).sum() == 0 or latin == 0.9


def test_the_shipped_model_tells_obvious_ads_from_chat() -> None:
    model = shipped_model()
    ads = model.scores(
        [
            normalize(t).compact
            for t in (
                "加微信 abc123 日赚五百 稳定项目 名额有限",
                "Free entry! Text WIN to 87121 to claim",
            )
        ]
    )
    chat = model.scores([normalize(t).compact for t in ("今天的作业交了吗", "ok see you at lunch")])
    assert ads.min() > 0.5 > chat.max()


def test_training_on_an_operators_file_round_trips(tmp_path: Path) -> None:
    model = train(_examples(200))
    path = tmp_path / "model.npz"
    model.save(path)
    again = load_model(path)
    text = normalize("招代理 佣金日结 详情私聊 12345").compact
    assert again.score(text) == pytest.approx(model.score(text), abs=1e-2)
    scores = evaluate(Inspector(model=again), _examples(100, seed=2))
    assert scores.f1 > 0.9 and scores.n == 100


def test_training_needs_both_kinds_and_enough_of_them() -> None:
    with pytest.raises(TrainingError, match="both kinds"):
        train([Example("x", True)] * 50)


def test_a_file_that_is_not_a_model_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"nope")
    with pytest.raises(ModelError, match=r"bad\.npz"):
        load_model(bad)


def test_labelled_files_in_csv_and_tsv_and_their_errors(tmp_path: Path) -> None:
    csv_file = tmp_path / "a.csv"
    csv_file.write_text('target,input\n1,"buy, now"\n0,hello\n', encoding="utf-8")
    tsv_file = tmp_path / "b.tsv"
    tsv_file.write_text("label\ttext\nspam\twin\nham\thi\n", encoding="utf-8")
    assert read_labelled(csv_file) == [Example("buy, now", True), Example("hello", False)]
    assert [e.spam for e in read_labelled(tsv_file)] == [True, False]
    wrong = tmp_path / "c.csv"
    wrong.write_text("label,text\nmaybe,hi\n", encoding="utf-8")
    with pytest.raises(LabelledFileError, match=r"c\.csv:2"):
        read_labelled(wrong)
    headless = tmp_path / "d.csv"
    headless.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(LabelledFileError, match="label column"):
        read_labelled(headless)
