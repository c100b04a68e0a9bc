"""Load the sample community into a store: the community row, its events, its group names.

Loading twice adds nothing: the community is created only if absent, every event carries a
stable key, and the days are anchored to the day the sample was first loaded (see
:func:`anchor`), so a second load a week later regenerates the very same events.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from sqlalchemy import select

from qunzhu.demo.generate import GROUPS, NAME, generate
from qunzhu.demo.records import LIVE, LIVE_DAY, LIVE_HOURS, LIVE_NAME, SLUG
from qunzhu.demo.rhythm import DAYS, LIVE_DAYS, SHANGHAI, Clock, default_now
from qunzhu.demo.spec import DEMO_SPEC
from qunzhu.pipeline import IngestReport
from qunzhu.store.models import Activity, Community, Group, Message
from qunzhu.store.session import Store
from qunzhu.wiring import build_pipeline

# What early builds stored before the sample had a real spec; a reload replaces it.
_OLD_PLACEHOLDER = "slug: demo\n"


def anchor(created_at: datetime | None) -> datetime:
    """The day the sample's 90 days end.

    A demo community is created with ``created_at`` on its first day, so the end is 90 days
    later, however long ago that was. A community made by hand more recently than that
    (``qunzhu community create demo``) gets today, as a fresh load would.
    """
    today = default_now()
    if created_at is None:
        return today
    first = datetime.combine(created_at.astimezone(SHANGHAI).date(), time(), SHANGHAI)
    return min(first + timedelta(days=DAYS), today)


def _ensure_community(store: Store, now: datetime | None) -> datetime:
    """Create the community if absent, in one unit of work; return the anchor to use."""
    with store.unit_of_work() as session:
        community = session.scalars(select(Community).where(Community.slug == SLUG)).first()
        if community is None:
            end = Clock(now).end
            session.add(
                Community(
                    slug=SLUG, name=NAME, spec_yaml=DEMO_SPEC, created_at=end - timedelta(days=DAYS)
                )
            )
            return end
        if community.spec_yaml in (None, _OLD_PLACEHOLDER):
            community.spec_yaml = DEMO_SPEC
        return Clock(now).end if now is not None else anchor(community.created_at)


def _describe_groups(store: Store, end: datetime) -> None:
    """Names, caps and segments for the group rows the pipeline created on first sight,
    and the live session's details for the activity row it created."""
    clock = Clock(end)
    with store.unit_of_work() as session:
        community = session.scalars(select(Community).where(Community.slug == SLUG)).one()
        groups = session.scalars(select(Group).where(Group.community_id == community.id))
        for group in groups:
            info = GROUPS.get(group.platform_group_id)
            if info is None:
                continue
            group.name, group.cap, group.segment = info.name, info.cap, info.segment
            first = session.scalars(
                select(Message.occurred_at)
                .where(Message.group_id == group.id)
                .order_by(Message.occurred_at)
                .limit(1)
            ).first()
            if first is not None:  # the group is as old as its history, not as the load
                group.created_at = min(group.created_at, first)
        live = session.scalars(
            select(Activity).where(Activity.community_id == community.id, Activity.slug == LIVE)
        ).first()
        if live is not None:
            live.name, live.kind, live.capacity = LIVE_NAME, "online", 200
            live.starts_at = clock.at(LIVE_DAY, LIVE_HOURS[0])
            live.ends_at = clock.at(LIVE_DAY, LIVE_HOURS[1])


def load_demo(
    store: Store,
    *,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """Create the ``demo`` community if absent and feed the sample through the pipeline.

    ``progress`` is called with the number of events in each chunk as it is stored.
    ``now`` pins the last day (tests); by default the anchor keeps reloads idempotent.
    """
    end = _ensure_community(store, now)
    events = list(generate(seed, now=end))
    cut = end - timedelta(days=LIVE_DAYS)
    report = build_pipeline(store, "history", create_communities=True).run(
        [e for e in events if e.occurred_at < cut], source="demo", progress=progress
    )
    # the last week goes through the live pipeline, as if the groups were connected: its ads
    # are decided on (WeChat cannot act, so they become alerts) and flagged messages wait in
    # the review queue, which is what an operator opening the dashboard should see
    report.absorb(
        build_pipeline(store, "live", create_communities=True).run(
            [e for e in events if e.occurred_at >= cut], source="demo", progress=progress
        )
    )
    _describe_groups(store, end)
    _assess(store, end)
    return report


def _assess(store: Store, end: datetime) -> None:
    """Health for the last four weeks, roles, values and tiers as of the sample's last day,
    so the dashboard has something to say on first run (what `qunzhu recompute` does daily)."""
    from qunzhu.engines.recompute import recompute_community

    with store.engine.connect() as conn, conn.begin():
        community_id = conn.execute(select(Community.id).where(Community.slug == SLUG)).scalar_one()
        last_day = (end - timedelta(days=1)).astimezone(SHANGHAI).date()
        recompute_community(conn, community_id, last_day, SHANGHAI, backfill_days=28)
