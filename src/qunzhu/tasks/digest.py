"""The daily digest: each operator's open and overdue tasks of a community, once a day at
``QUNZHU_DIGEST_HOUR`` local time, by e-mail (``QUNZHU_SMTP_*``, to ``operators.email``)
and by Telegram private message (``operators.telegram_user``, through the outbox and the
community's Telegram connector), in the operator's language, else the community's.

At most once a day: the marker row (``task_digests``, unique per community, operator and
local day) is committed before anything is sent, by whichever process inserted it; a send
that fails is written on the marker and not tried again that day — a second e-mail would
be worse than a missing one. An operator with nothing open gets nothing.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from qunzhu import events as ev
from qunzhu.growth.common import parsed_spec
from qunzhu.messaging.broadcast import community_zone
from qunzhu.settings import Settings
from qunzhu.store import outbox
from qunzhu.store.admin import Operator, OperatorRole
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.community import Community
from qunzhu.store.session import Store
from qunzhu.store.tasks import TaskDigest
from qunzhu.tasks.actions import OWNER_ROLES
from qunzhu.tasks.plan import Actor, Plan, PlanItem, plan

SHOWN = 20  # tasks listed in a digest; the rest are counted, and Today has them all
WORDS = {
    "zh-CN": {
        "subject": "【{community}】今日待办：{open} 项，其中逾期 {overdue} 项",
        "overdue": "逾期",
        "today": "今天",
        "later": "之后",
        "more": "……另有 {n} 项，请在「今日」页查看",
        "open": "打开：{url}",
        "playbook": "SOP 任务",
        "welcome": "手动发送欢迎语",
        "calendar": "日历帖子需人工处理",
        "broadcast": "群发需人工处理",
        "review": "待审核 {count} 条",
        "applications": "入群申请 {count} 份",
        "health": "群健康预警（死群风险 {death_risk}）",
        "manual": "待办",
    },
    "en": {
        "subject": "[{community}] Today: {open} open, {overdue} overdue",
        "overdue": "Overdue",
        "today": "Today",
        "later": "Later",
        "more": "… and {n} more on the Today page",
        "open": "Open: {url}",
        "playbook": "Playbook task",
        "welcome": "Post the welcome by hand",
        "calendar": "Calendar post needs a hand",
        "broadcast": "Broadcast needs a hand",
        "review": "{count} to review",
        "applications": "{count} applications",
        "health": "Group at risk (death risk {death_risk})",
        "manual": "Task",
    },
}


@dataclass(frozen=True, slots=True)
class Recipient:
    operator_id: int
    username: str
    email: str | None
    telegram_user: str | None
    lang: str


def _label(item: PlanItem, words: dict[str, str]) -> str:
    values = {
        "count": item.detail.get("count", ""),
        "death_risk": item.detail.get("death_risk", ""),
    }
    return words.get(item.kind, item.kind).format(**values)


def render(community: str, day_plan: Plan, lang: str, tz: ZoneInfo, url: str) -> tuple[str, str]:
    """The digest's subject and plain text."""
    words = WORDS["en" if lang == "en" else "zh-CN"]
    subject = words["subject"].format(
        community=community, open=day_plan.open, overdue=len(day_plan.overdue)
    )
    lines: list[str] = []
    shown = 0
    for key in ("overdue", "today", "later"):
        items: list[PlanItem] = getattr(day_plan, key)
        if not items:
            continue
        lines.append(f"{words[key]} ({len(items)})")
        for item in items:
            if shown >= SHOWN:
                break
            shown += 1
            where = f"「{item.group}」" if item.group else ""
            due = item.due_at.astimezone(tz).strftime("%m-%d %H:%M")
            text = (
                item.text
                if item.kind in ("playbook", "welcome", "calendar", "broadcast", "manual")
                else ""
            )
            lines.append(f"• {due} {where}{_label(item, words)}{': ' + text[:120] if text else ''}")
        lines.append("")
    if day_plan.open > shown:
        lines.append(words["more"].format(n=day_plan.open - shown))
    if url:
        lines.append(words["open"].format(url=url))
    return subject, "\n".join(lines).strip() + "\n"


