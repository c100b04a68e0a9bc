"""Normalized events: what every adapter and importer turns platform data into.

Events are frozen dataclasses. Each carries where it happened (platform, community, group),
who (member: the platform's user id), when (an aware UTC datetime), a stable idempotency
``key`` and the ``raw`` payload for audit. The same ``key`` delivered twice changes nothing.

The JSON form (``docs/events.schema.json``) is the dataclass fields plus ``"type"``, the
event's ``type_name``; ``key`` may be omitted and is then derived from the content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, get_args

from qunzhu import bounds
from qunzhu.bounds import OutOfBounds

Platform = Literal["telegram", "qq", "wecom", "wechat", "discord", "irc", "whatsapp", "api", "test"]
PLATFORMS: tuple[str, ...] = get_args(Platform)

MessageKind = Literal[
    "text",
    "image",
    "voice",
    "video",
    "sticker",
    "file",
    "link",
    "quote",
    "contact_card",
    "mini_program",
    "red_envelope",
    "location",
    "poll",
    "system",
    "other",
]
MESSAGE_KINDS: tuple[str, ...] = get_args(MessageKind)

JoinVia = Literal["invite", "link", "qr", "request", "code", "added", "self", "unknown"]
LeaveReason = Literal["left", "removed", "banned"]


def make_key(*parts: object) -> str:
    """A stable idempotency key from the parts that identify an event on its platform."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every normalized event."""

    type_name: ClassVar[str] = "event"

    platform: str
    community: str
    group: str
    member: str
    occurred_at: datetime
    key: str = ""
    raw: Mapping[str, Any] | str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.platform not in PLATFORMS:
            raise EventError(f"unknown platform {self.platform!r}", field="platform")
        for name in ("community", "group", "member"):
            if not getattr(self, name):
                raise EventError(f"{name} must not be empty", field=name)
        if not isinstance(self.occurred_at, datetime):
            raise EventError("must be a datetime", field="occurred_at")
        if self.occurred_at.tzinfo is None:
            raise EventError("occurred_at must carry a time zone", field="occurred_at")
        try:
            bounds.check_time(self.occurred_at)  # before astimezone: year 1 would overflow
        except OutOfBounds as exc:
            raise EventError(str(exc), field="occurred_at") from None
        if self.occurred_at.utcoffset() != UTC.utcoffset(None):
            object.__setattr__(self, "occurred_at", self.occurred_at.astimezone(UTC))
        _within_bounds(self)
        if not self.key:
            object.__setattr__(self, "key", make_key(*self.identity()))

    def identity(self) -> tuple[object, ...]:
        """What makes this event the same event when delivered again (used for ``key``)."""
        return (
            self.type_name,
            self.platform,
            self.community,
            self.group,
            self.member,
            self.occurred_at.isoformat(),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type_name}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        return out


