"""How often flags were right (flag_precision): the flags a moderator approved or undid in the
last 30 days, per detector, one community at a time — what ``qunzhu moderation review
stats``, ``GET …/moderation/precision`` and the review page show."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from qunzhu.cli.main import app
from qunzhu.readmodels.review_precision import flag_precision, wilson
from qunzhu.store.models import Community, Member, ModerationAction

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _flags(store, rows):
    """rows: (community slug, detector, status, reviewed days ago or None, action)."""
    with store.unit_of_work() as session:
        ids: dict[str, int] = {}
        for slug in ("acme", "rival"):
            community = Community(slug=slug, name=slug)
            session.add(community)
            session.flush()
            member = Member(community_id=community.id, display_name="u1")
            session.add(member)
            session.flush()
            ids[slug], ids[f"{slug}-member"] = community.id, member.id
        for n, (slug, detector, status, ago, action) in enumerate(rows):
            session.add(
                ModerationAction(
                    community_id=ids[slug],
                    member_id=ids[f"{slug}-member"],
                    key=f"k{n}",
                    action=action,
                    rule="classifier" if detector == "classifier" else "contact_solicitation",
                    detector=detector,
                    score=0.7,
                    status=status,
                    mode="live",
                    reviewed_at=None if ago is None else NOW - timedelta(days=ago),
                    created_at=NOW - timedelta(days=40),
                )
            )
        return ids


def test_precision_is_approved_over_decided_per_detector_in_the_window(store):
    ids = _flags(
        store,
        [
            *[("acme", "classifier", "approved", 1, "flag")] * 3,
            *[("acme", "classifier", "undone", 2, "flag")] * 5,
            *[("acme", "phone", "approved", 3, "flag")] * 4,
            ("acme", "phone", "undone", 40, "flag"),  # reviewed before the window
            ("acme", "phone", "undone", 1, "mute"),  # a sanction undone, not a flag
            ("acme", "classifier", "pending_review", None, "flag"),
            *[("rival", "classifier", "undone", 1, "flag")] * 7,  # another community
        ],
    )
    with store.engine.connect() as conn:
        p = flag_precision(conn, ids["acme"], NOW)
    assert (p.total.approved, p.total.undone, p.total.reviewed) == (7, 5, 12)
    assert p.total.precision == pytest.approx(7 / 12)
    low, high = p.total.interval or (0, 0)
    assert low < 7 / 12 < high
    by = {d.detector: (d.approved, d.undone) for d in p.by_detector}
    assert by == {"classifier": (3, 5), "phone": (4, 0)}
    assert p.pending == 1
    data = p.as_dict()
    assert data["by_detector"][0]["detector"] == "classifier"  # most reviewed first
    assert data["community_layer"] == {"in_use": False, "path": None, "trained_at": None}


def test_nothing_decided_has_no_precision(store):
    ids = _flags(store, [("rival", "classifier", "approved", 1, "flag")])
    with store.engine.connect() as conn:
        p = flag_precision(conn, ids["acme"], NOW)
    assert p.total.reviewed == 0 and p.total.precision is None and p.total.interval is None
    assert p.as_dict()["precision"] is None and p.by_detector == []


def test_wilson_interval_matches_the_textbook_figures():
    low, high = wilson(7, 12) or (0, 0)
    assert (round(low, 3), round(high, 3)) == (0.32, 0.807)
    low, high = wilson(4, 4) or (0, 0)
    assert round(high, 3) == 1.0 and round(low, 3) == 0.51
    assert wilson(0, 0) is None


def test_the_cli_prints_the_same_figure(store, cli, cli_env):
    ids = _flags(
        store,
        [
            ("acme", "classifier", "approved", 0, "flag"),
            ("acme", "classifier", "undone", 0, "flag"),
        ],
    )
    result = cli.invoke(app, ["moderation", "review", "stats", "-c", "acme", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    with store.engine.connect() as conn:
        now = datetime.now(UTC)
        expected = flag_precision(conn, ids["acme"], now).as_dict()
    assert data["precision"] == expected["precision"] == 0.5
    assert data["by_detector"] == expected["by_detector"]
    shown = cli.invoke(app, ["moderation", "review", "stats", "-c", "acme"])
    assert shown.exit_code == 0 and "50%" in shown.output