def send_email(settings: Settings, to: str, subject: str, body: str) -> None:
    """One message through the configured SMTP server; raises OSError/SMTPException."""
    if not settings.smtp_host:
        raise ValueError("QUNZHU_SMTP_HOST is not set")
    sender = settings.smtp_from or settings.smtp_user
    if not sender:
        raise ValueError("QUNZHU_SMTP_FROM (or QUNZHU_SMTP_USER) is needed as the sender")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content(body)  # UTF-8: Chinese subjects and text as they are
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.smtp_tls == "ssl":
        client = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=30, context=context
        )
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    with client:
        if settings.smtp_tls == "starttls":
            client.starttls(context=context)
        if settings.smtp_user and settings.smtp_password is not None:
            client.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        client.send_message(message)


def recipients(store: Store, community_id: int, default_lang: str) -> list[Recipient]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                Operator.id,
                Operator.username,
                Operator.email,
                Operator.telegram_user,
                Operator.language,
            )
            .join(OperatorRole, OperatorRole.operator_id == Operator.id)
            .where(
                OperatorRole.community_id == community_id,
                OperatorRole.role.in_(OWNER_ROLES),
                Operator.active.is_(True),
            )
            .order_by(Operator.id)
        ).all()
    return [
        Recipient(r.id, r.username, r.email, r.telegram_user, r.language or default_lang)
        for r in rows
        if r.email or r.telegram_user
    ]


def run(store: Store, community_id: int, now: datetime, base_url: str = "") -> dict[str, Any]:
    """Send the day's digests of one community that are due and not sent yet."""
    settings = store.settings
    if settings.digest_hour is None:
        return {"sent": 0}
    with store.engine.connect() as conn:
        slug, name, spec_yaml = conn.execute(
            select(Community.slug, Community.name, Community.spec_yaml).where(
                Community.id == community_id
            )
        ).one()
    spec = parsed_spec(spec_yaml or "")
    tz = community_zone(spec, settings.tz)
    local = now.astimezone(tz)
    if local.hour < settings.digest_hour:
        return {"sent": 0}
    sent = failed = 0
    t = table_of(TaskDigest)
    for who in recipients(store, community_id, settings.language):
        with store.engine.begin() as conn:
            claimed = insert_ignoring_conflicts(
                conn,
                t,
                [
                    {
                        "community_id": community_id,
                        "operator_id": who.operator_id,
                        "day": local.date(),
                        "channels": "",
                        "tasks": 0,
                        "sent_at": now,
                    }
                ],
                t.c.id,
            )
            if not claimed:
                continue  # sent today already, here or by another process
            actor = Actor(who.operator_id, who.username, every_task=False, some_tasks=True)
            day_plan = plan(conn, community_id, actor, now=now, tz=tz, scope="mine")
            channels: list[str] = []
            if day_plan.open and who.telegram_user:
                _, body = render(
                    name, day_plan, who.lang, tz, f"{base_url}/c/{slug}" if base_url else ""
                )
                outbox.enqueue(conn, community_id, [_telegram(slug, who, body, local)], "digest")
                channels.append("telegram")
            conn.execute(
                update(t)
                .where(t.c.id == claimed[0].id)
                .values(tasks=day_plan.open, channels=",".join(channels))
            )
        error = None
        if day_plan.open and who.email and settings.smtp_host:
            link = f"{base_url}/c/{slug}" if base_url else ""
            subject, body = render(name, day_plan, who.lang, tz, link)
            try:
                send_email(settings, who.email, subject, body)
                channels.append("email")
            except (OSError, smtplib.SMTPException, ValueError) as exc:
                error = f"email: {type(exc).__name__}: {exc}"[:500]
                failed += 1
            with store.engine.begin() as conn:
                conn.execute(
                    update(t)
                    .where(t.c.id == claimed[0].id)
                    .values(channels=",".join(channels), error=error)
                )
        sent += 1 if channels else 0
    return {"sent": sent, "failed": failed}


def _telegram(slug: str, who: Recipient, text: str, local: datetime) -> ev.Action:
    return ev.Action(
        kind="send_message",
        platform="telegram",
        community=slug,
        group=who.telegram_user or "",
        member=who.telegram_user,
        text=text[:4000],  # a Telegram message holds 4096 characters
        reason="digest",
        key=f"digest:{who.operator_id}:{local.date().isoformat()}",
        detail={"private": True, "digest": who.operator_id},
    )
