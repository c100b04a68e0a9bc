"""One group's chat being written: who is around on a day, and how a message is said there.

A :class:`Room` keeps the drafts of one group. It knows the platform's manners: Telegram
members reply to the message they answer, WeChat members sometimes quote it and otherwise
write ``@name`` in front, or simply answer close in time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from qunzhu.demo.lexicon import Lexicon, Topic
from qunzhu.demo.people import Person, Seat
from qunzhu.demo.rhythm import Clock, gap

TRAITS = ("chat", "ask", "answer", "share")


@dataclass(eq=False)
class Draft:
    seat: Seat
    at: datetime
    text: str
    kind: str = "text"
    reply_to: Draft | None = None
    mentions: tuple[Person, ...] = ()
    attachment: str | None = None
    message_id: str = ""
    unwanted: bool = False  # written as spam, flooding or an ad: what moderation should catch


@dataclass(eq=False)
class Reaction:
    seat: Seat
    at: datetime
    target: Draft
    emoji: str


@dataclass(frozen=True)
class Manner:
    """What sets one group apart: platform, language, subjects, and how its life goes."""

    gid: str
    platform: str
    lexicon: Lexicon
    topics: dict[str, float]
    abroad: float = 0.0  # share of members living in other time zones
    quote_share: float = 0.0  # WeChat answers that quote the question
    weekend: float = 0.75  # volume on Saturday and Sunday against a working day
    code: float = 0.1  # chance a technical message comes with a snippet
    pace: float = 1.0  # how talkative the group is as a whole, against the same members
    fade: Callable[[int], float] = lambda day: 1.0  # how much the group still lives, by day


class Room:
    def __init__(
        self, manner: Manner, seats: Sequence[Seat], clock: Clock, rng: random.Random
    ) -> None:
        self.manner = manner
        self.lex = manner.lexicon
        self.seats = list(seats)
        self.clock = clock
        self.rng = rng
        self.drafts: list[Draft] = []
        self.reactions: list[Reaction] = []
        self._day = -1
        self._pools: dict[str, tuple[list[Seat], list[float], float]] = {}

    @property
    def telegram(self) -> bool:
        return self.manner.platform == "telegram"

    def open_day(self, day: int) -> None:
        """Work out who is around on ``day`` and how much each is inclined to do."""
        self._day = day
        first, last = self.clock.day_start(day), self.clock.day_start(day + 1)
        here = [
            s
            for s in self.seats
            if not s.scripted and s.join_at < last and (s.leave_at is None or s.leave_at > first)
        ]
        fade = self.manner.fade(day)
        for trait in TRAITS:
            seats, cumulative, total = [], [], 0.0
            for seat in here:
                weight = getattr(seat, trait) * self._eagerness(seat, trait, first)
                if seat.persona != "kol" and seat.persona != "operator":
                    weight *= fade
                if weight > 0:
                    total += weight
                    seats.append(seat)
                    cumulative.append(total)
            self._pools[trait] = (seats, cumulative, total)

    @staticmethod
    def _eagerness(seat: Seat, trait: str, moment: datetime) -> float:
        """Newcomers ask more and chat a little more for their first two weeks."""
        days = seat.days_in(moment)
        if days < 14 and seat.persona not in ("operator", "kol"):
            return {"ask": 3.0, "chat": 1.5}.get(trait, 1.0)
        return 1.0

    def total(self, trait: str) -> float:
        return self._pools[trait][2]

    def pick(self, trait: str, at: datetime, exclude: Sequence[Seat] = ()) -> Seat | None:
        seats, cumulative, total = self._pools[trait]
        if total <= 0:
            return None
        for _ in range(6):  # a member who left an hour ago is still in the day's pool
            seat = self.rng.choices(seats, cum_weights=cumulative)[0]
            if seat.present(at) and seat not in exclude:
                return seat
        return None

    def anyone(self, at: datetime, exclude: Sequence[Seat] = ()) -> Seat | None:
        """Someone present, whatever their habits: red envelopes bring out the lurkers."""
        here = [s for s in self.seats if s.present(at) and not s.scripted and s not in exclude]
        return self.rng.choice(here) if here else None

    def topic(self) -> Topic:
        names = list(self.manner.topics)
        name = self.rng.choices(names, [self.manner.topics[n] for n in names])[0]
        return self.lex.topics[name]

    def say(
        self,
        seat: Seat,
        at: datetime,
        text: str,
        kind: str = "text",
        *,
        reply_to: Draft | None = None,
        mentions: tuple[Person, ...] = (),
        attachment: str | None = None,
        unwanted: bool = False,
    ) -> Draft | None:
        """Write a message, or nothing if the speaker is not in the group then."""
        if at >= self.clock.end or not seat.present(at):
            return None
        draft = Draft(seat, at, text, kind, reply_to, mentions, attachment, unwanted=unwanted)
        self.drafts.append(draft)
        return draft

    def reply(
        self, seat: Seat, at: datetime, text: str, target: Draft, address: float = 0.35
    ) -> Draft | None:
        """Answer ``target`` the way this platform lets people answer."""
        roll = self.rng.random()
        if self.telegram:
            return self.say(seat, at, text, reply_to=target if roll < 0.9 else None)
        if roll < self.manner.quote_share:
            return self.say(seat, at, text, "quote", reply_to=target)
        if roll < self.manner.quote_share + address and target.seat is not seat:
            person = target.seat.person
            return self.say(seat, at, f"@{person.name} {text}", mentions=(person,))
        return self.say(seat, at, text)

    def react(self, target: Draft, count: int) -> None:
        """Telegram reactions: the cheapest thanks, often from people who never write."""
        if not self.telegram:
            return
        done: list[Seat] = [target.seat]
        for _ in range(count):
            at = target.at + gap(self.rng, 900, 1.0)
            seat = self.anyone(at, exclude=done)
            if seat is None or at >= self.clock.end:
                return
            done.append(seat)
            emoji = self.rng.choice(("👍", "👍", "🔥", "🙏", "❤️", "👏"))
            self.reactions.append(Reaction(seat, at, target, emoji))
