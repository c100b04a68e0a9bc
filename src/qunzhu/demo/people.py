"""The people of the sample community: platform accounts, names, personas and their habits.

A :class:`Person` is one platform account (a WeChat member in both WeChat groups is one
person); a :class:`Seat` is that person's stay in one group, with the persona they have
there. Personas differ in rates, not in kind: a KOL answers often, a lurker rarely speaks.
"""

from __future__ import annotations

import math
import random
import string
from dataclasses import dataclass, field
from datetime import datetime

# Daily weights per persona: how often a member starts small talk, asks, answers, shares a
# resource, or brings someone in. Threads are drawn in proportion to these sums.
PERSONAS: dict[str, tuple[float, float, float, float, float]] = {
    #          chat  ask   answer share refer
    "operator": (0.2, 0.0, 0.4, 0.0, 0.0),
    "kol": (1.4, 0.05, 6.0, 1.2, 1.0),
    "core": (2.4, 0.3, 1.5, 0.25, 0.5),
    "active": (1.2, 0.35, 0.3, 0.03, 0.2),
    "lurker": (0.05, 0.04, 0.0, 0.0, 0.03),
    "flooder": (2.0, 0.1, 0.0, 0.0, 0.0),
    "spammer": (0.0, 0.0, 0.0, 0.0, 0.0),
}


@dataclass(eq=False)
class Person:
    platform: str
    user_id: str
    name: str
    bot: bool = False  # the platform (or the bridge) reports the account as a bot


@dataclass(eq=False)
class Seat:
    """One person's stay in one group; ``leave_at`` None means still there at the end."""

    person: Person
    persona: str
    join_at: datetime
    via: str = "unknown"
    inviter: Person | None = None
    invite_code: str | None = None
    leave_at: datetime | None = None
    leave_reason: str = "left"
    remover: Person | None = None
    chat: float = 0.0
    ask: float = 0.0
    answer: float = 0.0
    share: float = 0.0
    refer: float = 0.0
    checkins: bool = False
    scripted: bool = False  # speaks only in written scenes (spammers, fake accounts)
    tags: dict[str, str] = field(default_factory=dict)

    def present(self, moment: datetime) -> bool:
        return self.join_at <= moment and (self.leave_at is None or moment < self.leave_at)

    def days_in(self, moment: datetime) -> float:
        return (moment - self.join_at).total_seconds() / 86400


def habits(seat: Seat, rng: random.Random) -> None:
    """Give a seat its persona's rates, each member a little more or less than the type."""
    chat, ask, answer, share, refer = PERSONAS[seat.persona]
    spread = math.exp(rng.gauss(0.0, 0.55))
    mute = seat.persona == "lurker" and rng.random() < 0.5  # many lurkers never say a word
    seat.chat = 0.0 if mute else chat * spread
    seat.ask = 0.0 if mute else ask * math.exp(rng.gauss(0.0, 0.4))
    seat.answer = answer * spread
    seat.share = share * math.exp(rng.gauss(0.0, 0.4))
    seat.refer = refer * math.exp(rng.gauss(0.0, 0.5))


def _words(*lines: str) -> tuple[str, ...]:
    """Name lists are written as space-separated words, a few lines each."""
    return tuple(" ".join(lines).split())


