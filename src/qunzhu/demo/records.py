"""Everything besides chat: joins and leaves, check-ins with streaks, applications and
payments for the paid group, and the live session's registrations and attendance."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from qunzhu import events as ev
from qunzhu.demo.chat import Room
from qunzhu.demo.people import CITIES, JOBS, Seat
from qunzhu.demo.rhythm import DAYS, Clock, gap
from qunzhu.demo.roster import Cast

SLUG = "demo"
LIVE = "rag-live"
LIVE_NAME = "RAG 实战直播：从 0 搭一个知识库问答"
LIVE_DAY = 60
LIVE_HOURS = (20.0, 21.5)


def _system_line(seat: Seat, joined: bool) -> str:
    """The line a WeChat export shows for the event (for the raw payload kept for audit)."""
    name = seat.person.name
    if not joined:
        by = seat.remover.name if seat.remover else ""
        if seat.leave_reason == "removed":
            return f'{by}将"{name}"移出了群聊'
        return f"{name}退出了群聊"
    if seat.via == "invite" and seat.inviter is not None:
        return f'"{seat.inviter.name}"邀请"{name}"加入了群聊'
    if seat.via == "qr":
        return f'"{name}"通过扫描二维码加入群聊'
    return f"{name}创建了群聊"


def memberships(room: Room) -> list[ev.Event]:
    gid, platform = room.manner.gid, room.manner.platform
    out: list[ev.Event] = []
    for seat in room.seats:
        person = seat.person
        inviter = seat.inviter.user_id if seat.inviter is not None else None
        raw: dict[str, str | None] | None = (
            {"system": _system_line(seat, True)}
            if platform == "wechat"
            else {"invite_link": seat.invite_code, "creator": inviter}
        )
        out.append(
            ev.MemberJoined(
                platform=platform,
                community=SLUG,
                group=gid,
                member=person.user_id,
                occurred_at=seat.join_at,
                member_name=person.name,
                inviter=inviter,
                via=seat.via,
                invite_code=seat.invite_code,
                member_is_bot=person.bot,
                raw=raw,
            )
        )
        if platform == "telegram" and seat.invite_code and inviter is not None:
            out.append(
                ev.InviteUsed(
                    platform=platform,
                    community=SLUG,
                    group=gid,
                    member=person.user_id,
                    occurred_at=seat.join_at,
                    inviter=inviter,
                    code=seat.invite_code,
                )
            )
        if seat.leave_at is not None and seat.leave_at < room.clock.end:
            remover = seat.remover.user_id if seat.remover is not None else None
            raw = {"system": _system_line(seat, False)} if platform == "wechat" else None
            out.append(
                ev.MemberLeft(
                    platform=platform,
                    community=SLUG,
                    group=gid,
                    member=person.user_id,
                    occurred_at=seat.leave_at,
                    member_name=person.name,
                    reason=seat.leave_reason,
                    by=remover,
                    raw=raw,
                )
            )
    return out


def check_ins(room: Room) -> list[ev.Event]:
    """Daily check-ins in streaks: most keep going a while, break, and some come back.

    Check-ins fall between 08:00 and 24:00 Shanghai time so each lands on the same calendar
    day in UTC too (a check-in is one per member and day)."""
    rng, clock, lex = room.rng, room.clock, room.lex
    out: list[ev.Event] = []
    for seat in room.seats:
        if not seat.checkins:
            continue
        keep = rng.uniform(0.78, 0.97)
        day, total = clock.day_of(seat.join_at) + rng.randrange(0, 4), 0
        evening = rng.random() < 0.7
        while day < DAYS:
            at = clock.moment(rng, day, hours=(20, 24) if evening else (8, 10))
            if not seat.present(at):
                break
            total += 1
            note = rng.choice(lex.checkin_notes).format(n=total)
            out.append(
                ev.CheckIn(
                    platform=room.manner.platform,
                    community=SLUG,
                    group=room.manner.gid,
                    member=seat.person.user_id,
                    occurred_at=at,
                    name="daily",
                    note=note,
                )
            )
            if rng.random() < 0.2:
                room.say(seat, at + gap(rng, 30), lex.checkin_post.format(n=total, note=note))
            if rng.random() < keep * room.manner.fade(day) ** 0.5:
                day += 1
            elif rng.random() < 0.35:
                break
            else:
                day += rng.randrange(2, 8)
    return out


ANSWERS = {
    "经验": ("零基础", "会一点 Python", "做过 RAG demo", "工作中在用 AI 写代码", "做过 agent 项目"),
    "来源": ("朋友推荐", "公众号", "B站", "小红书", "主群", "直播间"),
}


def admissions(cast: Cast, rng: random.Random) -> list[ev.Event]:
    """Applications and payments for the paid group ``wx-advanced``."""
    out: list[ev.Event] = []
    for n, pay in enumerate(cast.payments, 1):
        uid = pay.person.user_id
        if pay.applied_at is not None:
            answers = {
                "称呼": pay.person.name.split("-")[0],
                "城市": rng.choice(CITIES),
                "职业": rng.choice(JOBS),
                "AI编程经验": rng.choice(ANSWERS["经验"]),
                "从哪里知道我们": rng.choice(ANSWERS["来源"]),
                "希望收获": rng.choice(
                    (
                        "系统学习 RAG 和 agent",
                        "找到 AI 方向的工作",
                        "做出自己的 AI 产品",
                        "认识同行",
                    )
                ),
            }
            out.append(
                ev.ApplicationSubmitted(
                    platform="wechat",
                    community=SLUG,
                    group="wx-advanced",
                    member=uid,
                    occurred_at=pay.applied_at,
                    application_id=f"APP-{n:04d}",
                    answers=answers,
                    member_name=pay.person.name,
                )
            )
        if pay.paid_at is not None:
            out.append(
                ev.PaymentReceived(
                    platform="wechat",
                    community=SLUG,
                    group="wx-advanced",
                    member=uid,
                    occurred_at=pay.paid_at,
                    payment_id=f"42000{rng.randrange(10**22, 10**23)}",
                    amount_cents=pay.amount_cents,
                    currency="CNY",
                    plan=pay.plan,
                    order_id=None,
                    provider="manual",
                )
            )
    return out


def live_session(cast: Cast, clock: Clock, rng: random.Random) -> list[ev.Event]:
    """Registration → screening → check-in → attendance (or absence) for the live session."""
    out: list[ev.Event] = []
    seen: set[str] = set()
    start = clock.at(LIVE_DAY, LIVE_HOURS[0])
    weights = {"kol": 0.6, "core": 0.6, "active": 0.35, "lurker": 0.06}
    for gid in ("wx-advanced", "wx-main", "tg-english"):
        for seat in cast.seats[gid]:
            person = seat.person
            first = max(52, clock.day_of(seat.join_at) + 1)
            if person.user_id in seen or first > LIVE_DAY - 1 or seat.scripted:
                continue
            registered = clock.moment(rng, rng.randrange(first, LIVE_DAY), hours=(9, 23))
            if not seat.present(registered) or rng.random() >= weights.get(seat.persona, 0):
                continue
            seen.add(person.user_id)

            def step(status: str, at: datetime, s: Seat = seat, g: str = gid) -> None:
                out.append(
                    ev.ActivityAttended(
                        platform=s.person.platform,
                        community=SLUG,
                        group=g,
                        member=s.person.user_id,
                        occurred_at=at,
                        activity=LIVE,
                        status=status,
                    )
                )

            step("registered", registered)
            if rng.random() < 0.1:
                continue  # not screened in: the form was incomplete
            step("screened", registered + gap(rng, 4 * 3600))
            if rng.random() < 0.65 and seat.present(start):
                step("checked_in", start + timedelta(minutes=rng.uniform(-10, 12)))
                if rng.random() < 0.95:
                    step("attended", clock.at(LIVE_DAY, LIVE_HOURS[1]))
            else:
                step("absent", clock.at(LIVE_DAY, LIVE_HOURS[1] + 0.5))
    return out
