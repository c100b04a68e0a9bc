"""The sample community as a stream of normalized events, deterministic by seed.

Three groups over 90 days that end today: ``wx-main`` (healthy and growing), ``wx-advanced``
(the paid group, steady) and ``tg-english`` (dying after its only KOL leaves on day 55).
Nothing in the events says which group is which: engines have to see it in the data.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from qunzhu import events as ev
from qunzhu.demo.cast import KOL_DAY, build_cast
from qunzhu.demo.chat import Manner, Room
from qunzhu.demo.episodes import card_pitches, stage
from qunzhu.demo.records import SLUG, admissions, check_ins, live_session, memberships
from qunzhu.demo.rhythm import DAYS, Clock
from qunzhu.demo.threads import write_day
from qunzhu.demo.words_en import EN
from qunzhu.demo.words_zh import ZH

NAME = "AI 编程训练营 / AI coding bootcamp"


@dataclass(frozen=True)
class GroupInfo:
    name: str
    cap: int
    segment: str


GROUPS: dict[str, GroupInfo] = {
    "wx-main": GroupInfo("AI 编程训练营·交流主群", 300, "main"),
    "wx-advanced": GroupInfo("AI 编程训练营·进阶会员群", 150, "members"),
    "tg-english": GroupInfo("AI Coding Bootcamp · English", 200, "english"),
}


def _english_fade(day: int) -> float:
    """After the KOL leaves, everyone else's wish to talk decays by about a tenth a day."""
    return 1.0 if day < KOL_DAY else max(0.03, math.exp(-(day - KOL_DAY) / 11))


MANNERS = (
    Manner(
        "wx-main",
        "wechat",
        ZH,
        {
            "python": 0.2,
            "prompt": 0.18,
            "tools": 0.2,
            "rag": 0.1,
            "agent": 0.1,
            "career": 0.17,
            "deploy": 0.05,
        },
        quote_share=0.25,
        weekend=0.75,
        code=0.06,
        pace=2.0,
    ),
    Manner(
        "wx-advanced",
        "wechat",
        ZH,
        {
            "rag": 0.25,
            "agent": 0.28,
            "deploy": 0.2,
            "python": 0.07,
            "prompt": 0.08,
            "tools": 0.07,
            "career": 0.05,
        },
        quote_share=0.3,
        weekend=0.8,
        code=0.15,
        pace=0.85,
    ),
    Manner(
        "tg-english",
        "telegram",
        EN,
        {"build": 0.8, "career": 0.2},
        abroad=0.5,
        weekend=0.9,
        code=0.12,
        pace=0.55,
        fade=_english_fade,
    ),
)
CARD_PITCHES = {"wx-main": 2, "wx-advanced": 1}  # contact cards with a pitch in the live week
WELCOME_UNTIL = {"tg-english": 40}  # the English group's owner stopped greeting newcomers


def _message_ids(room: Room, rng: random.Random) -> None:
    """Platform message ids in time order: WeChat's large server ids, Telegram's counter
    (which also counts service messages, hence the odd skipped number)."""
    room.drafts.sort(key=lambda d: d.at)
    if room.telegram:
        next_id = 1000 + rng.randrange(500)
        for draft in room.drafts:
            draft.message_id = str(next_id)
            next_id += 2 if rng.random() < 0.05 else 1
    else:
        base = rng.randrange(10**18, 6 * 10**18)
        for i, draft in enumerate(room.drafts):
            draft.message_id = str(base + i * 1000 + rng.randrange(1000))


def _messages(room: Room) -> list[ev.Event]:
    gid, platform = room.manner.gid, room.manner.platform
    out: list[ev.Event] = []
    for d in room.drafts:
        out.append(
            ev.MessagePosted(
                platform=platform,
                community=SLUG,
                group=gid,
                member=d.seat.person.user_id,
                occurred_at=d.at,
                message_id=d.message_id,
                text=d.text,
                kind=d.kind,
                member_name=d.seat.person.name,
                reply_to=d.reply_to.message_id if d.reply_to is not None else None,
                mentions=tuple(p.user_id for p in d.mentions),
                attachment=d.attachment,
                member_is_bot=d.seat.person.bot,
            )
        )
    for r in room.reactions:
        out.append(
            ev.ReactionAdded(
                platform=platform,
                community=SLUG,
                group=gid,
                member=r.seat.person.user_id,
                occurred_at=r.at,
                message_id=r.target.message_id,
                emoji=r.emoji,
            )
        )
    return out


def generate(seed: int = 7, *, now: datetime | None = None) -> Iterator[ev.Event]:
    """The sample community's events in time order.

    ``now`` (default: today 00:00 Asia/Shanghai) is floored to midnight in Shanghai; the
    90 days end there. The same seed and day give the same events, keys included.
    """
    yield from generate_marked(seed, now=now)[0]


def generate_marked(
    seed: int = 7, *, now: datetime | None = None
) -> tuple[list[ev.Event], frozenset[str]]:
    """The events of :func:`generate`, and the keys of the messages written as spam,
    flooding or ads: the ground truth to measure moderation on the sample against."""
    clock = Clock(now)
    unwanted: set[str] = set()
    cast = build_cast(seed, clock)
    out: list[ev.Event] = []
    for manner in MANNERS:
        gid = manner.gid
        rng = random.Random(f"{seed}:{gid}:chat")
        room = Room(manner, cast.seats[gid], clock, rng)
        welcomer = cast.helper[gid]
        for day in range(DAYS):
            write_day(room, day, welcomer if day < WELCOME_UNTIL.get(gid, DAYS) else None)
        stage(room, cast)
        out.extend(check_ins(room))
        out.extend(memberships(room))
        if gid in CARD_PITCHES:  # drawn apart, so the rest of the sample stays as it was
            card_pitches(room, random.Random(f"{seed}:{gid}:cards"), CARD_PITCHES[gid])
        _message_ids(room, random.Random(f"{seed}:{gid}:ids"))
        said = _messages(room)
        out.extend(said)
        unwanted.update(e.key for e, d in zip(said, room.drafts, strict=False) if d.unwanted)
    rng = random.Random(f"{seed}:records")
    out.extend(admissions(cast, rng))
    out.extend(live_session(cast, clock, rng))
    out.sort(key=lambda e: e.occurred_at)
    return out, frozenset(unwanted)
