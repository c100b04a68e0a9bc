"""The three groups' stories as rosters.

- ``wx-main`` opens with a wave, keeps growing through referrals and the public QR code,
  and is kept clean: spammers are removed within the hour, a flooder is warned, then removed.
- ``wx-advanced`` is the paid group: members apply, pay, and are pulled in by the operators;
  few leave.
- ``tg-english`` leans on one KOL. He leaves on day 55; afterwards nobody joins, the core
  drifts off and members leave, and the last spammer is never removed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from qunzhu.demo.people import Names, Person, Seat
from qunzhu.demo.rhythm import Clock
from qunzhu.demo.roster import Builder, Cast, Payment, persona_draw

KOL_DAY = 55  # the day tg-english loses the one member who answered its questions

MAIN_KOLS = ("老K｜全栈工程师", "Cathy陈-算法-杭州", "王磊-大模型应用-北京", "Frank｜Agent开发")
LATE = {"lurker": 0.0012, "active": 0.0004, "core": 0.0001}


def build_cast(seed: int, clock: Clock) -> Cast:
    rng = random.Random(f"{seed}:cast")
    builder = Builder(rng, clock, Names(random.Random(f"{seed}:names")))
    cast = Cast()
    _main(builder, cast)
    _advanced(builder, cast)
    _english(builder, cast)
    return cast


Via = Callable[[Seat | None], tuple[str, Person | None, str | None]]


def _wechat_via(b: Builder, share: float) -> Via:
    def via(helper: Seat | None) -> tuple[str, Person | None, str | None]:
        if helper is not None and b.rng.random() < share:
            return "invite", helper.person, None
        return "qr", None, None

    return via


def _main(b: Builder, cast: Cast) -> None:
    rng, clock, names = b.rng, b.clock, b.names
    seats: list[Seat] = []
    start = clock.at(0, 10.0)
    leo, momo = names.person("wechat", "Leo（群主）"), names.person("wechat", "小助手Momo")
    momo.bot = True  # the group's assistant bot: invites many, ranks for nothing
    owner = b.seat(seats, leo, "operator", start, "self")
    helper = b.seat(seats, momo, "operator", start + timedelta(minutes=2), "invite", leo)
    kols = [
        b.seat(
            seats,
            names.person("wechat", n),
            "kol",
            start + timedelta(minutes=9 + 7 * i),
            "invite",
            leo,
        )
        for i, n in enumerate(MAIN_KOLS)
    ]
    kols[0].refer = 5.0  # 老K brings readers of his column along
    amy = b.seat(
        seats,
        names.person("wechat", "Amy林-产品-上海"),
        "core",
        start + timedelta(minutes=47),
        "invite",
        kols[0].person,
    )
    amy.refer = 9.0  # the member who will climb the referral ladder
    jason = b.seat(
        seats, names.person("wechat", "Jason-前端-深圳"), "active", clock.at(1, 20.4), "qr"
    )
    jason.refer = 3.5
    b.fill(
        seats,
        b.founders(160, (45, 20, 12, 8, 6, 5, 4), start),
        "wechat",
        persona_draw((0.07, 0.18), (0.02, 0.18)),
        _wechat_via(b, 0.45),
        clock.at(7, 0),
    )
    b.fill(
        seats,
        b.moments(lambda d: 1.3 + d / 90, 7, 89),
        "wechat",
        persona_draw((0.07, 0.18), (0.02, 0.18)),
        _wechat_via(b, 0.5),
        clock.at(7, 0),
    )
    flood_at = clock.at(18, 20.7)
    flooder = b.seat(
        seats,
        names.person("wechat"),
        "flooder",
        flood_at,
        "invite",
        (b.inviter(seats, flood_at) or amy).person,
    )
    cast.flood_times = [clock.at(d, 21.0 + rng.random() / 3) for d in (30, 44, 58)]
    flooder.leave_at = cast.flood_times[-1] + timedelta(minutes=6)
    flooder.leave_reason, flooder.remover = "removed", leo
    _fraud_burst(b, seats)
    cast.spammers["wx-main"] = [
        b.spammer(
            seats, "wechat", day, (owner, helper)[i % 2], (4, 45), "invite" if i in (1, 3) else "qr"
        )
        for i, day in enumerate((12, 27, 41, 63, 80))
    ]

    def hazard(seat: Seat, day: int) -> float:
        fresh = 0.002 if seat.days_in(clock.day_start(day)) < 14 else 0.0
        return LATE.get(seat.persona, 0.0) + fresh

    b.leaves(seats, hazard)
    b.checkins(seats, {"core": 0.7, "active": 0.35, "lurker": 0.03, "kol": 0.25})
    cast.seats["wx-main"], cast.owner["wx-main"], cast.helper["wx-main"] = seats, owner, helper
    cast.kols["wx-main"], cast.flooder = kols, flooder


def _fraud_burst(b: Builder, seats: list[Seat]) -> None:
    """One member brings in eight accounts at night that never speak and soon leave."""
    rng, clock = b.rng, b.clock
    actives = [s for s in seats if s.persona == "active" and s.join_at < clock.at(7, 0)]
    farmer = rng.choice(actives)
    names = (
        f"用户{rng.randrange(1000, 9999)}",
        f"a{rng.randrange(100000, 999999)}",
        "🌸",
        "星辰大海",
        f"wx{rng.randrange(10000, 99999)}",
        "A.",
        "开心就好",
        "Lucky",
    )
    for i, name in enumerate(names):
        moment = clock.at(38, 23.2) + timedelta(minutes=2 * i, seconds=rng.randrange(60))
        fake = b.seat(
            seats, b.names.person("wechat", name), "lurker", moment, "invite", farmer.person
        )
        fake.scripted = True
        fake.leave_at = clock.moment(rng, rng.randrange(41, 46))


def _advanced(b: Builder, cast: Cast) -> None:
    rng, clock, names = b.rng, b.clock, b.names
    main = cast.seats["wx-main"]
    seats: list[Seat] = []
    start = clock.at(1, 14.0)
    leo, momo = cast.owner["wx-main"].person, cast.helper["wx-main"].person
    owner = b.seat(seats, leo, "operator", start, "self")
    helper = b.seat(seats, momo, "operator", start + timedelta(minutes=1), "invite", leo)
    here = [s for s in main if s.present(start) and not s.scripted]
    chosen = cast.kols["wx-main"][:2]
    for persona, count in (("core", 10), ("active", 18)):
        pool = [s for s in here if s.persona == persona]
        chosen += rng.sample(pool, min(count, len(pool)))
    moments = b.founders(len(chosen) + 65, (0, 50, 30, 20), start)
    draw = persona_draw((0.10, 0.30), (0.08, 0.30))
    kols = []
    for i, moment in enumerate(moments):
        if i < len(chosen):
            was = chosen[i].persona
            persona = was if was != "active" or rng.random() > 0.3 else "core"
            person = chosen[i].person
        else:
            person = names.person("wechat", "周博士-NLP" if i == len(chosen) else None)
            persona = "kol" if i == len(chosen) else draw(rng, True)
        seat = b.seat(seats, person, persona, moment, "invite", rng.choice((leo, momo)))
        if persona == "kol":
            kols.append(seat)
    for moment in b.moments(lambda d: 0.22, 5, 88):
        _paid_joiner(b, cast, seats, _working(main, moment), moment, momo)
    for day in (40, 75):  # renewals from members whose plan ran out
        paid = clock.moment(rng, day, hours=(9, 23))
        seat = rng.choice(_working(seats, paid))
        cast.payments.append(Payment(seat, seat.person, None, paid))
    for i in range(4):  # applied, never paid: the peripheral members
        person = rng.choice(here).person if i < 2 else names.person("wechat")
        applied = clock.moment(rng, rng.randrange(10, 86), hours=(8, 24))
        cast.payments.append(Payment(None, person, applied, None))
    promoter = rng.choice([s for s in seats[len(chosen) + 3 :] if s.persona == "active"])
    cast.promo_times = [clock.at(d, 20.1 + rng.random() / 4) for d in (40, 47)]
    promoter.leave_at = cast.promo_times[-1] + timedelta(minutes=9)
    promoter.leave_reason, promoter.remover = "removed", leo
    b.leaves(seats, lambda s, d: {"lurker": 0.0006, "active": 0.0002}.get(s.persona, 0.0001))
    b.checkins(seats, {"core": 0.5, "active": 0.3, "kol": 0.2})
    cast.seats["wx-advanced"], cast.owner["wx-advanced"] = seats, owner
    cast.helper["wx-advanced"], cast.kols["wx-advanced"] = helper, kols
    cast.promoter = promoter


def _working(seats: list[Seat], moment: datetime) -> list[Seat]:
    return [s for s in seats if s.present(moment) and s.persona in ("core", "active")]


def _paid_joiner(
    b: Builder,
    cast: Cast,
    seats: list[Seat],
    candidates: list[Seat],
    moment: datetime,
    momo: Person,
) -> None:
    """Apply, pay, get pulled in: the threshold of the paid group, step by step."""
    rng = b.rng
    inside = {s.person.user_id for s in seats}
    candidates = [s for s in candidates if s.person.user_id not in inside]
    if candidates and rng.random() < 0.35:
        person = rng.choice(candidates).person
    else:
        person = b.names.person("wechat")
    seat = b.seat(
        seats, person, persona_draw((0.08, 0.3), (0.08, 0.3))(rng, False), moment, "invite", momo
    )
    applied = moment - timedelta(days=rng.uniform(1.2, 3.5))
    paid = moment - timedelta(hours=rng.uniform(0.5, 10))
    annual = rng.random() < 0.75
    cast.payments.append(
        Payment(
            seat,
            person,
            applied,
            paid,
            "annual" if annual else "quarterly",
            69900 if annual else 19900,
        )
    )


def _english(b: Builder, cast: Cast) -> None:
    rng, clock, names = b.rng, b.clock, b.names
    seats: list[Seat] = []
    start = clock.at(0, 9.0)
    leo = names.person("telegram", "Leo | AI Coding Bootcamp")
    owner = b.seat(seats, leo, "operator", start, "self")
    david = b.seat(
        seats,
        names.person("telegram", "David Liu"),
        "kol",
        start + timedelta(minutes=20),
        "invite",
        leo,
    )
    david.answer, david.share = 20.0, 2.0  # the group's one real helper
    david.leave_at = clock.at(KOL_DAY, 21.7)
    for i in range(5):
        core = b.seat(
            seats, names.person("telegram"), "core", start + timedelta(hours=1 + 5 * i), "link"
        )
        core.answer *= 0.6

    def via(helper: Seat | None) -> tuple[str, Person | None, str | None]:
        roll = rng.random()
        if helper is not None and roll < 0.35:
            return "link", helper.person, b.link_code(helper.person)
        if helper is not None and roll < 0.45:
            return "invite", helper.person, None
        return "link", None, None

    draw = persona_draw((0.02, 0.25), (0.01, 0.22))
    b.fill(
        seats,
        b.founders(118, (30, 18, 12, 9, 7, 6, 5, 4, 3, 3), start, 0.5),
        "telegram",
        draw,
        via,
        clock.at(10, 0),
    )
    b.fill(
        seats,
        b.moments(lambda d: 1.6 if d < 35 else 0.8 if d < KOL_DAY else 0.12, 10, 89, 0.5),
        "telegram",
        draw,
        via,
        clock.at(10, 0),
    )
    cast.spammers["tg-english"] = [
        b.spammer(seats, "telegram", 16, owner, (20, 90), "link"),
        b.spammer(seats, "telegram", 38, owner, (20, 90), "link"),
        b.spammer(seats, "telegram", 66, owner, (2600, 3200), "link"),  # noticed two days on
        b.spammer(seats, "telegram", 79, None, (0, 1), "link"),  # nobody is looking any more
    ]

    def hazard(seat: Seat, day: int) -> float:
        late = day >= KOL_DAY
        base = {"lurker": (0.0012, 0.012), "active": (0.0005, 0.014), "core": (0.0002, 0.02)}.get(
            seat.persona, (0.0, 0.0)
        )[late]
        if seat.days_in(clock.day_start(day)) < 14:
            base += 0.05 if late else 0.002
        return base

    b.leaves(seats, hazard)
    b.checkins(seats, {"core": 0.6, "active": 0.3, "kol": 0.3})
    cast.seats["tg-english"], cast.owner["tg-english"] = seats, owner
    cast.helper["tg-english"], cast.kols["tg-english"] = owner, [david]
