"""A community layer learnt from reviews: what the operator undid stops scoring as spam,
what nobody reviewed is judged as before."""

from __future__ import annotations

import pytest

from qunzhu.moderation.classifier import load_model
from qunzhu.moderation.community_layer import LayerError, train_layer
from qunzhu.moderation.labelled import Example
from qunzhu.moderation.normalize import normalize

WELCOME = "欢迎 @{name} 加入AI编程训练营🎉 请先看群公告，把群昵称改成「姓名-城市-职业」"
SPAM = "稳赚项目 日入过万 名额有限 私聊我"


def _score(model, text: str) -> float:
    return model.score(normalize(text).compact)


def test_undone_flags_lower_the_score_of_their_kind_and_leave_the_rest() -> None:
    base = load_model()
    undone = [Example(WELCOME.format(name=n), False) for n in ("Lucas", "Amy", "Jack", "Tina")]
    approved = [Example(SPAM + f" {n}", True) for n in range(2)]
    layered = train_layer(base, undone + approved, about={"community": "c1"})
    unseen = WELCOME.format(name="Kenji")
    assert _score(layered, unseen) < _score(base, unseen) - 0.2
    assert _score(layered, "加微信 abc123 日赚五百 稳定项目") > 0.5
    assert layered.about["community_layer"]["reviews"] == 6
    assert layered.about["thresholds"] == base.about["thresholds"]


def test_too_few_reviews_are_an_error() -> None:
    with pytest.raises(LayerError, match="at least 5 reviewed messages"):
        train_layer(load_model(), [Example(SPAM, True)])
