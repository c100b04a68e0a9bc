"""The content calendar as an ICS feed (RFC 5545), for operators to subscribe to from their
phone's calendar. Read-only; the URL carries a token derived from the secret key and the
community (HMAC), so it can be shared with a calendar app without a login and stops working
when ``QUNZHU_SECRET_KEY`` is rotated."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from icalendar import Calendar, Event, vRecur

from qunzhu.messaging.recurrence import zone
from qunzhu.store.messaging import PlannedPost

KIND_NAMES = {"topic": "话题", "content": "干货", "announcement": "公告", "rules": "群规"}


def feed_token(secret: str, community_id: int) -> str:
    digest = hmac.new(secret.encode(), f"calendar-feed:{community_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def token_matches(secret: str, community_id: int, presented: str) -> bool:
    return hmac.compare_digest(feed_token(secret, community_id), presented)


def render(name: str, slug: str, posts: Sequence[PlannedPost], now: datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//qunzhu//content calendar//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{name} 群日历")
    for post in posts:
        if post.status == "cancelled":
            continue
        event = Event()
        event.add("uid", f"post-{post.id}@{slug}.qunzhu")
        event.add("dtstamp", now)
        event.add("dtstart", post.starts_at.astimezone(zone(post.timezone)))
        event.add("summary", f"[{KIND_NAMES.get(post.kind, post.kind)}] {post.title}")
        event.add("description", next(iter(post.texts.values()), ""))
        event.add("status", "CONFIRMED" if post.status in ("approved", "done") else "TENTATIVE")
        if post.rrule:
            event.add("rrule", vRecur.from_ical(post.rrule))
        cal.add_component(event)
    return bytes(cal.to_ical())
