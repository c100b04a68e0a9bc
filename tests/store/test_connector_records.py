"""Alerts written many at a time: each once by its key, an unknown community's left out."""

from __future__ import annotations

from sqlalchemy import func, select

from qunzhu.store import connector_records as records
from qunzhu.store.base import table_of
from qunzhu.store.connectors import ConnectorAlert
from qunzhu.store.models import Community


def _alert(n: int, community: str = "acme", key: str | None = None) -> dict[str, object]:
    return {
        "community": community,
        "connector_id": None,
        "platform": "wechat",
        "group": "123@chatroom",
        "member": f"wxid_{n}",
        "kind": "delete",
        "text": f"WeChat cannot delete message {n} of wxid_{n}",
        "key": key,
    }


def _count(store) -> int:
    with store.read_engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(table_of(ConnectorAlert))).scalar_one()
        )


def test_alerts_are_written_together_each_once(store):
    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="读书会"))
    batch = [_alert(1, key="k1"), _alert(1, key="k1"), _alert(2), _alert(3, community="nobody")]
    assert records.add_alerts(store, batch) == 2  # the twin by key, the stranger left out
    assert _count(store) == 2
    assert records.add_alerts(store, batch) == 0  # a flush that comes again adds nothing
    assert records.add_alert(store, **_alert(4)) is True
    assert records.add_alert(store, **_alert(4)) is False  # the same alert's key, made
    assert _count(store) == 3
