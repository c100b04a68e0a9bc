"""The spec's playbooks (群SOP) with where their members stand: each step, how many members
wait at it, and how many finished — what ``qunzhu playbook list`` prints and the playbooks
page shows."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, select

from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.messaging import PlaybookProgress


def overview(conn: Connection, community_id: int, spec: CommunitySpec) -> list[dict[str, Any]]:
    p = PlaybookProgress
    rows = conn.execute(
        select(p.playbook, p.next_step, p.done).where(p.community_id == community_id)
    ).all()
    out: list[dict[str, Any]] = []
    for book in spec.playbooks:
        mine = [r for r in rows if r.playbook == book.name]
        at_step = Counter(r.next_step for r in mine if not r.done)
        out.append(
            {
                "name": book.name,
                "trigger": book.trigger,
                "ends_after_days": book.ends_after_days,
                "steps": [
                    {
                        "day": s.day,
                        "kind": s.kind,
                        "to": s.to,
                        "unless": s.unless,
                        "text": {"zh-CN": s.text.zh_cn, "en": s.text.en},
                        "waiting": at_step.get(n, 0),
                    }
                    for n, s in enumerate(book.steps)
                ],
                "active": sum(1 for r in mine if not r.done),
                "finished": sum(1 for r in mine if r.done),
            }
        )
    return out
