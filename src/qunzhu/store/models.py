"""Every table, importable from one place (Alembic reads ``Base.metadata`` from here)."""

from qunzhu.store import connectors as _connectors  # noqa: F401  (tables of connectors)
from qunzhu.store import growth as _growth  # noqa: F401  (tables of growth)
from qunzhu.store import intelligence as _intelligence  # noqa: F401  (tables of the engines)
from qunzhu.store import library as _library  # noqa: F401  (the content library)
from qunzhu.store import messaging as _messaging  # noqa: F401  (broadcasts)
from qunzhu.store import tasks as _tasks  # noqa: F401  (the operator's day)
from qunzhu.store.activity import (
    Activity,
    Attendance,
    CheckInRecord,
    EventLogEntry,
    GroupDaily,
    MemberDaily,
    Message,
    Quarantine,
)
from qunzhu.store.admin import (
    ROLES,
    ApiToken,
    AuditEntry,
    Operator,
    OperatorRole,
    OperatorSession,
)
from qunzhu.store.base import Base, utcnow
from qunzhu.store.community import (
    Community,
    Group,
    Identity,
    Member,
    Membership,
    MembershipEvent,
)
from qunzhu.store.operations import (
    Application,
    ModerationAction,
    Order,
    Payment,
    Referral,
    TierChange,
)

__all__ = [
    "ROLES",
    "Activity",
    "ApiToken",
    "Application",
    "Attendance",
    "AuditEntry",
    "Base",
    "CheckInRecord",
    "Community",
    "EventLogEntry",
    "Group",
    "GroupDaily",
    "Identity",
    "Member",
    "MemberDaily",
    "Membership",
    "MembershipEvent",
    "Message",
    "ModerationAction",
    "Operator",
    "OperatorRole",
    "OperatorSession",
    "Order",
    "Payment",
    "Quarantine",
    "Referral",
    "TierChange",
    "utcnow",
]
