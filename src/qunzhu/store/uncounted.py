"""Who does not count as a member: bots and staff. The one predicate every ranking uses.

A bot is a member with ``is_bot`` set, by its platform's own data (Telegram ``is_bot``, a
OneBot bot's own account) or by an operator (``qunzhu members mark-bot``). Staff are the
accounts the community's spec names under ``staff`` (the operators' own accounts, the
group's assistants): ``platform:user_id`` or a member's display name.

Bots and staff are kept out of value rankings, leaderboards, roles, tiers and referral
rewards; their messages still stand in the message stream and in the group's totals, and
member lists still show them, marked. Every query of this module is scoped by community.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Select, and_, false, or_, select
from sqlalchemy.orm import Session

from qunzhu.store.base import table_of
from qunzhu.store.models import Identity, Member
from qunzhu.store.resolve import community_specs

_members, _identities = table_of(Member), table_of(Identity)


@lru_cache(maxsize=64)
def staff_entries(spec_yaml: str | None) -> tuple[str, ...]:
    """The ``staff`` list of a spec text; none for no spec or one that does not validate
    (the lint says why), so a broken spec never hides anyone by accident."""
    if not spec_yaml:
        return ()
    from qunzhu.spec.loader import load_spec  # the loader pulls in YAML machinery: load late

    try:
        spec = load_spec(spec_yaml)
    except Exception:
        return ()
    return tuple(spec.staff)


def staff_of(conn: Connection, community_id: int) -> tuple[str, ...]:
    """The staff entries of the community's stored spec."""
    found = community_specs(conn, [community_id]).get(community_id)
    return staff_entries(found.spec_yaml) if found is not None else ()


def _staff_condition(community_id: int, entries: Iterable[str]) -> Any:
    accounts: list[Any] = []
    names: list[str] = []
    for entry in entries:
        platform, sep, user = entry.partition(":")
        if sep and platform and user:
            accounts.append(
                and_(_identities.c.platform == platform, _identities.c.platform_user_id == user)
            )
        names.append(entry)  # a display name may hold a colon too
    by_name = _members.c.display_name.in_(names) if names else false()
    if not accounts:
        return by_name
    by_account = _members.c.id.in_(
        select(_identities.c.member_id).where(
            _identities.c.community_id == community_id, or_(*accounts)
        )
    )
    return or_(by_name, by_account)


def uncounted_query(community_id: int, staff: Iterable[str] = ()) -> Select[Any]:
    """The ids of the community's bots and staff, as a subquery for ``NOT IN``."""
    return select(_members.c.id).where(
        _members.c.community_id == community_id,
        or_(_members.c.is_bot.is_(True), _staff_condition(community_id, tuple(staff))),
    )


def counted(column: Any, conn: Connection, community_id: int) -> Any:
    """A condition on a member id ``column``: the member is neither bot nor staff."""
    return column.not_in(uncounted_query(community_id, staff_of(conn, community_id)))


def uncounted_ids(conn: Connection, community_id: int) -> frozenset[int]:
    """The community's bots and staff, for decisions made in Python (roles, tiers, rewards)."""
    query = uncounted_query(community_id, staff_of(conn, community_id))
    return frozenset(int(m) for m in conn.execute(query).scalars())


def kinds_of(conn: Connection, community_id: int, member_ids: Iterable[int]) -> dict[int, str]:
    """``bot`` or ``staff`` for those of ``member_ids`` that are; members lists mark them."""
    wanted = sorted(set(member_ids))
    if not wanted:
        return {}
    staff = staff_of(conn, community_id)
    query = select(_members.c.id, _members.c.is_bot).where(
        _members.c.community_id == community_id,
        _members.c.id.in_(wanted),
        or_(_members.c.is_bot.is_(True), _staff_condition(community_id, staff)),
    )
    return {int(m): "bot" if is_bot else "staff" for m, is_bot in conn.execute(query)}


class UnknownMember(LookupError):
    """No such member in this community."""


def set_bot(session: Session, community_id: int, member_id: int, is_bot: bool) -> dict[str, Any]:
    """An operator's word on whether a member is a bot; it stands over the platform's data
    from then on (``bot_marked_by`` is ``operator``). Returns what changed."""
    member = session.get(Member, member_id)
    if member is None or member.community_id != community_id:
        raise UnknownMember(f"no member {member_id} in this community")
    before = bool(member.is_bot)
    member.is_bot, member.bot_marked_by = is_bot, "operator"
    return {"member": member_id, "is_bot": is_bot, "was_bot": before}


def staff_naming_members(
    conn: Connection, community_id: int, entries: Iterable[str]
) -> frozenset[str]:
    """Those of the staff ``entries`` that name a member of the community (for the lint)."""
    found = set()
    for entry in set(entries):
        query = select(_members.c.id).where(
            _members.c.community_id == community_id, _staff_condition(community_id, [entry])
        )
        if conn.execute(query.limit(1)).first() is not None:
            found.add(entry)
    return frozenset(found)
