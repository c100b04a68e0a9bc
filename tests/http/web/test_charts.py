"""The dashboard's chart options: what makes them legible on a phone and a laptop."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from qunzhu.http.i18n import translator
from qunzhu.http.web import charts
from qunzhu.http.web.queries.charts import Cohorts, Trend
from qunzhu.reports.contrast import AA_TEXT, contrast_ratio, ink_on

LANGS = ("en", "zh-CN")


def test_every_palette_colour_has_an_ink_that_reaches_aa():
    for fill in charts.PALETTE:
        assert contrast_ratio(ink_on(fill), fill) >= AA_TEXT, fill


@pytest.mark.parametrize("lang", LANGS)
def test_funnel_labels_contrast_with_their_stage_and_the_last_stage_has_room(lang):
    stages = [("applied", 120), ("joined", 69), ("spoke", 38), ("paid", 5)]
    option = charts.funnel_option(stages, translator(lang))
    (series,) = option["series"]
    assert len(series["data"]) == len(stages)
    for item in series["data"]:
        fill, ink = item["itemStyle"]["color"], item["label"]["color"]
        assert contrast_ratio(ink, fill) >= AA_TEXT, (item["name"], fill, ink)
    assert float(series["minSize"].rstrip("%")) >= 25  # a stage of 5 in 120 stays wide
    assert series["label"]["position"] == "inside"


@pytest.mark.parametrize("lang", LANGS)
def test_role_mix_names_go_in_the_legend_not_beside_the_slices(lang):
    t = translator(lang)
    option = charts.role_mix_option({"lurker": 240, "active": 114, "kol": 56, "core": 38}, t)
    (series,) = option["series"]
    # a name beside a slice is what ECharts cut to "…"; the share is short enough
    assert "{b}" not in series["label"]["formatter"]
    assert option["legend"]["bottom"] == 0
    assert series["data"][0]["name"] == t("member_role.lurker")


@pytest.mark.parametrize("lang", LANGS)
def test_value_trend_legend_sits_under_the_plot_away_from_the_axis_names(lang):
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(30)]
    trend = Trend(days=days, value=[1.0] * 30, messages=[2] * 30)
    option = charts.value_trend_option(trend, translator(lang))
    assert "top" not in option["legend"] and option["legend"]["bottom"] == 0
    assert all(axis.get("name") for axis in option["yAxis"])  # the names stay at the top
    assert option["grid"]["bottom"] >= 30  # room for the legend under the day labels


def test_retention_cells_are_whole_percents_with_readable_ink():
    cohorts = Cohorts(
        weeks=[date(2026, 11, 2), date(2026, 11, 9)],
        sizes=[13, 18],
        shares=[[100.0, 92.3, 0.0], [88.9, 50.0, None]],
    )
    option = charts.cohorts_option(cohorts, translator("en"))
    cells = option["series"][0]["data"]
    assert len(cells) == 5  # "not yet" is left out
    for cell in cells:
        share = cell["value"][2]
        assert isinstance(share, int)
        shade = charts.retention_shade(share)
        assert contrast_ratio(cell["label"]["color"], shade) >= AA_TEXT
    assert charts.retention_shade(0) == charts.RETENTION_RANGE[0]
    assert charts.retention_shade(100) == charts.RETENTION_RANGE[1]
