"""Near-duplicate clusters: variants of one ad fall together, different messages do not,
and a grouped split never puts one cluster on both sides."""

from __future__ import annotations

from qunzhu.moderation.corpus import split
from qunzhu.moderation.labelled import Example
from qunzhu.moderation.neardup import cluster_key, clusters, simhash

AD = "高薪兼职日结 每天两小时 在家就能做 名额有限 加微信 abc{n} 详聊 不收任何费用 欢迎咨询"


def test_an_ad_with_another_number_spacing_or_emoji_is_one_cluster() -> None:
    variants = [
        AD.format(n=123),
        AD.format(n=987).replace(" ", "  "),
        "🔥🔥 " + AD.format(n=555) + " 💰",
        "高 薪 兼 职 日 结 每天两小时 在家就能做 名额有限 加微信 abc4 详聊 不收任何费用 欢迎咨询",
    ]
    ids = clusters(variants)
    assert len(set(ids.tolist())) == 1


def test_different_messages_are_different_clusters() -> None:
    texts = [
        "how do I mount an ntfs partition at boot?",
        "try sudo apt-get install ntfs-3g and add a line to /etc/fstab",
        "今天天气不错，晚上一起去吃火锅吗",
        AD.format(n=1),
    ]
    assert len(set(clusters(texts).tolist())) == 4


def test_simhash_of_an_empty_text_is_zero_and_short_texts_hash() -> None:
    assert simhash("") == 0
    assert simhash("ok") != simhash("no")


def test_the_grouped_split_keeps_every_cluster_on_one_side() -> None:
    examples = [Example(AD.format(n=n) + " " * (n % 3), True) for n in range(40)]
    examples += [
        Example(f"normal message number {n} about {w}", False)
        for n, w in enumerate(["apt", "grub", "kernel", "wifi", "sound", "fstab"] * 5)
    ]
    train, test = split(examples, "grouped")
    assert len(train) + len(test) == len(examples)
    texts = [e.text for e in examples]
    keys = dict(zip(texts, cluster_key(texts, clusters(texts)), strict=True))
    assert not {keys[e.text] for e in train} & {keys[e.text] for e in test}
    ads = [e for e in examples if e.spam]
    assert all(e in train for e in ads) or all(e in test for e in ads)
