"""Time zones of a community and its groups, and a time as the operator reads it there.

The spec names a zone for the community (``timezone``) and may name another per group
(``groups: {<group id>: {timezone: …}}``); where it names none, the installation's
``QUNZHU_TIMEZONE`` holds. :func:`local_time` is the one way a time is written for people:
the dashboard's ``when`` filter and the weekly report both call it, so one message shows
the same local time in both.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qunzhu.spec.loader import load_spec
from qunzhu.spec.problems import SpecError

SHORT = "%m-%d %H:%M"


def zone_named(name: str | None) -> ZoneInfo | None:
    """The IANA zone ``name``, or None for no name or one that is not a zone."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=256)
def _zones_of(spec_yaml: str) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    # parsed once per spec text: every dashboard page asks
    try:
        spec = load_spec(spec_yaml)
    except SpecError:  # a spec that no longer loads names no zone (the lint says why)
        return None, ()
    groups = tuple((key, g.timezone) for key, g in spec.groups.items() if g.timezone)
    return spec.timezone, groups


def spec_zone(spec_yaml: str | None, default: tzinfo, group: str | None = None) -> tzinfo:
    """The zone of ``group`` (its platform id) in the community whose spec is ``spec_yaml``:
    the group's own, else the community's, else ``default``. A name the lint refuses
    (QZ008) is passed over."""
    if not spec_yaml:
        return default
    community, groups = _zones_of(spec_yaml)
    own = dict(groups).get(group) if group is not None else None
    return zone_named(own) or zone_named(community) or default


def zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def local_time(value: datetime | date | None, zone: tzinfo | None, fmt: str = SHORT) -> str:
    """``value`` in ``zone`` (a naive time is UTC, as the store keeps it); a date as it is."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(zone).strftime(fmt) if zone is not None else aware.strftime(fmt)
    return value.strftime("%Y-%m-%d")
