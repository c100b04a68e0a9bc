"""ECharts options for the community charts, built on the server with localized labels.

The page carries each option as JSON in a ``<script type="application/json">`` block and
``static/qunzhu.js`` draws it, so no inline script is needed (the CSP allows none).
"""

from __future__ import annotations

from typing import Any

from qunzhu.http.i18n import Translator
from qunzhu.http.web.queries.charts import Cohorts, Trend

PALETTE = ["#0f766e", "#f59e0b", "#6366f1", "#ef4444", "#10b981", "#8b5cf6", "#64748b"]


def _base() -> dict[str, Any]:
    return {
        "color": PALETTE,
        "animation": False,
        "grid": {"left": 40, "right": 40, "top": 40, "bottom": 30, "containLabel": True},
        "tooltip": {"trigger": "axis"},
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
            "legend": {"data": [t("chart.value"), t("chart.messages")], "top": 0},
            "xAxis": {"type": "category", "data": labels},
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
    option["tooltip"] = {"trigger": "item"}
    option["series"] = [
        {
            "type": "pie",
            "radius": ["40%", "70%"],
            "data": [{"name": t(f"member_role.{k}"), "value": v} for k, v in mix.items()],
        }
    ]
    return option


def funnel_option(stages: list[tuple[str, int]], t: Translator) -> dict[str, Any]:
    option = _base()
    option["tooltip"] = {"trigger": "item"}
    option["series"] = [
        {
            "type": "funnel",
            "sort": "none",
            "left": "10%",
            "width": "80%",
            "label": {"show": True, "position": "inside", "formatter": "{b}: {c}"},
            "data": [{"name": t(f"funnel.{k}"), "value": v} for k, v in stages],
        }
    ]
    return option


def cohorts_option(cohorts: Cohorts, t: Translator) -> dict[str, Any]:
    weeks = [t("chart.week_n", n=k) for k in range(len(cohorts.weeks))]
    labels = [
        f"{w.strftime('%m-%d')} ({n})" for w, n in zip(cohorts.weeks, cohorts.sizes, strict=True)
    ]
    data = [
        [k, i, share]
        for i, row in enumerate(cohorts.shares)
        for k, share in enumerate(row)
        if share is not None
    ]
    option = _base()
    option.update(
        {
            "tooltip": {"position": "top"},
            "grid": {"left": 90, "right": 20, "top": 10, "bottom": 60, "containLabel": False},
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
                "inRange": {"color": ["#f0fdfa", "#0f766e"]},
            },
            "series": [{"type": "heatmap", "data": data, "label": {"show": True}}],
        }
    )
    return option
