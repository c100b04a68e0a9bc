"""A member's personal data: everything stored about them, exported whole or erased.

Erasing keeps what the community's numbers are made of (that a message was posted, when,
its kind and value; joins and leaves; payments' amounts) and removes what identifies or
quotes the person: names, phone, platform account ids, message texts, form answers, raw
payloads and moderation evidence. A member who comes back after an erasure is a new
member: the old account ids are gone, so nothing links the two.

Modules with tables of their own that hold a member's words register a :data:`Eraser`
in :data:`EXTRA_ERASERS` (and an :data:`Exporter` in :data:`EXTRA_EXPORTERS`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from qunzhu.store.library import LibraryItem
from qunzhu.store.models import (
    Application,
    CheckInRecord,
    EventLogEntry,
    Identity,
    Member,
    Membership,
    MembershipEvent,
    Message,
    ModerationAction,
    Order,
    Payment,
    Referral,
    TierChange,
)

Eraser = Callable[[Session, int], int]
Exporter = Callable[[Session, int], dict[str, list[dict[str, Any]]]]
EXTRA_ERASERS: list[Eraser] = []
EXTRA_EXPORTERS: list[Exporter] = []

ERASED = "erased"


class PrivacyError(Exception):
    pass


def _rows(session: Session, model: Any, *conditions: Any) -> list[dict[str, Any]]:
    columns = [c.name for c in model.__table__.columns]
    out = []
    for row in session.execute(select(model.__table__).where(*conditions)).mappings():
        out.append({c: _plain(row[c]) for c in columns})
    return out


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _member(session: Session, community_id: int, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None or member.community_id != community_id:
        raise PrivacyError(f"no member {member_id} in this community")
    return member


def _with_merged(session: Session, member_id: int) -> list[int]:
    merged = session.scalars(select(Member.id).where(Member.merged_into_id == member_id))
    return [member_id, *merged]


def export_member(session: Session, community_id: int, member_id: int) -> dict[str, Any]:
    """Everything stored about one member (and the accounts merged into them), as JSON."""
    _member(session, community_id, member_id)
    ids = _with_merged(session, member_id)
    data: dict[str, Any] = {
        "member": _rows(session, Member, Member.id.in_(ids)),
        "identities": _rows(session, Identity, Identity.member_id.in_(ids)),
        "memberships": _rows(session, Membership, Membership.member_id.in_(ids)),
        "membership_events": _rows(session, MembershipEvent, MembershipEvent.member_id.in_(ids)),
        "messages": _rows(session, Message, Message.member_id.in_(ids)),
        "other_events": _rows(session, EventLogEntry, EventLogEntry.member_id.in_(ids)),
        "check_ins": _rows(session, CheckInRecord, CheckInRecord.member_id.in_(ids)),
        "applications": _rows(session, Application, Application.member_id.in_(ids)),
        "orders": _rows(session, Order, Order.member_id.in_(ids)),
        "payments": _rows(session, Payment, Payment.member_id.in_(ids)),
        "moderation": _rows(session, ModerationAction, ModerationAction.member_id.in_(ids)),
        "tier_changes": _rows(session, TierChange, TierChange.member_id.in_(ids)),
        "referrals_made": _rows(session, Referral, Referral.inviter_member_id.in_(ids)),
        "referred_by": _rows(session, Referral, Referral.invitee_member_id.in_(ids)),
        "library_items": _rows(session, LibraryItem, LibraryItem.member_id.in_(ids)),
    }
    for exporter in EXTRA_EXPORTERS:
        for name, rows in exporter(session, member_id).items():
            data[name] = rows
    return data


def _pseudonym(value: str) -> str:
    # unique per account (the unique constraint needs it), but not reversible
    return f"{ERASED}:{hashlib.blake2b(value.encode(), digest_size=8).hexdigest()}"


def erase_member(session: Session, community_id: int, member_id: int) -> dict[str, int]:
    """Remove what identifies or quotes the member; return how many rows were touched."""
    _member(session, community_id, member_id)
    ids = _with_merged(session, member_id)
    counts: dict[str, int] = {}
    session.execute(
        update(Member)
        .where(Member.id.in_(ids))
        .values(display_name=ERASED, real_name=None, phone=None, tags={})
    )
    counts["members"] = len(ids)
    identities = session.scalars(select(Identity).where(Identity.member_id.in_(ids))).all()
    for identity in identities:
        identity.platform_user_id = _pseudonym(f"{identity.platform}:{identity.platform_user_id}")
        identity.name = ""
    counts["identities"] = len(identities)

    def wipe(name: str, model: Any, **values: Any) -> None:
        result = session.execute(update(model).where(model.member_id.in_(ids)).values(**values))
        counts[name] = int(getattr(result, "rowcount", 0) or 0)

    wipe("messages", Message, text="", edited_text=None, raw=None)
    wipe("membership_events", MembershipEvent, detail=None, raw=None)
    wipe("other_events", EventLogEntry, detail=None)
    wipe("applications", Application, answers={})
    wipe("payments", Payment, raw=None)
    wipe("moderation", ModerationAction, evidence=None, review_note=None)
    # the content library keeps a copy of the words: it would outlive the erasure
    kept = session.execute(delete(LibraryItem).where(LibraryItem.member_id.in_(ids)))
    counts["library_items"] = int(getattr(kept, "rowcount", 0) or 0)
    for eraser in EXTRA_ERASERS:
        counts[getattr(eraser, "__name__", "extra")] = eraser(session, member_id)
    session.flush()
    return counts
