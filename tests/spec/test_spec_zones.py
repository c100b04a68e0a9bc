"""Which zone a community's and a group's times are in, and one way to write a time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from qunzhu.spec.zones import local_time, spec_zone, zone_name, zone_named

SHANGHAI = ZoneInfo("Asia/Shanghai")
SPEC = """\
name: n
purpose: p
timezone: Europe/London
groups:
  "#de": {timezone: Europe/Berlin}
  "#typo": {timezone: Europe/Berln}
  "#same": {}
"""


def test_the_group_zone_then_the_community_zone_then_the_default():
    assert zone_name(spec_zone(SPEC, SHANGHAI, "#de")) == "Europe/Berlin"
    assert zone_name(spec_zone(SPEC, SHANGHAI, "#same")) == "Europe/London"
    assert zone_name(spec_zone(SPEC, SHANGHAI, "#other")) == "Europe/London"
    assert zone_name(spec_zone(SPEC, SHANGHAI)) == "Europe/London"
    assert spec_zone(None, SHANGHAI, "#de") is SHANGHAI
    assert spec_zone("name: n\npurpose: p\n", SHANGHAI, "#de") is SHANGHAI


def test_a_zone_the_lint_refuses_or_a_spec_that_does_not_load_falls_back():
    assert zone_name(spec_zone(SPEC, SHANGHAI, "#typo")) == "Europe/London"
    assert spec_zone("name: [unclosed", SHANGHAI) is SHANGHAI
    assert zone_named("Mars/Olympus") is None and zone_named(None) is None


def test_local_time_reads_a_stored_naive_time_as_utc():
    at = datetime(2026, 3, 1, 23, 30)  # as SQLite gives it back: naive UTC
    assert local_time(at, SHANGHAI) == "03-02 07:30"
    assert local_time(at.replace(tzinfo=UTC), ZoneInfo("Europe/Berlin"), "%H:%M") == "00:30"
    assert local_time(None, SHANGHAI) == "–"
    assert local_time(date(2026, 3, 1), SHANGHAI) == "2026-03-01"
