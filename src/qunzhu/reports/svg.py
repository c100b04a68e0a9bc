"""Small SVG charts rendered in Python, so a report is one file that opens anywhere (and
converts to PDF): lines over days, stacked shares, a heat map, horizontal bars."""

from __future__ import annotations

from html import escape
from typing import Any

PALETTE = ("#3b6fb6", "#d9822b", "#3a9d5d", "#c23b3b", "#7e57c2", "#8d6e63", "#00897b")
ROLE_COLORS = {
    "kol": "#7e57c2",
    "core": "#3a9d5d",
    "active": "#3b6fb6",
    "newcomer": "#00897b",
    "lurker": "#b0b7c3",
    "disruptor": "#c23b3b",
    "peripheral": "#e0e0e0",
}
FONT = "font-family=\"Helvetica, Arial, 'PingFang SC', 'Microsoft YaHei', sans-serif\""


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" {FONT}><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _text(
    x: float, y: float, s: str, size: int = 11, anchor: str = "start", fill: str = "#333"
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}">{escape(s)}</text>'
    )


def line_chart(
    series: dict[str, list[float]],
    labels: list[str],
    title: str,
    width: int = 640,
    height: int = 240,
) -> str:
    left, right, top, bottom = 48, 150, 24, 30
    w, h = width - left - right, height - top - bottom
    peak = max((v for vs in series.values() for v in vs), default=0.0) or 1.0
    n = max((len(vs) for vs in series.values()), default=1)
    body = [_text(left, 14, title, 12, fill="#111")]
    for i in range(5):
        y = top + h - h * i / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + w}" y2="{y:.1f}" stroke="#eee"/>')
        body.append(_text(left - 6, y + 4, f"{peak * i / 4:.0f}", 10, "end", "#777"))
    for i, label in enumerate(labels):
        if i % max(1, len(labels) // 6) == 0:
            x = left + w * i / max(1, n - 1)
            body.append(_text(x, height - 10, label, 10, "middle", "#777"))
    for k, (name, values) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        pts = " ".join(
            f"{left + w * i / max(1, n - 1):.1f},{top + h - h * v / peak:.1f}"
            for i, v in enumerate(values)
        )
        body.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        body.append(
            f'<rect x="{left + w + 12}" y="{top + 16 * k}" width="10" height="10" fill="{color}"/>'
        )
        body.append(_text(left + w + 26, top + 16 * k + 9, name[:18], 10))
    return _svg(width, height, body, title)


def stacked_bars(
    rows: dict[str, dict[str, float]],
    order: list[str],
    title: str,
    names: dict[str, str] | None = None,
    width: int = 640,
) -> str:
    """One horizontal bar per row, split by share (0..1) of each key in ``order``."""
    names = names or {}
    left, top, bar, gap = 150, 26, 18, 10
    height = top + len(rows) * (bar + gap) + 40
    w = width - left - 20
    body = [_text(10, 14, title, 12, fill="#111")]
    for i, (label, shares) in enumerate(rows.items()):
        y = top + i * (bar + gap)
        body.append(_text(left - 8, y + 13, label[:22], 10, "end"))
        x = float(left)
        for role in order:
            share = shares.get(role, 0.0)
            if share <= 0:
                continue
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w * share:.1f}" height="{bar}" '
                f'fill="{ROLE_COLORS.get(role, "#999")}"><title>{escape(names.get(role, role))} '
                f"{share:.0%}</title></rect>"
            )
            if share >= 0.08:
                body.append(_text(x + w * share / 2, y + 13, f"{share:.0%}", 9, "middle", "#fff"))
            x += w * share
    y = top + len(rows) * (bar + gap) + 8
    for k, role in enumerate(order):
        body.append(
            f'<rect x="{left + 80 * k}" y="{y}" width="10" height="10" '
            f'fill="{ROLE_COLORS.get(role, "#999")}"/>'
        )
        body.append(_text(left + 80 * k + 14, y + 9, names.get(role, role), 10))
    return _svg(width, height, body, title)


def heatmap(
    row_labels: list[str],
    col_labels: list[str],
    cells: list[list[float | None]],
    title: str,
    width: int = 640,
) -> str:
    """Shares 0..1 as shades of blue; None (too early to tell) stays blank."""
    left, top, cell_h = 90, 40, 20
    cell_w = (width - left - 20) / max(1, len(col_labels))
    height = top + len(row_labels) * cell_h + 10
    body = [_text(10, 14, title, 12, fill="#111")]
    for j, label in enumerate(col_labels):
        body.append(_text(left + cell_w * (j + 0.5), top - 8, label, 10, "middle", "#555"))
    for i, label in enumerate(row_labels):
        y = top + i * cell_h
        body.append(_text(left - 6, y + 14, label, 10, "end", "#555"))
        for j, v in enumerate(cells[i]):
            x = left + j * cell_w
            if v is None:
                body.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{cell_w - 2:.1f}" '
                    f'height="{cell_h - 2}" fill="#f5f5f5"/>'
                )
                continue
            shade = int(235 - 175 * max(0.0, min(1.0, v)))
            color = f"rgb({shade},{shade + 10 if shade < 245 else 245},250)"
            ink = "#fff" if v > 0.55 else "#222"
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{cell_w - 2:.1f}" '
                f'height="{cell_h - 2}" fill="{color}"/>'
            )
            body.append(_text(x + cell_w / 2, y + 14, f"{v:.0%}", 10, "middle", ink))
    return _svg(width, height, body, title)


def risk_bars(items: list[tuple[str, float]], title: str, width: int = 640) -> str:
    left, top, bar, gap = 170, 26, 16, 8
    height = top + len(items) * (bar + gap) + 10
    w = width - left - 60
    body = [_text(10, 14, title, 12, fill="#111")]
    for i, (label, risk) in enumerate(items):
        y = top + i * (bar + gap)
        color = "#c23b3b" if risk >= 70 else "#d9822b" if risk >= 40 else "#3a9d5d"
        body.append(_text(left - 8, y + 12, label[:26], 10, "end"))
        body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="#f0f0f0"/>')
        body.append(
            f'<rect x="{left}" y="{y}" width="{w * risk / 100:.1f}" height="{bar}" fill="{color}"/>'
        )
        body.append(_text(left + w + 8, y + 12, f"{risk:.0f}", 10))
    return _svg(width, height, body, title)


def as_data_uri(svg: str) -> str:
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


Chart = dict[str, Any]
