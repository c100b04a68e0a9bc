"""A community layer learnt from reviews: what the operator undid stops scoring as spam,
what nobody reviewed is judged as before."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.moderation.classifier import SpamModel, load_model
from qunzhu.moderation.community_layer import LayerError, train_layer
from qunzhu.moderation.labelled import Example
from qunzhu.moderation.moderator import RuleModerator
from qunzhu.moderation.normalize import normalize
from qunzhu.pipeline import Pipeline
from qunzhu.store import Store
from qunzhu.store.models import Community, ModerationAction

# the name written in, not @-mentioned: a mention is set aside before the classifier reads
# the message (qunzhu.moderation.ordinary), and the base model must flag this one
WELCOME = "欢迎{name}加入AI编程训练营🎉 请先看群公告，把群昵称改成「姓名-城市-职业」"
SPAM = "稳赚项目 日入过万 名额有限 私聊我"


def _score(model: SpamModel, text: str) -> float:
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


def test_a_community_whose_spec_names_its_layer_is_judged_by_it(
    store: Store, tmp_path: Path
) -> None:
    base = load_model()
    undone = [Example(WELCOME.format(name=n), False) for n in ("Lucas", "Amy", "Jack", "Tina")]
    layer = tmp_path / "c1.npz"
    train_layer(base, [*undone, Example(SPAM, True)]).save(layer)
    rules = "rules:\n  classifier: {threshold_flag: 0.7, threshold_act: 0.99%s}\n"
    with store.unit_of_work() as s:
        s.add(
            Community(
                slug="own",
                name="own",
                spec_yaml="name: own\npurpose: t\n" + rules % f", model: {layer}",
            )
        )
        s.add(
            Community(
                slug="plain", name="plain", spec_yaml="name: plain\npurpose: t\n" + rules % ""
            )
        )
    at = datetime(2025, 3, 1, tzinfo=UTC)
    welcome = WELCOME.format(name="Kenji")
    assert _score(base, welcome) >= 0.7  # the base model alone would flag it
    events = [
        ev.MessagePosted(
            platform="test",
            community=slug,
            group="g",
            member="u",
            occurred_at=at,
            message_id="m1",
            text=welcome,
        )
        for slug in ("own", "plain")
    ]
    Pipeline(store, moderator=RuleModerator()).run(events, source="test")
    with store.reading() as s:
        flagged = s.scalars(
            select(Community.slug).join(
                ModerationAction, ModerationAction.community_id == Community.id
            )
        ).all()
    assert flagged == ["plain"]
