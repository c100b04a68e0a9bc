"""Bounds on what input may hold: checked at the edge, before anything reaches the store.

Every event is built through :mod:`qunzhu.events`, which applies these; importers check
their light message tuples against the same figures. The limits are what the store can
hold on both databases (PostgreSQL refuses NUL in text and lone surrogates, its integer
columns are 32-bit, its identifier columns have lengths) and what a sane record looks
like (a chat message from before 1970 or after 2100 is a broken clock, not history).
docs/events.md lists them for operators.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)  # exclusive
# the store's count columns (reactions, daily counts) are 32-bit on PostgreSQL
MAX_INT = 2**31 - 1
# amounts (in the currency's minor unit) are 64-bit columns; held to 2**53 - 1 so a JSON
# number carries one exactly (doubles: JavaScript, most JSON libraries) and a group's daily
# sum of 1,024 of the largest still fits in 64 bits
MAX_AMOUNT = 2**53 - 1
AMOUNTS = frozenset({"amount_cents"})
MAX_TEXT = 100_000  # characters of a message; the longest platform limit is 4,096
MAX_NAME = 200  # display names are cut to this (the column's length), not rejected
MAX_IDENTIFIER = 200  # platform ids; some columns are narrower, see IDENTIFIER_LIMITS
MAX_DEPTH = 32  # nesting of an event's JSON (platform payloads nest 6–8 deep)
MAX_EVENT_BYTES = 1 << 20  # one event's JSON text (a `qunzhu ingest` line)

# identifier fields whose columns are narrower than MAX_IDENTIFIER
IDENTIFIER_LIMITS: dict[str, int] = {
    "community": 64,
    "key": 64,
    "group": 128,
    "message_id": 128,
    "reply_to": 128,
    "payment_id": 128,
    "order_id": 64,
    "plan": 64,
    "provider": 32,
    "currency": 8,
    "name": 64,
    "activity": 64,
    "code": 64,
    "invite_code": 64,
}

_EARLIEST_UNIX, _LATEST_UNIX = EARLIEST.timestamp(), LATEST.timestamp()
_NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")


class OutOfBounds(ValueError):
    """A value beyond what qunzhu accepts; the message says which bound and by how much."""


def clean_text(value: str) -> str:
    """Text as the store can hold it on both databases: NUL removed, lone surrogates (which
    no UTF-8 database stores) replaced by U+FFFD."""
    if _NUL in value:
        value = value.replace(_NUL, "")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = _SURROGATE.sub("\ufffd", value)
    return value


def check_identifier(name: str, value: str) -> None:
    """Identifiers are refused, not repaired: a changed id would name another thing."""
    limit = IDENTIFIER_LIMITS.get(name, MAX_IDENTIFIER)
    if len(value) > limit:
        raise OutOfBounds(f"{len(value):,} characters, at most {limit} allowed")
    if _NUL in value:
        raise OutOfBounds("contains a NUL character (\\x00)")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise OutOfBounds("contains an unpaired UTF-16 surrogate") from None


def check_time(moment: datetime) -> None:
    # the year alone settles nearly every time, and cheaply: comparing aware datetimes of
    # two time zones costs an offset lookup on each side (hot in every importer)
    if EARLIEST.year < moment.year < LATEST.year - 1:
        return
    if not EARLIEST <= moment < LATEST:
        raise OutOfBounds(
            f"{moment.isoformat()} is outside {EARLIEST.year}–{LATEST.year - 1}: "
            "not a time a chat record can have (a broken clock?)"
        )


def count_limit(name: str) -> int:
    """The largest whole number the field ``name`` may hold."""
    return MAX_AMOUNT if name in AMOUNTS else MAX_INT


def check_count(value: int, limit: int = MAX_INT) -> None:
    if not 0 <= value <= limit:
        shown = str(value) if value.bit_length() < 128 else f"a {value.bit_length()}-bit number"
        raise OutOfBounds(f"{shown} is outside 0–{limit:,}")


def time_from_unix(value: float) -> datetime:
    """A Unix time in seconds as an aware UTC datetime, within bounds."""
    if value != value or not _EARLIEST_UNIX <= value < _LATEST_UNIX:  # NaN fails as well
        raise OutOfBounds(
            f"Unix time {value!r} is outside {EARLIEST.year}–{LATEST.year - 1} "
            "(seconds are expected, not milliseconds)"
        )
    return datetime.fromtimestamp(value, UTC)


def clean_payload(value: Any, depth: int = 0) -> Any:
    """A JSON-like payload (``raw``) with its strings cleaned as :func:`clean_text`; deeper
    than MAX_DEPTH is refused (the stored JSON would be parsed again by every reader)."""
    if depth > MAX_DEPTH:
        raise OutOfBounds(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {clean_text(str(k)): clean_payload(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_payload(v, depth + 1) for v in value]
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None  # not JSON: PostgreSQL's json type refuses NaN and Infinity
    return value


def loads_event_json(text: str | bytes) -> Any:
    """Parse one event's JSON text within the size bound; OutOfBounds or ValueError
    (json.JSONDecodeError) naming the fault. The parser's own recursion guard stops a
    document nested thousands deep; :func:`clean_payload` then holds ``raw`` to MAX_DEPTH."""
    if len(text) > MAX_EVENT_BYTES:
        raise OutOfBounds(f"{len(text):,} bytes, at most {MAX_EVENT_BYTES:,} per event")
    try:
        return json.loads(text)
    except RecursionError:
        raise OutOfBounds(f"JSON nested far deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # an integer of thousands of digits
        raise OutOfBounds(f"a number too long to read ({str(exc)[:60]})") from None