class EventError(ValueError):
    """An event that cannot be built; ``field`` names the offending field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        if len(message) > 500:  # a reason a person reads, not the whole offending value
            message = message[:500] + " …"
        super().__init__(message if field is None else f"{field}: {message}")
        self.field = field


# How each field is held to its bounds (qunzhu.bounds): identifiers are refused when they
# hold NUL or are too long (a repaired id would name another thing); text has NUL removed
# and is refused when too long; display names are cleaned and cut; counts stay in 32 bits,
# amounts in 53 (bounds.MAX_AMOUNT).
# Every event is built through here, live ones too: the common case (short ASCII-or-clean
# values) is decided by a few comparisons per field, the bounds module only when needed.
_NAMES = frozenset({"member_name", "old_name", "new_name"})
_TEXTS = frozenset({"text", "note", "attachment"})
_COUNTS = frozenset({"reactions", "amount_cents"})
_ENUMS = frozenset({"platform", "kind", "via", "reason", "status", "occurred_at", "raw"})
MAX_LIST = 1_000  # mentions of one message, answers of one application
_ID, _TEXT, _NAME, _COUNT, _LIST, _MAP = range(6)
_plans: dict[type[Any], tuple[tuple[str, int, int], ...]] = {}


def _plan(cls: type[Any]) -> tuple[tuple[str, int, int], ...]:
    """(field, how it is checked, its length limit) for an event class, once per class."""
    plan = _plans.get(cls)
    if plan is None:
        out = []
        for f in fields(cls):
            kind = str(f.type)
            if f.name in _ENUMS or kind == "bool":
                continue
            how = (
                _NAME if f.name in _NAMES
                else _TEXT if f.name in _TEXTS
                else _COUNT if f.name in _COUNTS
                else _LIST if kind.startswith("tuple")
                else _MAP if kind.startswith("Mapping")
                else _ID
            )  # fmt: skip
            limit = {
                _NAME: bounds.MAX_NAME,
                _TEXT: bounds.MAX_TEXT,
                _COUNT: bounds.count_limit(f.name),
            }.get(how, bounds.IDENTIFIER_LIMITS.get(f.name, bounds.MAX_IDENTIFIER))
            out.append((f.name, how, limit))
        plan = _plans[cls] = tuple(out)
    return plan


def _clean(value: str) -> bool:
    """True when ``value`` needs nothing from clean_text (no NUL, no lone surrogate)."""
    return "\x00" not in value and (value.isascii() or bounds.clean_text(value) is value)


def _within_bounds(event: Event) -> None:
    for name, how, limit in _plan(type(event)):
        value = getattr(event, name)
        if value is None:
            continue
        try:
            if how == _ID:
                if len(value) > limit or not _clean(value):
                    bounds.check_identifier(name, value)
            elif how in (_TEXT, _NAME):
                if len(value) > limit:
                    if how == _TEXT:
                        raise OutOfBounds(f"{len(value):,} characters, at most {limit:,} allowed")
                    value = value[:limit]
                    object.__setattr__(event, name, value)
                if not _clean(value):
                    object.__setattr__(event, name, bounds.clean_text(value))
            elif how == _COUNT:
                if not 0 <= value <= limit:
                    bounds.check_count(value, limit)
            elif how == _LIST:
                if len(value) > MAX_LIST:
                    raise OutOfBounds(f"{len(value):,} entries, at most {MAX_LIST:,}")
                for item in value:
                    bounds.check_identifier(name, item)
            elif how == _MAP and value:
                if len(value) > MAX_LIST:
                    raise OutOfBounds(f"{len(value):,} entries, at most {MAX_LIST:,}")
                cleaned = {
                    bounds.clean_text(str(k)[: bounds.MAX_NAME]): bounds.clean_text(
                        str(v)[: bounds.MAX_TEXT]
                    )
                    for k, v in value.items()
                }
                object.__setattr__(event, name, cleaned)
        except OutOfBounds as exc:
            raise EventError(str(exc), field=name) from None
    # a payload from JSON is cleaned by event_from_json (depth, NaN); a text one here
    if isinstance(event.raw, str) and not _clean(event.raw):
        object.__setattr__(event, "raw", bounds.clean_text(event.raw))


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePosted(Event):
    type_name: ClassVar[str] = "message_posted"

    message_id: str
    text: str = ""
    kind: str = "text"
    member_name: str = ""
    reply_to: str | None = None
    reply_inferred: bool = False
    mentions: tuple[str, ...] = ()
    reactions: int = 0
    forwarded: bool = False
    attachment: str | None = None
    member_is_bot: bool = False

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        if self.kind not in MESSAGE_KINDS:
            raise EventError(f"unknown message kind {self.kind!r}", field="kind")
        if not self.message_id:
            raise EventError("message_id must not be empty", field="message_id")

    def identity(self) -> tuple[object, ...]:
        return (self.type_name, self.platform, self.community, self.group, self.message_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEdited(Event):
    type_name: ClassVar[str] = "message_edited"

    message_id: str
    text: str

    def identity(self) -> tuple[object, ...]:
        return (*Event.identity(self), self.message_id, self.text)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRecalled(Event):
    type_name: ClassVar[str] = "message_recalled"

    message_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionAdded(Event):
    type_name: ClassVar[str] = "reaction_added"

    message_id: str
    emoji: str = ""

    def identity(self) -> tuple[object, ...]:
        return (*Event.identity(self), self.message_id, self.emoji)


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberJoined(Event):
    type_name: ClassVar[str] = "member_joined"

    member_name: str = ""
    inviter: str | None = None
    via: str = "unknown"
    invite_code: str | None = None
    member_is_bot: bool = False

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        if self.via not in get_args(JoinVia):
            raise EventError(f"unknown join path {self.via!r}", field="via")


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberLeft(Event):
    type_name: ClassVar[str] = "member_left"

    member_name: str = ""
    reason: str = "left"
    by: str | None = None

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        if self.reason not in get_args(LeaveReason):
            raise EventError(f"unknown leave reason {self.reason!r}", field="reason")


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberRenamed(Event):
    """``member`` now goes by ``new_name``; ``new_member`` is the platform id that name is,
    where a platform's ids are changeable names (an IRC nick): the store then links that id
    to the same member, so later records under it count for the same person."""

    type_name: ClassVar[str] = "member_renamed"

    old_name: str = ""
    new_name: str
    new_member: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteUsed(Event):
    """``member`` joined through ``inviter``'s invitation (link, code or system line)."""

    type_name: ClassVar[str] = "invite_used"

    inviter: str
    code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationSubmitted(Event):
    type_name: ClassVar[str] = "application_submitted"

    application_id: str
    answers: Mapping[str, str] = field(default_factory=dict)
    member_name: str = ""

    def identity(self) -> tuple[object, ...]:
        return (self.type_name, self.platform, self.community, self.application_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentReceived(Event):
    type_name: ClassVar[str] = "payment_received"

    payment_id: str
    amount_cents: int
    currency: str = "CNY"
    plan: str | None = None
    order_id: str | None = None
    provider: str = "manual"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        if self.amount_cents < 0:
            raise EventError("amount_cents must not be negative", field="amount_cents")

    def identity(self) -> tuple[object, ...]:
        return (self.type_name, self.provider, self.community, self.payment_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckIn(Event):
    type_name: ClassVar[str] = "check_in"

    name: str = "daily"
    note: str = ""

    def identity(self) -> tuple[object, ...]:
        # one check-in per member, check-in name and day
        return (
            self.type_name,
            self.platform,
            self.community,
            self.group,
            self.member,
            self.name,
            self.occurred_at.date().isoformat(),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivityAttended(Event):
    """A member's step in an activity: registered → screened → checked_in → attended."""

    type_name: ClassVar[str] = "activity_attended"

    activity: str
    status: str = "attended"

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        if self.status not in ("registered", "screened", "checked_in", "attended", "absent"):
            raise EventError(f"unknown attendance status {self.status!r}", field="status")

    def identity(self) -> tuple[object, ...]:
        return (self.type_name, self.community, self.member, self.activity, self.status)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type_name: cls
    for cls in (
        MessagePosted,
        MessageEdited,
        MessageRecalled,
        ReactionAdded,
        MemberJoined,
        MemberLeft,
        MemberRenamed,
        InviteUsed,
        ApplicationSubmitted,
        PaymentReceived,
        CheckIn,
        ActivityAttended,
    )
}


def _parse_time(value: object) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = bounds.time_from_unix(value)
        except OutOfBounds as exc:
            raise EventError(str(exc), field="occurred_at") from None
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise EventError(f"not an ISO 8601 time: {value[:60]!r}", field="occurred_at") from None
    else:
        raise EventError("must be an ISO 8601 string or a Unix time", field="occurred_at")
    if moment.tzinfo is None:
        raise EventError("needs a time zone (e.g. +08:00 or Z)", field="occurred_at")
    return moment


def event_from_json(data: object) -> Event:
    """Build an event from its JSON form; raises EventError naming the field at fault, and
    nothing else, whatever ``data`` holds."""
    try:
        return _event_from_json(data)
    except EventError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # e.g. an integer id of 5,000 digits that Python will not turn into a string
        raise EventError(f"cannot be read: {type(exc).__name__}: {exc}") from None


def _event_from_json(data: object) -> Event:
    if not isinstance(data, Mapping):
        raise EventError("an event must be a JSON object")
    type_name = data.get("type")
    if not isinstance(type_name, str) or type_name not in EVENT_TYPES:
        known = ", ".join(sorted(EVENT_TYPES))
        raise EventError(f"unknown event type {type_name!r} (known: {known})", field="type")
    cls = EVENT_TYPES[type_name]
    kwargs: dict[str, Any] = {}
    allowed = {f.name: f for f in fields(cls)}
    for name, value in data.items():
        if name == "type":
            continue
        if name not in allowed:
            raise EventError(f"not a field of {type_name}", field=name)
        kwargs[name] = value
    for name, f in allowed.items():
        if name not in kwargs and f.default is MISSING and f.default_factory is MISSING:
            raise EventError(f"required by {type_name}", field=name)
    kwargs["occurred_at"] = _parse_time(kwargs["occurred_at"])
    for name, f in allowed.items():
        value = kwargs.get(name)
        expected = str(f.type)
        if value is None:
            if name in kwargs and "None" not in expected:
                raise EventError("must not be null (leave it out for its default)", field=name)
            continue
        if expected.startswith("str") and not isinstance(value, str):
            if isinstance(value, int) and not isinstance(value, bool):
                if value.bit_length() > 128:
                    raise EventError("a number far too long for an id", field=name)
                kwargs[name] = str(value)  # platform ids often arrive as numbers
            else:
                raise EventError(f"must be a string, got {type(value).__name__}", field=name)
        elif expected == "int" and (not isinstance(value, int) or isinstance(value, bool)):
            raise EventError(f"must be an integer, got {type(value).__name__}", field=name)
        elif expected == "bool" and not isinstance(value, bool):
            raise EventError(f"must be true or false, got {value!r}", field=name)
        elif expected.startswith("tuple"):
            if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
                raise EventError("must be a list of strings", field=name)
            kwargs[name] = tuple(str(v) for v in value)
        elif expected.startswith("Mapping[str, str]"):
            if not isinstance(value, Mapping):
                raise EventError("must be an object", field=name)
            kwargs[name] = {str(k): str(v) for k, v in value.items()}
    raw = kwargs.get("raw", data)
    try:  # stored as JSON and read back by every reader: within depth, without NaN
        kwargs["raw"] = None if raw is None else bounds.clean_payload(raw)
    except OutOfBounds as exc:
        raise EventError(str(exc), field="raw") from None
    try:
        return cls(**kwargs)
    except TypeError as exc:  # wrong argument shape not caught above
        raise EventError(str(exc)) from exc


# ---------------------------------------------------------------------------------------
# Actions: what engines decide and adapters carry out on a platform. Where a platform
# cannot act (DESIGN §3), the adapter turns the action into an Alert for an operator.

ActionKind = Literal[
    "delete_message",
    "send_message",
    "warn",
    "mute",
    "unmute",
    "remove",
    "ban",
    "unban",
    "approve_join",
    "decline_join",
    "create_invite_link",
    "alert",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    kind: ActionKind
    platform: str
    community: str
    group: str
    member: str | None = None
    message_id: str | None = None
    text: str | None = None
    duration_seconds: int | None = None
    reason: str = ""
    key: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in get_args(ActionKind):
            raise EventError(f"unknown action kind {self.kind!r}", field="kind")
        if not self.key:
            object.__setattr__(
                self,
                "key",
                make_key(
                    "action",
                    self.kind,
                    self.platform,
                    self.community,
                    self.group,
                    self.member,
                    self.message_id,
                    self.text,
                    self.duration_seconds,
                ),
            )
