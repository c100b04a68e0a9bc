"""Value and counters to add to the daily rollups, decided in memory and summed before one
write each (:func:`qunzhu.engines.score_writes.write_credits`): a message's own value, the
credit its author earns from replies, reactions and check-ins. Pure: nothing here reads or
writes the store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from qunzhu.spec.members import ValueWeights

STAT_COUNTERS = (
    "questions",
    "answers",
    "replies_earned",
    "reactions_earned",
    "filler",
    "duplicates",
    "valuable",
    "earned_value",
)


class Credits:
    def __init__(self) -> None:
        self.member_value: dict[tuple[int, int, int, date], float] = defaultdict(float)
        self.group_value: dict[tuple[int, int, date], float] = defaultdict(float)
        self.stats: dict[tuple[int, int, int, date], dict[str, float]] = defaultdict(
            lambda: dict.fromkeys(STAT_COUNTERS, 0)
        )
        self.edges: dict[tuple[int, int, date, int, int], int] = defaultdict(int)

    def value(self, c: int, g: int, m: int, d: date, v: float) -> None:
        if v:
            self.member_value[(c, g, m, d)] += v
            self.group_value[(c, g, d)] += v

    def count(self, c: int, g: int, m: int, d: date, name: str, n: float = 1) -> None:
        self.stats[(c, g, m, d)][name] += n


WeightsOf = Mapping[int, ValueWeights]
"""Each community's value weights, by community id (resolved before deciding)."""


@dataclass(slots=True)
class Reaction:
    """A reaction from another member to a message (event log id, where, the author)."""

    log_id: int
    community_id: int
    group_id: int
    at: datetime
    author_id: int


@dataclass(slots=True)
class CheckIn:
    check_in_id: int
    community_id: int
    group_id: int
    member_id: int
    at: datetime


def _day(at: datetime, tz: tzinfo) -> date:
    return at.astimezone(tz).date()


def reaction_credits(
    reactions: Iterable[Reaction], claimed: set[int], weights: WeightsOf, tz: tzinfo
) -> Credits:
    """A reaction not credited before (``claimed``: its marker is new) adds ``reaction`` to
    the author's value that day."""
    credits = Credits()
    for r in reactions:
        if r.log_id in claimed:
            w = weights[r.community_id].reaction
            d = _day(r.at, tz)
            credits.value(r.community_id, r.group_id, r.author_id, d, w)
            credits.count(r.community_id, r.group_id, r.author_id, d, "reactions_earned")
            credits.count(r.community_id, r.group_id, r.author_id, d, "earned_value", w)
    return credits


def check_in_credits(
    check_ins: Iterable[CheckIn], claimed: set[int], weights: WeightsOf, tz: tzinfo
) -> Credits:
    credits = Credits()
    for ci in check_ins:
        if ci.check_in_id in claimed:
            w = weights[ci.community_id].check_in
            d = _day(ci.at, tz)
            credits.value(ci.community_id, ci.group_id, ci.member_id, d, w)
            credits.count(ci.community_id, ci.group_id, ci.member_id, d, "earned_value", w)
    return credits
