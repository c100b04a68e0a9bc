"""A small community with scored messages for the content library's tests (imported by file
path from tests of the read model, the CLI, the API and the dashboard)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from qunzhu.events import event_from_json
from qunzhu.store import Store
from qunzhu.store.intelligence import MessageScore
from qunzhu.store.models import Community, Message
from qunzhu.wiring import build_pipeline

# relative to the clock: the API reads suggestions of the last 90 days from now
NOW = datetime.now(UTC).replace(microsecond=0)
# (platform message id, author, text, value): what the value engine would have scored
MESSAGES = (
    ("m1", "ann", "新人入群先看群公告，打卡规则在置顶消息里，每天晚上九点前提交。", 9.5),
    ("m2", "bo", "Python 的虚拟环境用 venv 就够了：python -m venv .venv，然后激活它。", 8.0),
    ("m3", "cy", "社群运营的关键是持续输出干货，而不是每天发红包。手机 13812345678 找我。", 7.2),
    ("m4", "ann", "谢谢大家", 3.0),  # too short to be worth keeping
    ("m5", "bo", "Use 100% of the review queue before Friday: it empties itself_", 5.1),
    ("m6", "cy", "今天天气不错，大家周末有什么安排吗？可以一起去爬山。", 0.0),  # no value
)


def seed_library(
    store: Store, slug: str = "acme", name: str = "读书会", *, create: bool = True
) -> int:
    """The community ``slug`` (made unless ``create`` is false) with MESSAGES in group
    -1001, each scored; its id."""
    if create:
        with store.unit_of_work() as session:
            session.add(Community(slug=slug, name=name, spec_yaml="name: x\npurpose: y\n"))
    events = [
        {
            "type": "message_posted",
            "platform": "telegram",
            "community": slug,
            "group": "-1001",
            "member": author,
            "occurred_at": (NOW - timedelta(days=n + 1)).isoformat(),
            "message_id": key,
            "text": text,
        }
        for n, (key, author, text, _) in enumerate(MESSAGES)
    ]
    build_pipeline(store, "history").run([event_from_json(e) for e in events], source="test")
    with store.unit_of_work() as session:
        cid = int(session.scalar(select(Community.id).where(Community.slug == slug)))
        for key, _, _, value in MESSAGES:
            message = session.scalar(
                select(Message).where(
                    Message.community_id == cid, Message.platform_message_id == key
                )
            )
            assert message is not None
            session.execute(update(Message).where(Message.id == message.id).values(value=value))
            session.merge(
                MessageScore(
                    message_id=message.id,
                    community_id=cid,
                    group_id=message.group_id,
                    member_id=message.member_id,
                    day=message.occurred_at.date(),
                    value=value,
                )
            )
    return cid


def message_id(store: Store, community_id: int, key: str) -> int:
    with store.reading() as session:
        return int(
            session.scalar(
                select(Message.id).where(
                    Message.community_id == community_id, Message.platform_message_id == key
                )
            )
        )


def assign_groups(store: Store, community_id: int, operator_id: int) -> None:
    """Every group of the community assigned to the operator (a moderator decides for them)."""
    from qunzhu.store.models import Group
    from qunzhu.store.tasks import OperatorGroup

    with store.unit_of_work() as session:
        for group_id in session.scalars(select(Group.id).where(Group.community_id == community_id)):
            session.add(
                OperatorGroup(community_id=community_id, operator_id=operator_id, group_id=group_id)
            )
