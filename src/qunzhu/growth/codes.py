"""Which stored code a code given by a platform or a person names.

Our own codes are upper case and read aloud, so people type them in any case; a platform's
code (a WeCom contact way's ``state``, an invite link's name) may differ from another only
in case. So the exact text is looked for first, in every table, and only then the text
ignoring case — and that only when it names one code in all the tables, never a guess
between two.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, func, select


def matching_codes(
    conn: Connection, table: Table, community_id: int, given: str, *, ignore_case: bool
) -> list[str]:
    """Codes of ``table`` (a table with ``community_id`` and ``code``) that ``given`` names,
    as stored; two at most (enough to know it is not one)."""
    code = table.c.code
    where = code == given if not ignore_case else func.upper(code) == given.upper()
    found = conn.execute(select(code).where(table.c.community_id == community_id, where).limit(2))
    return list(found.scalars())


def resolve_code(
    conn: Connection, tables: Sequence[Table], community_id: int, given: str
) -> tuple[Table, str] | None:
    """The table and stored code that ``given`` names: the first exact match (tables in the
    order given); else the one code of all tables equal to it ignoring case; else None."""
    given = given.strip()
    if not given:
        return None
    for table in tables:
        if matching_codes(conn, table, community_id, given, ignore_case=False):
            return table, given
    found = [
        (table, code)
        for table in tables
        for code in matching_codes(conn, table, community_id, given, ignore_case=True)
    ]
    return found[0] if len(found) == 1 else None
