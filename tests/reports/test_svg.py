"""The report's SVG charts at any width: text inside the chart, legends under the plot and
wrapping, ink that contrasts with what it is drawn on."""

from __future__ import annotations

from xml.etree import ElementTree

from qunzhu.reports import svg
from qunzhu.reports.contrast import AA_TEXT, contrast_ratio

NS = "{http://www.w3.org/2000/svg}"
GROUPS = ["AI 编程训练营·进阶会员群", "AI Coding Bootcamp · English", "交流主群"]


def _texts(chart: str) -> tuple[float, float, list[tuple[float, float, float, str, str]]]:
    """The chart's width and height, and each text as (left, right, baseline, text, ink)
    by the same estimate of width the charts lay out with."""
    root = ElementTree.fromstring(chart)
    _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
    out = []
    for el in root.iter(f"{NS}text"):
        s, x = el.text or "", float(el.get("x", 0))
        w = svg.text_width(s, float(el.get("font-size", 12)))
        anchor = el.get("text-anchor", "start")
        left = x if anchor == "start" else x - w if anchor == "end" else x - w / 2
        out.append((left, left + w, float(el.get("y", 0)), s, el.get("fill", "")))
    return width, height, out


def _all_inside(chart: str) -> None:
    width, height, texts = _texts(chart)
    for left, right, y, s, _ in texts:
        assert left >= 0 and right <= width and 0 < y <= height, (s, left, right, y)
        assert "…" not in s


def test_line_chart_legend_wraps_under_the_plot_with_whole_names():
    series = {
        f"{name} ({k})": [float(k + d % 7) for d in range(28)] for k, name in enumerate(GROUPS * 2)
    }
    chart = svg.line_chart(series, [f"11-{d:02d}" for d in range(1, 29)], "各群日均价值")
    _all_inside(chart)
    root = ElementTree.fromstring(chart)
    lowest_line = max(
        float(p.split(",")[1])
        for pl in root.iter(f"{NS}polyline")
        for p in pl.get("points", "").split()
    )
    names = {s: y for _, _, y, s, _ in _texts(chart)[2]}
    for name in series:
        assert name in names and names[name] > lowest_line  # whole, and under the plot
    assert len({y for n, y in names.items() if n in series}) > 1  # six names: more than one row


def test_bars_put_whole_names_above_them_and_readable_shares_on_them():
    roles = {g: {"lurker": 0.6, "active": 0.3, "kol": 0.1} for g in GROUPS}
    chart = svg.stacked_bars(roles, ["kol", "active", "lurker"], "角色结构")
    _all_inside(chart)
    root = ElementTree.fromstring(chart)
    fills = [r.get("fill", "") for r in root.iter(f"{NS}rect")]
    on_bars = [(s, ink) for _, _, _, s, ink in _texts(chart)[2] if s.endswith("%")]
    assert on_bars and {s for s, _ in on_bars} == {"60%", "30%", "10%"}
    lurker = svg.ROLE_COLORS["lurker"]
    assert lurker in fills
    for s, ink in on_bars:
        fill = {"60%": lurker, "30%": svg.ROLE_COLORS["active"], "10%": svg.ROLE_COLORS["kol"]}[s]
        assert contrast_ratio(ink, fill) >= AA_TEXT, (s, ink, fill)
    risk = svg.risk_bars([(g, 88.0) for g in GROUPS], "死群风险（0–100）")
    _all_inside(risk)
    assert all(g in risk for g in GROUPS)


def test_heatmap_ink_follows_the_shade():
    chart = svg.heatmap(
        ["09-14", "09-21"], ["D7", "D30", "付费"], [[0.9, 0.1, None], [0.5, 0.0, 1.0]], "留存"
    )
    _all_inside(chart)
    root = ElementTree.fromstring(chart)
    cells = [
        r.get("fill", "") for r in root.iter(f"{NS}rect") if r.get("fill", "").startswith("rgb")
    ]
    inks = [ink for _, _, _, s, ink in _texts(chart)[2] if s.endswith("%")]
    assert len(cells) == len(inks) == 5
    for fill, ink in zip(cells, inks, strict=True):
        assert contrast_ratio(ink, fill) >= AA_TEXT, (fill, ink)
