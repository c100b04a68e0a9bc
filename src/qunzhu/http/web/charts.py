"""ECharts options for the community charts, built on the server with localized labels.

The page carries each option as JSON in a ``<script type="application/json">`` block and
``static/qunzhu.js`` draws it (as SVG), so no inline script is needed (the CSP allows none).

Made to read at 390 px as at 1366 px: legends sit under the plot, away from the axis names,
and wrap; names go in the legend rather than beside slices (where ECharts cuts them to "…");
text drawn on a colour gets the ink that contrasts with it (WCAG AA, ``reports.contrast``).
"""

from __future__ import annotations

from typing import Any

from qunzhu.http.i18n import Translator
from qunzhu.http.web.queries.charts import Cohorts, Trend
from qunzhu.reports.contrast import channels, ink_on

PALETTE = ["#0f766e", "#f59e0b", "#6366f1", "#ef4444", "#10b981", "#8b5cf6", "#64748b"]
LEGEND = {"bottom": 0, "left": "center", "itemGap": 12, "itemWidth": 14, "itemHeight": 10}


def _base() -> dict[str, Any]:
    return {
        "color": PALETTE,
        "animation": False,
        "grid": {"left": 8, "right": 8, "top": 36, "bottom": 36, "containLabel": True},
        "tooltip": {"trigger": "axis", "confine": True},
    }


def value_trend_option(trend: Trend, t: Translator) -> dict[str, Any]:
    """Value as a line and messages as bars per day. Today's unfinished day is not a drop:
    its value is drawn as a dashed segment from yesterday (a third series, after the bars),
    its column shaded and its label marked."""
    labels = [d.strftime("%m-%d") for d in trend.days]
    solid: list[float | None] = list(trend.value)
    series: list[dict[str, Any]] = []
    if trend.partial and len(labels) >= 2:
        labels[-1] = t("chart.today_so_far", day=labels[-1])
        solid[-1] = None
        dashed: list[float | None] = [None] * (len(labels) - 2) + trend.value[-2:]
        series.append(
            {
                "name": t("chart.value"),
                "type": "line",
                "smooth": True,
                "data": dashed,
                "lineStyle": {"type": "dashed"},
                "symbol": "emptyCircle",
                "markArea": {
                    "silent": True,
                    "itemStyle": {"color": "rgba(100, 116, 139, 0.12)"},
                    "data": [[{"xAxis": labels[-1]}, {"xAxis": labels[-1]}]],
                },
            }
        )
    option = _base()
    option.update(
        {
            "legend": {**LEGEND, "data": [t("chart.value"), t("chart.messages")]},
            "xAxis": {
                "type": "category",
                "data": labels,
                # a little further down than ECharts' 8 px, so that the first day does not
                # touch the "0" of the value axis on a phone
                "axisLabel": {"margin": 12},
            },
            "yAxis": [
                {"type": "value", "name": t("chart.value")},
                {"type": "value", "name": t("chart.messages"), "splitLine": {"show": False}},
            ],
            "series": [
                {
                    "name": t("chart.value"),
                    "type": "line",
                    "smooth": True,
                    "data": solid,
                    "areaStyle": {"opacity": 0.15},
                },
                {
                    "name": t("chart.messages"),
                    "type": "bar",
                    "yAxisIndex": 1,
                    "data": trend.messages,
                    "itemStyle": {"opacity": 0.5},
                },
                *series,
            ],
        }
    )
    return option


def role_mix_option(mix: dict[str, int], t: Translator) -> dict[str, Any]:
    option = _base()
    option["tooltip"] = {"trigger": "item", "confine": True, "formatter": "{b}: {c} ({d}%)"}
    option["legend"] = dict(LEGEND)
    option["series"] = [
        {
            "type": "pie",
            "radius": ["36%", "60%"],
            "center": ["50%", "44%"],
            "avoidLabelOverlap": True,
            "percentPrecision": 0,
            # the share beside each slice, the name in the legend: a name beside a slice is
            # cut to "…" when the chart is narrow
            "label": {"formatter": "{d}%", "overflow": "none"},
            "labelLine": {"length": 8, "length2": 6},
            "labelLayout": {"hideOverlap": True},
            "data": [{"name": t(f"member_role.{k}"), "value": v} for k, v in mix.items()],
        }
    ]
    return option


def funnel_option(stages: list[tuple[str, int]], t: Translator) -> dict[str, Any]:
    option = _base()
    option["tooltip"] = {"trigger": "item", "confine": True}
    data = []
    for i, (key, value) in enumerate(stages):
        fill = PALETTE[i % len(PALETTE)]
        data.append(
            {
                "name": t(f"funnel.{key}"),
                "value": value,
                "itemStyle": {"color": fill},
                "label": {"color": ink_on(fill)},
            }
        )
    option["series"] = [
        {
            "type": "funnel",
            "sort": "none",
            "left": "10%",
            "width": "80%",
            "top": 16,
            "bottom": 16,
            # the last stage is often a few people: wide enough for its label all the same
            "minSize": "30%",
            "label": {
                "show": True,
                "position": "inside",
                "formatter": "{b}: {c}",
                "fontSize": 13,
                "overflow": "none",
            },
            "data": data,
        }
    ]
    return option


def cohorts_option(cohorts: Cohorts, t: Translator) -> dict[str, Any]:
    weeks = [t("chart.week_n", n=k) for k in range(len(cohorts.weeks))]
    labels = [
        f"{w.strftime('%m-%d')} ({n})" for w, n in zip(cohorts.weeks, cohorts.sizes, strict=True)
    ]
    # whole percents: eight columns of "95.2" do not fit a phone; the ink follows the shade
    data = [
        {"value": [k, i, round(share)], "label": {"color": ink_on(retention_shade(share))}}
        for i, row in enumerate(cohorts.shares)
        for k, share in enumerate(row)
        if share is not None
    ]
    option = _base()
    option.update(
        {
            "tooltip": {"position": "top", "confine": True},
            "grid": {"left": 8, "right": 8, "top": 8, "bottom": 48, "containLabel": True},
            "xAxis": {"type": "category", "data": weeks, "splitArea": {"show": True}},
            "yAxis": {"type": "category", "data": labels, "splitArea": {"show": True}},
            "visualMap": {
                "min": 0,
                "max": 100,
                "calculable": False,
                "orient": "horizontal",
                "left": "center",
                "bottom": 0,
                "itemHeight": 120,
                "inRange": {"color": list(RETENTION_RANGE)},
            },
            "series": [{"type": "heatmap", "data": data, "label": {"show": True, "fontSize": 11}}],
        }
    )
    return option


RETENTION_RANGE = ("#f0fdfa", "#0f766e")


def retention_shade(share: float) -> str:
    """The colour the visual map gives a share (0–100): linear between the two ends."""
    f = max(0.0, min(1.0, share / 100))
    low, high = (channels(c) for c in RETENTION_RANGE)
    r, g, b = (round(a + (z - a) * f) for a, z in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"
