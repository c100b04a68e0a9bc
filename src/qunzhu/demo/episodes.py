"""Scenes written out on purpose: spam and its removal, a flooder, a course promoter, a
friend's card passed on with a word for their service, the operators' rituals (rules,
morning digest, check-in reminders, a live session), red envelopes, and the English
group's KOL saying goodbye."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from qunzhu.demo.cast import KOL_DAY
from qunzhu.demo.chat import Room
from qunzhu.demo.lexicon import NEWS, SPAM_EN, SPAM_ZH
from qunzhu.demo.people import Seat
from qunzhu.demo.rhythm import DAYS, LIVE_DAYS, gap, poisson
from qunzhu.demo.roster import Cast
from qunzhu.demo.words_en import CLOSING, FAREWELL

RULES_ZH = (
    "【群公告】欢迎来到 AI 编程训练营！\n1. 群昵称改为「姓名-城市-职业」\n2. 提问请带上报错和代码\n"
    "3. 禁止广告、二维码、拉人和私加好友推销\n4. 每晚九点学习打卡，连续打卡有奖励\n"
    "违规一次警告，两次禁言，三次移出。"
)
RULES_EN = (
    "📌 Rules: be kind, ask with code and error messages, no ads, no DMs offering "
    "services, no crypto. Violations get you removed."
)
REMINDER_ZH = (
    "今天的打卡别忘了哦～ 已连续打卡的同学太棒了💪",
    "#打卡提醒 今晚九点，不见不散",
    "还没打卡的同学抓紧啦，今天学了什么发出来分享一下～",
)
LIVE_ZH = (
    "【直播预告】本周六晚 8 点「RAG 实战：从 0 搭一个知识库问答」，老K主讲，报名链接 "
    "https://bootcamp.example.cn/live/rag",
    "【直播提醒】今晚 8 点 RAG 实战直播，已报名的同学 7:50 进直播间签到",
    "【直播回放】RAG 实战直播回放和课件都在这里了 https://bootcamp.example.cn/live/rag/replay",
)
PROMO = (
    "我的《AI 编程 30 天实战》课程上线了，群友专属价 199，扫码报名👇",
    "最后一天优惠！《AI 编程 30 天实战》199 元，私聊我拿优惠码",
)
CARD_PITCH = (
    "推荐一个朋友做的 AI 简历优化，转行的同学可以加他聊聊，报我名字有折扣",
    "有需要代做 RAG 项目或者毕设的可以找这位，我找过，挺靠谱的",
    "朋友在带 AI 副业陪跑营，感兴趣的加他，就说是群里来的",
)
FLOOD = (
    "哈哈哈哈哈哈",
    "顶",
    "顶顶顶",
    "[动画表情]",
    "有人吗",
    "666666",
    "[图片]",
    "冒泡",
    "哈哈哈",
    "在吗在吗",
)


def spam(room: Room, spammer: Seat, remover: Seat | None, last_day: int = DAYS) -> None:
    """Ads right after joining; the removal notice follows if anyone removed them."""
    rng = room.rng
    ads = SPAM_EN if room.telegram else SPAM_ZH
    moment = spammer.join_at
    repeats = 1 if spammer.leave_at is not None else 3  # unchecked, they come back for more
    for round_ in range(repeats):
        if round_:
            moment = room.clock.moment(
                rng, min(last_day - 1, room.clock.day_of(moment) + 2), hours=(9, 23)
            )
        for _ in range(rng.randrange(1, 4)):
            moment += gap(rng, 90)
            if spammer.leave_at is not None and moment >= spammer.leave_at:
                break
            kind = "contact_card" if not room.telegram and rng.random() < 0.15 else "text"
            room.say(spammer, moment, rng.choice(ads), kind, unwanted=True)
    if remover is not None and spammer.leave_at is not None:
        room.say(remover, spammer.leave_at + gap(rng, 60), rng.choice(room.lex.rule_notices))


def flood(room: Room, flooder: Seat, times: list[datetime], helper: Seat, owner: Seat) -> None:
    rng = room.rng
    for i, start in enumerate(times):
        moment = start
        for _ in range(rng.randrange(10, 15)):
            text = rng.choice(FLOOD)
            kind = (
                "sticker" if text.startswith("[动画") else "image" if text == "[图片]" else "text"
            )
            room.say(flooder, moment, text, kind, unwanted=True)
            moment += timedelta(seconds=rng.randrange(1, 5))
        if i < len(times) - 1:
            warn = f"@{flooder.person.name} 请不要刷屏哦，影响大家交流，再刷要移出了"
            room.say(helper, moment + gap(rng, 90), warn, mentions=(flooder.person,))
        elif flooder.leave_at is not None:
            room.say(owner, flooder.leave_at + gap(rng, 60), "刷屏多次提醒无效，已移出。")


def promotion(room: Room, promoter: Seat, times: list[datetime], owner: Seat) -> None:
    for i, moment in enumerate(times):
        room.say(promoter, moment, PROMO[i % len(PROMO)], unwanted=True)
        room.say(promoter, moment + timedelta(seconds=8), room.lex.image, "image", unwanted=True)
        if i == 0:
            warn = f"@{promoter.person.name} 群里不允许发课程推广哦，第一次提醒"
            room.say(owner, moment + gap(room.rng, 300), warn, mentions=(promoter.person,))
        elif promoter.leave_at is not None:
            room.say(owner, promoter.leave_at + gap(room.rng, 60), "二次推广，已移出。")


def card_pitches(room: Room, rng: random.Random, count: int) -> None:
    """In the live week a few members pass on a friend's contact card with a word for a paid
    service: a favour or an ad, which the demo spec leaves to a person to judge
    (``contact_cards: flag``), so the review queue has something real to decide."""
    first = DAYS - LIVE_DAYS + 1
    days = sorted(rng.sample(range(first, DAYS), count))
    pitches = rng.sample(CARD_PITCH, count)
    pitched: list[Seat] = []
    for day, text in zip(days, pitches, strict=True):
        moment = room.clock.moment(rng, day, hours=(10, 22))
        here = [
            s
            for s in room.seats
            if s.persona == "active" and not s.scripted and s.present(moment) and s not in pitched
        ]
        if not here:
            continue
        seat = rng.choice(here)
        pitched.append(seat)
        room.say(seat, moment, text, "contact_card", unwanted=True)


def rituals(room: Room, owner: Seat, helper: Seat, digest: bool, live: bool) -> None:
    """What the operators post on schedule in the WeChat groups."""
    rng, clock = room.rng, room.clock
    room.say(owner, owner.join_at + timedelta(minutes=5), RULES_ZH)
    for day in range(DAYS):
        room.open_day(day)
        if digest and not clock.weekend(day):
            items = rng.sample(NEWS, 3)
            date = clock.day_start(day).strftime("%m.%d")
            text = f"【AI 早报 {date}】\n" + "\n".join(f"{i}. {n}" for i, n in enumerate(items, 1))
            posted = room.say(helper, clock.at(day, 8.5) + gap(rng, 120), text)
            if posted is not None and rng.random() < 0.3 and (fan := room.pick("chat", posted.at)):
                room.say(fan, posted.at + gap(rng, 900), "感谢早报🙏")
        if digest and clock.day_start(day).weekday() in (0, 2, 4):
            room.say(helper, clock.at(day, 21.0) + gap(rng, 60), rng.choice(REMINDER_ZH))
    if live:
        for day, hour, text in zip((52, 60, 61), (12.0, 18.5, 10.0), LIVE_ZH, strict=True):
            room.say(helper, clock.at(day, hour), text, "link" if day == 61 else "text")


def red_envelopes(room: Room, owner: Seat, days: list[int]) -> None:
    """Red envelopes bring out everyone, lurkers included, for one line of thanks."""
    rng, lex = room.rng, room.lex
    for day in days:
        moment = room.clock.at(day, rng.uniform(19.5, 22.0))
        text = rng.choice(lex.red_envelope).format(n=100 * (1 + day // 30))
        sent = room.say(owner, moment, text, "red_envelope")
        if sent is None:
            continue
        thanked: list[Seat] = [owner]
        for _ in range(poisson(rng, 12)):
            seat = room.anyone(sent.at, thanked)
            if seat is None:
                break
            thanked.append(seat)
            line = rng.choice(lex.red_thanks)
            kind = "sticker" if line.startswith("[动画") else "text"
            room.say(seat, sent.at + timedelta(seconds=rng.randrange(5, 240)), line, kind)


def farewell(room: Room, kol: Seat, day: int) -> None:
    """The English group's KOL says goodbye; months later the last members wonder aloud."""
    rng = room.rng
    room.open_day(day)
    said = room.say(kol, room.clock.at(day, 21.0), FAREWELL[0])
    if said is None:
        return
    seen: list[Seat] = [kol]
    for line in FAREWELL[1:]:
        if (fan := room.pick("chat", said.at, seen)) is not None:
            seen.append(fan)
            room.reply(fan, said.at + gap(rng, 600), line, said)
    for late_day, line in zip((72, 80, 86), CLOSING, strict=True):
        room.open_day(late_day)
        seat = room.pick("chat", room.clock.at(late_day, 12.0)) or room.anyone(
            room.clock.at(late_day, 12.0)
        )
        if seat is not None:
            room.say(seat, room.clock.moment(rng, late_day, hours=(9, 22)), line)


def stage(room: Room, cast: Cast) -> None:
    """Every scene that belongs to ``room``'s group."""
    gid = room.manner.gid
    owner, helper = cast.owner[gid], cast.helper[gid]
    for spammer in cast.spammers.get(gid, []):
        remover = next((s for s in room.seats if s.person is spammer.remover), None)
        spam(room, spammer, remover)
    if gid == "wx-main":
        rituals(room, owner, helper, digest=True, live=True)
        if cast.flooder is not None:
            flood(room, cast.flooder, cast.flood_times, helper, owner)
        red_envelopes(room, owner, [20, 45, 61, 83])
    elif gid == "wx-advanced":
        rituals(room, owner, helper, digest=False, live=True)
        if cast.promoter is not None:
            promotion(room, cast.promoter, cast.promo_times, owner)
        red_envelopes(room, owner, [61])
    else:
        room.say(owner, owner.join_at + timedelta(minutes=3), RULES_EN)
        farewell(room, cast.kols[gid][0], KOL_DAY)
