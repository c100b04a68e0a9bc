"""The offer signs of the spam features (issue 16): currency amounts, short codes, premium
numbers, prize wording beside a number; what each adds, and what it leaves alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pytest import MonkeyPatch

from qunzhu.moderation import features
from qunzhu.moderation.classifier import SpamModel, load_model
from qunzhu.moderation.features import FeatureConfig, hash_features
from qunzhu.moderation.normalize import normalize

ON = FeatureConfig(dim_bits=18)
OFF = FeatureConfig(dim_bits=18, signs=False)


def _buckets(texts: list[str], config: FeatureConfig, views: bool = True) -> list[set[int]]:
    norms = [normalize(t) for t in texts]
    hashed = hash_features(
        [n.compact for n in norms], config, [n.text for n in norms] if views else None
    )
    return [set(hashed.buckets[hashed.docs == d].tolist()) for d in range(len(texts))]


def _signs(texts: list[str]) -> list[set[int]]:
    """The buckets each text has only with signs on."""
    return [a - b for a, b in zip(_buckets(texts, ON), _buckets(texts, OFF), strict=True)]


def test_a_currency_amount_survives_the_compact_view() -> None:
    # the compact view drops "£" and the point: only the text view still shows the amount
    assert normalize("win £2.50 now").compact == normalize("win 250 now").compact
    pound, plain = _buckets(["win £2.50 now", "win 250 now"], ON)
    assert pound != plain
    # a sign of its own for the amount, the same whatever the digits (£1000 and £5000),
    # another for another currency
    big, other, dollars = _signs(["£1000 cash", "£5000 cash", "$1000 cash"])
    assert (big & other) - dollars
    # without the text view (a caller with the compact one only) no amount is seen
    assert _buckets(["win £2.50 now"], ON, views=False) == _buckets(["win 250 now"], ON)


def test_a_short_code_offer_is_one_sign_whatever_its_words_and_number() -> None:
    first, second, plain = _signs(
        ["txt WIN to 85023 now", "send STOP to 69855", "tell him to wait"]
    )
    assert first & second  # "txt/send WORD to NNNNN", one feature for both
    assert not (first & second) <= plain
    call, landline_chat = _signs(["Call now 09061701461", "my number is 09061701461"])
    assert call - landline_chat  # "call" with a long 0… number is a sign of its own


def test_prize_wording_counts_beside_a_number_only() -> None:
    alone, beside, amount = _signs(["I won the game", "you have won 2000 points", "won £200"])
    assert not alone  # "won" alone is ordinary English: its word feature is enough
    assert beside & amount


def test_numbers_get_their_length_and_first_digit() -> None:
    # two short codes with other first digits share the coarse "five digits" feature
    a, b, year = _signs(["ringtoneking 84484", "reply 69696", "in 2017"])
    assert a & b and not (a & b) & year


def test_signs_keep_to_their_message_in_a_batch() -> None:
    texts = ["txt WIN to 85023", "hello there", "£100 prize", "ok"]
    alone = [_buckets([t], ON)[0] for t in texts]
    assert _buckets(texts, ON) == alone
    assert _signs(["hello there", "ok"]) == [set(), set()]


def test_a_model_file_from_before_signs_scores_without_them(tmp_path: Path) -> None:
    path = tmp_path / "old.npz"
    SpamModel(np.zeros(ON.dim, dtype=np.float32), 0.0, ON).save(path)
    note = dict(np.load(path))
    text = bytes(note["note"]).decode().replace(', "signs": true', "")
    note["note"] = np.frombuffer(text.encode(), dtype=np.uint8)
    np.savez(path, **note)
    assert load_model(path).config.signs is False


def test_a_rate_or_an_amount_in_words_is_a_sign() -> None:
    rate, other_rate, money, chat = _signs(
        ["only 1 pence per minute", "150p/msg", "LOST 3POUND HELP", "see you at 3 pm"]
    )
    assert rate & other_rate  # the same rate sign, whatever the number and spelling
    assert money - rate and not chat


def test_word_hashes_do_not_depend_on_the_power_table_grown_before() -> None:
    # the powers of the hash base are kept between batches and grown for a longer one;
    # longer than the first table, and letters (digits hash as 0) tell the words apart
    long = " ".join(f"w{chr(97 + k % 26)}{chr(97 + k // 26 % 26)}" for k in range(9000))
    words = FeatureConfig(dim_bits=18, ngram_min=4, ngram_max=4, shape=False, numbers=False)
    features._POWERS.clear()
    fresh = hash_features([long], words)  # a table made for it
    features._POWERS.clear()
    hash_features(["short one"], words)  # a first table, too short for the long text
    grown = hash_features(["short one", long], words)
    assert set(fresh.buckets.tolist()) == set(grown.buckets[grown.docs == 1].tolist())
    assert fresh.counts[0] > 500


def test_unordered_features_are_the_same_set_as_ordered_ones(monkeypatch: MonkeyPatch) -> None:
    # scoring takes the features of a batch in no order (a hash table finds each
    # (message, bucket) once instead of a sort); each must still be there exactly once
    monkeypatch.setattr(features, "_TABLE_FROM", 1)  # the table even for a small batch
    texts = ["txt WIN to 85023 now", "hello hello hello", "", "加微信 abc_123 了解一下", "ok"] * 40
    norms = [normalize(t) for t in texts]
    compact, views = [n.compact for n in norms], [n.text for n in norms]
    for config in (ON, FeatureConfig(dim_bits=8)):  # 8 bits: many keys share a slot
        ordered = hash_features(compact, config, views)
        loose = hash_features(compact, config, views, ordered=False)
        pairs = sorted(zip(loose.docs.tolist(), loose.buckets.tolist(), strict=True))
        assert pairs == list(zip(ordered.docs.tolist(), ordered.buckets.tolist(), strict=True))
        assert ordered.counts.tolist() == loose.counts.tolist()


def test_a_batch_scores_as_its_messages_do_one_by_one() -> None:
    model = load_model()
    texts = ["Call 09061701461 to claim £1000", "see you at lunch", "", "加 薇 信 abc_123"] * 300
    norms = [normalize(t) for t in texts]
    batch = model.scores_of(norms)  # several pieces of CHUNK_CHARS
    alone = np.array([model.scores_of([n])[0] for n in norms[:8]])
    assert np.array_equal(batch[:8], alone) and np.array_equal(batch[:4], batch[-4:])


def test_the_word_precheck_never_misses_a_prize_or_stop_word() -> None:
    import random

    from qunzhu.moderation.features import _MAY_WORD, _WORDS

    rng = random.Random(21)
    words = ["won", "winner", "wins", "prize", "claim", "awarded", "guaranteed", "reward"]
    words += ["bonus", "cash", "selected", "free entry", "urgent", "stop", "unsubscribe"]
    words += ["opt out", "optout", "entry", "free", "opt", "w", "in", "x", " ", "1", "中"]
    samples = ["".join(rng.choice(words) for _ in range(rng.randint(0, 5))) for _ in range(5000)]
    found = 0
    for text in samples:
        if _WORDS.search(text):
            found += 1
            assert _MAY_WORD.search(text), text
    assert found > 1000
