"""WCAG contrast: the formula, and every colour the charts put text on."""

from __future__ import annotations

import pytest

from qunzhu.reports import svg
from qunzhu.reports.contrast import (
    AA_TEXT,
    channels,
    contrast_ratio,
    ink_on,
    relative_luminance,
)


def test_relative_luminance_and_ratio_follow_wcag():
    assert relative_luminance("#ffffff") == pytest.approx(1.0)
    assert relative_luminance("#000") == pytest.approx(0.0)
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#000000") == contrast_ratio("#000000", "#ffffff")
    # the grey usually quoted as the lightest that passes AA on white, and the one just past
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#ffffff") < AA_TEXT
    # the case that was reported: a light label on the funnel's purple
    assert contrast_ratio("#8b5cf6", "#6366f1") < 1.5


def test_colours_are_read_in_the_forms_the_charts_write():
    assert channels("#0f766e") == (15, 118, 110)
    assert channels("#abc") == (170, 187, 204)
    assert channels("rgb(60, 70, 250)") == (60, 70, 250)
    for bad in ("teal", "#12345", "rgb(300, 0, 0)"):
        with pytest.raises(ValueError):
            channels(bad)


@pytest.mark.parametrize("level", range(0, 256, 5))
def test_ink_on_any_grey_reaches_aa(level):
    grey = f"#{level:02x}{level:02x}{level:02x}"
    assert contrast_ratio(ink_on(grey), grey) >= AA_TEXT


def test_ink_on_every_report_chart_colour_reaches_aa():
    fills = [*svg.PALETTE, *svg.ROLE_COLORS.values()]
    for fill in fills:
        assert contrast_ratio(ink_on(fill), fill) >= AA_TEXT, fill
    # the report's own greys on white
    for ink in (svg.INK, svg.MUTED):
        assert contrast_ratio(ink, "#ffffff") >= AA_TEXT, ink