SURNAMES = _words(
    "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 林 罗 高 郑 梁 谢 宋 唐 许 韩 冯",
    "邓 曹 彭 曾 萧 田 董 潘 袁 蔡 蒋 余 于 杜 叶 程",
)
GIVEN = _words(
    "伟 芳 娜 敏 静 磊 洋 勇 艳 杰 娟 涛 明 超 霞 平 刚 桂英 子涵 浩然 雨桐 梓萱 一鸣",
    "思远 晓东 佳怡 俊杰 欣怡 宇航 文博 嘉豪 若曦 志强 海燕 天宇 梦琪 建国 晨 昊 琳 婷婷",
    "鹏 博 凯 蕾 楠 倩 飞",
)
CITIES = _words(
    "北京 上海 深圳 杭州 广州 成都 南京 武汉 西安 苏州 长沙 厦门 重庆 天津 合肥 郑州 青岛",
    "大连 香港 新加坡",
)
JOBS = _words(
    "后端 前端 产品 算法 测试 运维 运营 学生 设计 数据分析 自由职业 Java Python 全栈",
    "项目经理 老师 财务 创业 嵌入式 市场",
)
NICKS = _words(
    "阿杰 小鱼儿🐟 木木 程序猿小张 熬夜的猫🐱 AI小白 一只码农 Sunny☀️ 糖糖 大熊",
    "橘子汽水🍊 风吹麦浪 老陈 咸鱼翻身 北北 小周同学 阿May 不秃头的程序员 路人甲 云淡风轻",
    "静待花开🌸 Coder老王 向日葵🌻 追光者 momo 番茄炒蛋 奔跑的蜗牛🐌 南风 小满 十一 夏天",
    "阿Ken 努力的小胖 Tina🌷 二狗 桃子🍑 山海 安静的美男子 今天也要加油 Jerry 深夜食堂",
    "时光 阿飞 小葵",
)
EN_FIRST = _words(
    "Kevin Amy Jason Lily Eric Grace Tony Vivian Leo Iris Jack Cindy Allen Emma Ryan",
    "Sophie Ben Chloe Alex Priya Mike Sarah Daniel Olivia Tom Nina Kenji Hannah Omar",
    "Lucas Mei Arjun Yuki Carlos Fatima Noah Anna Minh Raj Elena Hugo Zara Sam Ivan Lena",
)
EN_LAST = _words(
    "Wong Chen Lin Tan Lee Smith Kumar Nguyen Garcia Müller Sato Ali Park Ivanova Brown",
    "Zhang Rossi Singh Ng Kim Lim Okafor Silva Haddad Novak Cohen Wu Ho",
)
EN_SUFFIX = ("", "", "", "", " 🇸🇬", " 🇺🇸", " 🇬🇧", " 🇨🇦", " 🇦🇺", " 🇲🇾", " (SF)", " | ML")


class Names:
    """Hands out platform ids and display names, never the same id twice."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ids: set[str] = set()
        self.names: set[str] = set()

    def _fresh_id(self, platform: str) -> str:
        while True:
            if platform == "telegram":
                user_id = str(self.rng.randrange(100_000_000, 7_900_000_000))
            elif self.rng.random() < 0.85:
                chars = string.ascii_lowercase + string.digits
                user_id = "wxid_" + "".join(self.rng.choice(chars) for _ in range(14))
            else:  # accounts old enough to carry a chosen WeChat id
                stem = self.rng.choice(
                    (
                        "zhang",
                        "li",
                        "wang",
                        "chen",
                        "liu",
                        "lucky",
                        "sky",
                        "coder",
                        "yang",
                        "happy",
                        "tiger",
                        "lin",
                    )
                )
                user_id = f"{stem}{self.rng.randrange(1970, 2005)}_{self.rng.randrange(99)}"
            if user_id not in self.ids:
                self.ids.add(user_id)
                return user_id

    def _chinese_name(self) -> str:
        rng = self.rng
        real = rng.choice(SURNAMES) + rng.choice(GIVEN)
        style = rng.random()
        if style < 0.45:  # the group asks for 姓名-城市-职业; about half comply
            return f"{real}-{rng.choice(CITIES)}-{rng.choice(JOBS)}"
        if style < 0.6:
            return real
        if style < 0.85:
            return rng.choice(NICKS)
        first = rng.choice(EN_FIRST)
        return first if rng.random() < 0.5 else f"{first} {rng.choice(SURNAMES)}"

    def _english_name(self) -> str:
        rng = self.rng
        if rng.random() < 0.2:  # Chinese members of the English group, pinyin or hanzi
            return rng.choice(
                (
                    f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}",
                    f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST[:6])}",
                )
            )
        last = rng.choice(EN_LAST)
        shape = rng.random()
        if shape < 0.5:
            return f"{rng.choice(EN_FIRST)} {last}{rng.choice(EN_SUFFIX)}"
        if shape < 0.8:
            return f"{rng.choice(EN_FIRST)} {last[0]}."
        return rng.choice(EN_FIRST)

    def person(self, platform: str, name: str | None = None) -> Person:
        if name is None:
            name = self._english_name() if platform == "telegram" else self._chinese_name()
            for _ in range(20):  # real groups have twins, but a sample reads better without
                if name not in self.names:
                    break
                name = self._english_name() if platform == "telegram" else self._chinese_name()
        self.names.add(name)
        return Person(platform=platform, user_id=self._fresh_id(platform), name=name)
