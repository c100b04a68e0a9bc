"""The kinds of conversation a day is made of, and the day that draws them.

How many threads of each kind a day holds follows from who is around: the sum of the
members' inclinations (to ask, share, chat, answer) times a rate per kind. So a group that
loses its answerers gets questions that nobody answers, without anything saying so.
"""

from __future__ import annotations

import math
from datetime import datetime

from qunzhu.demo.chat import Draft, Room
from qunzhu.demo.lexicon import CODE
from qunzhu.demo.people import CITIES, JOBS, Seat
from qunzhu.demo.rhythm import AWAKE, SHANGHAI, gap, poisson

# Threads per day per unit of summed inclination.
ASK_RATE = 0.37
SHARE_RATE = 0.4
CHAT_RATE = 0.18
TALK_RATE = 0.04  # discussions, started by those who also answer

ANSWER_DELAY = {"kol": 420.0, "core": 700.0, "operator": 900.0}  # median seconds, else 1200


def _night(draft_at_hour: int) -> bool:
    return draft_at_hour < 7 or draft_at_hour >= 23


def question(room: Room, at: datetime) -> None:
    rng, lex = room.rng, room.lex
    asker = room.pick("ask", at)
    if asker is None:
        return
    item = rng.choice(room.topic().questions)
    asked = room.say(
        asker, at, rng.choice(lex.ask_open) + item.question + rng.choice(lex.ask_close)
    )
    if asked is None:
        return
    last = asked.at
    if rng.random() < 0.2:  # the screenshot of the error
        more = room.say(asker, last + gap(rng, 20), lex.image, "image")
        last = more.at if more else last
    elif rng.random() < room.manner.code:
        more = room.say(asker, last + gap(rng, 40), rng.choice(CODE))
        last = more.at if more else last
    if rng.random() < 0.15 and (other := room.pick("chat", last, (asker,))):
        room.say(other, last + gap(rng, 240), rng.choice(lex.me_too))
    hour = asked.at.astimezone(SHANGHAI).hour
    power = room.total("answer") * AWAKE[hour]
    if rng.random() >= 0.92 * (1 - math.exp(-power / 12)):
        if rng.random() < 0.35:
            room.say(asker, last + gap(rng, 5400, 0.5), rng.choice(lex.bumps))
        return
    answerer = room.pick("answer", asked.at, (asker,))
    if answerer is None:
        return
    delay = ANSWER_DELAY.get(answerer.persona, 1200.0) * (4 if _night(hour) else 1)
    text = rng.choice(lex.answer_open) + rng.choice(item.answers or lex.generic_answers)
    answer = room.reply(answerer, last + gap(rng, delay), text, asked)
    if answer is None:
        return
    room.react(answer, poisson(rng, 1.2))
    if rng.random() < room.manner.code:
        room.say(answerer, answer.at + gap(rng, 60), rng.choice(CODE))
    if rng.random() < 0.25 and (second := room.pick("answer", answer.at, (asker, answerer))):
        room.reply(second, answer.at + gap(rng, 400), rng.choice(lex.more), asked)
    _follow_up(room, asker, answerer, answer)


def _follow_up(room: Room, asker: Seat, answerer: Seat, answer: Draft) -> None:
    rng, lex = room.rng, room.lex
    roll = rng.random()
    if roll < 0.6:
        room.reply(asker, answer.at + gap(rng, 240), rng.choice(lex.thanks), answer, 0.2)
    elif roll < 0.8:
        still = room.reply(asker, answer.at + gap(rng, 600), rng.choice(lex.still), answer, 0.2)
        if still is None:
            return
        again = room.reply(
            answerer, still.at + gap(rng, 500), rng.choice(lex.generic_answers), still
        )
        if again is not None and rng.random() < 0.7:
            room.say(asker, again.at + gap(rng, 900), rng.choice(lex.fixed))
    if rng.random() < 0.2 and (other := room.pick("chat", answer.at, (asker, answerer))):
        room.say(other, answer.at + gap(rng, 300), rng.choice(lex.learned))


def share(room: Room, at: datetime) -> None:
    rng, lex = room.rng, room.lex
    poster = room.pick("share", at)
    if poster is None:
        return
    item = rng.choice(room.topic().shares)
    posted = room.say(poster, at, item.text, item.kind, attachment=item.attachment)
    if posted is None:
        return
    room.react(posted, poisson(rng, 3.0))
    thanked: list[Seat] = [poster]
    for _ in range(poisson(rng, min(5.0, 0.6 + 0.015 * room.total("chat")))):
        fan = room.pick("chat", posted.at, thanked)
        if fan is None:
            break
        thanked.append(fan)
        room.reply(fan, posted.at + gap(rng, 900, 1.0), rng.choice(lex.share_thanks), posted, 0.1)


