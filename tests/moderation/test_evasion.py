"""Synthetic evasions of contact offers and invitations are still caught."""

from __future__ import annotations

import random

import pytest

from qunzhu.moderation.evasion import TRICKS, evade
from qunzhu.moderation.inspect import Inspector

OFFERS = [
    "想赚钱的加我微信 abc_8899 详聊",
    "有意者联系 13912345678",
    "加QQ 12345678 带你赚钱",
    "进群 https://t.me/joinchat/AbCdEfGh",
]


@pytest.fixture(scope="module")
def inspector() -> Inspector:
    return Inspector()


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_each_trick_alone_is_undone(inspector: Inspector, trick: str) -> None:
    rng = random.Random(3)
    for offer in OFFERS:
        evaded = TRICKS[trick](offer, rng)
        decision = inspector.check(evaded)
        assert decision.spam, (trick, evaded, decision.as_dict())


def test_two_tricks_at_once_are_undone_too(inspector: Inspector) -> None:
    rng = random.Random(11)
    missed = [
        e
        for offer in OFFERS
        for e in (evade(offer, rng) for _ in range(25))
        if not inspector.check(e).spam
    ]
    assert len(missed) <= 2, missed
