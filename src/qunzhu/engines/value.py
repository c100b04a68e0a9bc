"""Message value (消息价值) and member value (成员价值), each with the points behind it.

A message earns points for what it carries (substance, links, files, images, code), for
asking, for answering another member's question and for each distinct member it replies to
(once per member, group and day: answering one person ten times in a thread is one member
helped, and only the first of those replies carries the answer points). A question asked
within minutes of the author's previous one earns no question points again: people split
one question over several lines. Filler keeps ``1 - filler_penalty`` of
a minimal point, a duplicate loses ``duplicate_penalty`` of its value, and flagged content
is worth nothing. Later, the author earns more when other members reply (once per
distinct replier) or react.

Member value is the sum of daily value decayed with the spec's half-life: a point earned
``half_life_days`` ago counts half.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from qunzhu.engines.features import TextFeatures
from qunzhu.spec.members import ValueWeights

ROUND = 3


@dataclass(frozen=True, slots=True)
class Context:
    """What other messages say about this one."""

    answer: bool = False  # a reply to a question another member asked
    helped: bool = False  # the first reply to that member in the group today
    asked_lately: bool = False  # the author asked something minutes ago (same question)
    duplicate: bool = False  # the same text from the same member in the last day
    flagged: bool = False  # moderation flagged it
    recalled: bool = False
    link_weight: float = 1.0  # share of answer/helped credit its reply link carries


@dataclass(slots=True)
class MessageValue:
    value: float
    points: dict[str, float] = field(default_factory=dict)

    @property
    def valuable(self) -> bool:
        return self.value >= 1.0


def score_message(f: TextFeatures, ctx: Context, w: ValueWeights) -> MessageValue:
    if ctx.flagged or ctx.recalled:
        return MessageValue(0.0, {"flagged" if ctx.flagged else "recalled": 0.0})
    points: dict[str, float] = {}
    if f.substance:
        points["substance"] = w.substance * f.substance
    for name, present, weight in (
        ("link", f.link, w.link),
        ("file", f.file, w.file),
        ("image", f.image, w.image),
        ("code", f.code, w.code),
        ("question", f.question and not ctx.asked_lately, w.question),
        ("answer", ctx.answer and not f.filler, w.answer * ctx.link_weight),
        ("helped", ctx.helped and not f.filler, w.helped_per_member * ctx.link_weight),
    ):
        if present and weight:
            points[name] = weight
    total = sum(points.values())
    if f.filler:
        kept = max(total, 1.0) * (1.0 - w.filler_penalty)
        points["filler"] = kept - total
        total = kept
    if ctx.duplicate and total:
        cut = total * w.duplicate_penalty
        points["duplicate"] = -cut
        total -= cut
    return MessageValue(
        round(max(total, 0.0), ROUND), {k: round(v, ROUND) for k, v in points.items()}
    )


def decay_factor(age_days: float, half_life_days: float) -> float:
    return float(0.5 ** (max(age_days, 0.0) / half_life_days))


def decayed_sum(days: Iterable[tuple[date, float]], as_of: date, half_life_days: float) -> float:
    """Σ value × ½^(age / half-life) over (day, value) pairs; days after ``as_of`` ignored."""
    lam = math.log(2) / half_life_days
    total = 0.0
    for day, value in days:
        age = (as_of - day).days
        if age >= 0:
            total += value * math.exp(-lam * age)
    return total


POINT_LABELS: dict[str, tuple[str, str]] = {
    "substance": ("substance (words after filler removed)", "内容量（去掉水话后的字数）"),
    "link": ("shares a link", "分享链接"),
    "file": ("shares a file", "分享文件"),
    "image": ("shares an image", "分享图片"),
    "code": ("contains code or a command", "包含代码或命令"),
    "question": ("asks a question", "提问"),
    "answer": ("answers another member's question", "回答他人问题"),
    "helped": (
        "first reply to a member today (a member helped)",
        "当天首次回复某位成员（帮助了一位成员）",
    ),
    "filler": (
        "filler (+1, 收到, 哈哈, sticker, red envelope)",
        "水话（+1、收到、哈哈、表情、抢红包）",
    ),
    "duplicate": ("repeats a recent message", "重复发送"),
    "flagged": ("flagged by moderation", "被审核标记"),
    "recalled": ("recalled", "已撤回"),
    "replies_earned": ("replies earned from distinct members", "获得不同成员的回复"),
    "reactions": ("reactions earned", "获得表情回应"),
    "check_in": ("check-ins (打卡)", "打卡"),
}


def explain_points(points: dict[str, float], lang: str = "en") -> list[str]:
    """One line per point: '+2.0 answers another member's question'."""
    i = 1 if lang.startswith("zh") else 0
    return [
        f"{v:+.2f} {POINT_LABELS.get(k, (k, k))[i]}"
        for k, v in sorted(points.items(), key=lambda kv: -abs(kv[1]))
        if abs(v) >= 0.005
    ]