def chatter(room: Room, at: datetime) -> None:
    rng, lex = room.rng, room.lex
    first = room.pick("chat", at)
    if first is None:
        return
    people = [first]
    for _ in range(rng.randrange(1, 4)):
        if (other := room.pick("chat", at, people)) is not None:
            people.append(other)
    if rng.random() < 0.5:
        lines = list(rng.choice(lex.scenes))
    else:
        pool = lex.fillers + lex.stickers
        lines = [rng.choice(room.topic().talk)] + [
            rng.choice(pool) for _ in range(rng.randrange(2, 7))
        ]
    moment = at
    for i, line in enumerate(lines):
        speaker = people[i % len(people)] if i < len(people) else rng.choice(people)
        kind = "sticker" if line in lex.stickers else "text"
        said = room.say(speaker, moment, line, kind)
        if said is not None:
            moment = said.at + gap(rng, 45, 1.0)


def discussion(room: Room, at: datetime) -> None:
    rng, lex = room.rng, room.lex
    opener = room.pick("answer", at)
    if opener is None:
        return
    topic = room.topic()
    said = room.say(opener, at, rng.choice(topic.talk))
    people = [opener]
    for _ in range(rng.randrange(3, 12)):
        if said is None:
            return
        voice = room.pick("chat", said.at, people[-1:])
        if voice is None:
            return
        people.append(voice)
        roll = rng.random()
        line = (
            rng.choice(topic.talk)
            if roll < 0.55
            else rng.choice(lex.fillers)
            if roll < 0.85
            else rng.choice(CODE)
            if rng.random() < room.manner.code * 3
            else rng.choice(lex.learned)
        )
        moment = said.at + gap(rng, 90, 1.0)
        nxt = (
            room.reply(voice, moment, line, said, 0.1)
            if rng.random() < 0.3
            else room.say(voice, moment, line)
        )
        said = nxt or said


def greetings(room: Room, day: int) -> None:
    rng, lex, clock = room.rng, room.lex, room.clock
    for _ in range(poisson(rng, 0.03 * room.total("chat"))):
        at = clock.at(day, rng.uniform(7.0, 9.5))
        if (seat := room.pick("chat", at)) is not None:
            room.say(seat, at, rng.choice(lex.greetings))
    for _ in range(poisson(rng, 0.012 * room.total("chat"))):
        at = clock.at(day, rng.uniform(22.8, 24.4))
        if (seat := room.pick("chat", at)) is not None:
            room.say(seat, at, rng.choice(lex.goodnight))


def arrivals(room: Room, day: int, welcomer: Seat | None) -> None:
    """Newcomers introduce themselves; the operator and a few members say welcome."""
    rng, lex = room.rng, room.lex
    fade = room.manner.fade(day)
    for seat in room.seats:
        if seat.scripted or seat.persona == "operator" or room.clock.day_of(seat.join_at) != day:
            continue
        moment = seat.join_at + gap(rng, 120)
        if welcomer is not None and welcomer.present(seat.join_at):
            text = rng.choice(lex.op_welcome).format(name=seat.person.name)
            room.say(welcomer, moment, text, mentions=(seat.person,))
        if rng.random() < 0.6 * math.sqrt(fade) and seat.chat + seat.ask > 0:
            text = rng.choice(lex.intros).format(
                name=seat.person.name.split("-")[0],
                city=rng.choice(CITIES),
                job=rng.choice(JOBS),
                goal=rng.choice(lex.goals),
            )
            intro = room.say(seat, moment + gap(rng, 300), text)
            if intro is None:
                continue
            for _ in range(poisson(rng, 1.5 * fade)):
                if (other := room.pick("chat", intro.at, (seat,))) is not None:
                    room.reply(other, intro.at + gap(rng, 120), rng.choice(lex.welcomes), intro)


def write_day(room: Room, day: int, welcomer: Seat | None) -> None:
    room.open_day(day)
    rng, clock = room.rng, room.clock
    scale = room.manner.pace * (room.manner.weekend if clock.weekend(day) else 1.0)
    curve = clock.curve(day, room.manner.abroad)
    for kind, rate, trait in (
        (question, ASK_RATE, "ask"),
        (share, SHARE_RATE, "share"),
        (chatter, CHAT_RATE, "chat"),
        (discussion, TALK_RATE, "answer"),
    ):
        for _ in range(poisson(rng, rate * room.total(trait) * scale)):
            kind(room, clock.moment(rng, day, curve))
    greetings(room, day)
    arrivals(room, day, welcomer)
