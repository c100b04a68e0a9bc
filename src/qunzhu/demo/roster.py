"""Who joins a group, when, through whom, and when they leave.

Joins are laid out in time order so that an inviter is always someone already in the group;
leaves are drawn day by day from a hazard that each group's story supplies.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from qunzhu.demo.people import Names, Person, Seat, habits
from qunzhu.demo.rhythm import DAYS, Clock, poisson

Hazard = Callable[[Seat, int], float]
PersonaDraw = Callable[[random.Random, bool], str]  # (rng, founder) -> persona


@dataclass
class Payment:
    seat: Seat | None
    person: Person
    applied_at: datetime | None
    paid_at: datetime | None
    plan: str = "annual"
    amount_cents: int = 69900


@dataclass
class Cast:
    """Everyone in the sample, by group id, plus the people the story needs by name."""

    seats: dict[str, list[Seat]] = field(default_factory=dict)
    owner: dict[str, Seat] = field(default_factory=dict)  # who removes spam, per group
    helper: dict[str, Seat] = field(default_factory=dict)  # who welcomes and reminds
    kols: dict[str, list[Seat]] = field(default_factory=dict)
    spammers: dict[str, list[Seat]] = field(default_factory=dict)
    flooder: Seat | None = None
    flood_times: list[datetime] = field(default_factory=list)
    promoter: Seat | None = None
    promo_times: list[datetime] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)


class Builder:
    """Shared steps for laying out one group's members."""

    def __init__(self, rng: random.Random, clock: Clock, names: Names) -> None:
        self.rng = rng
        self.clock = clock
        self.names = names
        self.link_codes: dict[str, str] = {}

    def seat(
        self,
        seats: list[Seat],
        person: Person,
        persona: str,
        join_at: datetime,
        via: str,
        inviter: Person | None = None,
        code: str | None = None,
    ) -> Seat:
        seat = Seat(
            person=person,
            persona=persona,
            join_at=join_at,
            via=via,
            inviter=inviter,
            invite_code=code,
        )
        habits(seat, self.rng)
        seats.append(seat)
        return seat

    def inviter(self, seats: Sequence[Seat], moment: datetime) -> Seat | None:
        """Someone in the group at ``moment``, chosen by how much they bring people in."""
        here = [s for s in seats if s.present(moment) and s.refer > 0 and not s.scripted]
        if not here:
            return None
        return self.rng.choices(here, [s.refer for s in here])[0]

    def link_code(self, person: Person) -> str:
        """A member's own named Telegram invite link, the same one every time."""
        if person.user_id not in self.link_codes:
            chars = string.ascii_letters + string.digits
            self.link_codes[person.user_id] = "+" + "".join(
                self.rng.choice(chars) for _ in range(16)
            )
        return self.link_codes[person.user_id]

    def moments(
        self, per_day: Callable[[int], float], first: int, last: int, abroad: float = 0.0
    ) -> list[datetime]:
        out: list[datetime] = []
        for day in range(first, last + 1):
            curve = self.clock.curve(day, abroad)
            out.extend(
                self.clock.moment(self.rng, day, curve)
                for _ in range(poisson(self.rng, per_day(day)))
            )
        return sorted(out)

    def founders(
        self, count: int, weights: Sequence[float], start: datetime, abroad: float = 0.0
    ) -> list[datetime]:
        """The opening wave: most people arrive in the first days after the group opens."""
        out: list[datetime] = []
        for _ in range(count):
            day = self.rng.choices(range(len(weights)), weights)[0]
            moment = self.clock.moment(self.rng, day, self.clock.curve(day, abroad))
            out.append(max(moment, start + timedelta(minutes=self.rng.randrange(20, 240))))
        return sorted(out)

    def fill(
        self,
        seats: list[Seat],
        moments: Sequence[datetime],
        platform: str,
        draw: PersonaDraw,
        via: Callable[[Seat | None], tuple[str, Person | None, str | None]],
        founder_until: datetime,
    ) -> None:
        for moment in moments:
            helper = self.inviter(seats, moment)
            how, inviter, code = via(helper)
            persona = draw(self.rng, moment < founder_until)
            self.seat(seats, self.names.person(platform), persona, moment, how, inviter, code)

    def leaves(self, seats: Sequence[Seat], hazard: Hazard) -> None:
        """Draw a leave for each seat still open, day by day, from the group's hazard.

        Nobody leaves before the last person they brought in arrived: the inviter was
        chosen among those present, and must stay so."""
        last_invite: dict[str, datetime] = {}
        for seat in seats:
            if seat.inviter is not None:
                before = last_invite.get(seat.inviter.user_id, seat.join_at)
                last_invite[seat.inviter.user_id] = max(before, seat.join_at)
        for seat in seats:
            if seat.leave_at is not None or seat.persona == "operator" or seat.scripted:
                continue
            held = last_invite.get(seat.person.user_id, seat.join_at)
            for day in range(self.clock.day_of(max(seat.join_at, held)) + 1, DAYS):
                if self.rng.random() < hazard(seat, day):
                    moment = self.clock.moment(self.rng, day)
                    seat.leave_at = max(moment, seat.join_at + timedelta(hours=6))
                    break

    def spammer(
        self,
        seats: list[Seat],
        platform: str,
        day: int,
        remover: Seat | None,
        delay_minutes: tuple[int, int],
        via: str = "qr",
    ) -> Seat:
        """An account that joins to advertise; ``remover`` None means nobody ever acts."""
        join_at = self.clock.moment(self.rng, day, hours=(9, 23))
        inviter = None
        if via == "invite":  # a naive member pulled them in
            helper = self.inviter(seats, join_at)
            inviter = helper.person if helper is not None else None
            via = "invite" if inviter is not None else "qr"
        seat = self.seat(seats, self.names.person(platform), "spammer", join_at, via, inviter)
        seat.scripted = True
        if remover is not None:
            seat.leave_at = join_at + timedelta(minutes=self.rng.randrange(*delay_minutes))
            seat.leave_reason = "removed"
            seat.remover = remover.person
        return seat

    def checkins(self, seats: Sequence[Seat], shares: dict[str, float]) -> None:
        for seat in seats:
            seat.checkins = self.rng.random() < shares.get(seat.persona, 0.0)


def persona_draw(founder_mix: tuple[float, float], later_mix: tuple[float, float]) -> PersonaDraw:
    """Core and active shares for founders and for later joiners; the rest lurk."""

    def draw(rng: random.Random, founder: bool) -> str:
        core, active = founder_mix if founder else later_mix
        roll = rng.random()
        return "core" if roll < core else "active" if roll < core + active else "lurker"

    return draw
