"""Small SVG charts rendered in Python, so a report is one file that opens anywhere (and
converts to PDF): lines over days, stacked shares, a heat map, horizontal bars.

Drawn 400 units wide with 12-unit text: shrunk to a phone's width (about 360 px) the text
stays readable (11 px), and on a desktop (shown 560 px wide) it is not huge. Legends go under
the plot and wrap; names go above their bar instead of being cut to fit a column; text on a
colour gets the ink that contrasts with it (WCAG AA, ``reports.contrast``).
"""

from __future__ import annotations

from html import escape
from typing import Any

from qunzhu.reports.contrast import ink_on

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
WIDTH = 400
TITLE, LABEL, SMALL = 14, 12, 11
INK, MUTED = "#222", "#555"  # both above 4.5:1 on white


def text_width(s: str, size: float) -> float:
    """A generous estimate of how wide ``s`` is drawn: CJK characters are square, others
    about six tenths of the size (Helvetica averages less)."""
    return sum(size if ord(c) >= 0x2E80 else 0.62 * size for c in s)


def _svg(width: int, height: float, body: list[str], title: str) -> str:
    h = round(height)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
        f'viewBox="0 0 {width} {h}" role="img" {FONT}><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _text(
    x: float, y: float, s: str, size: int = LABEL, anchor: str = "start", fill: str = INK
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}">{escape(s)}</text>'
    )


def _legend(items: list[tuple[str, str]], y: float, width: int) -> tuple[list[str], float]:
    """Swatches and names in rows from the left, wrapping at ``width``; the SVG parts and
    the y under the last row."""
    body: list[str] = []
    x, row = 10.0, 18
    for color, name in items:
        need = 14 + text_width(name, LABEL) + 14
        if x > 10 and x + need > width - 10:
            x, y = 10.0, y + row
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="10" height="10" fill="{color}"/>')
        body.append(_text(x + 14, y + 9.5, name))
        x += need
    return body, y + row


def line_chart(
    series: dict[str, list[float]],
    labels: list[str],
    title: str,
    width: int = WIDTH,
    height: int = 240,
    partial: bool = False,
) -> str:
    """One line per series; with ``partial`` the last day is unfinished (today): its
    segment is dashed and marked, so a low last point does not read as a drop."""
    values = [v for vs in series.values() for v in vs]
    peak = max(values, default=0.0) or 1.0
    left = 14 + text_width(f"{peak:.0f}", SMALL)
    right, top, plot_h = 14, 30, height - 80
    w = width - left - right
    n = max([len(labels), *(len(vs) for vs in series.values())])
    body = [_text(10, 18, title, TITLE, fill="#111")]
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + w}" y2="{y:.1f}" stroke="#eee"/>')
        body.append(_text(left - 6, y + 4, f"{peak * i / 4:.0f}", SMALL, "end", MUTED))
    # as many day labels as fit, the first and the last among them
    room = max(1, int(w // (text_width(max(labels, key=len, default=""), SMALL) + 12)))
    step = max(1, -(-(len(labels) - 1) // max(1, room - 1))) if len(labels) > 1 else 1
    for i, label in enumerate(labels):
        if i % step == 0:
            x = left + w * i / max(1, n - 1)
            anchor = "start" if i == 0 else "end" if i == n - 1 else "middle"
            body.append(_text(x, top + plot_h + 16, label, SMALL, anchor, MUTED))
    cut = n - 1 if partial and n >= 2 else n
    swatches = []
    for k, (name, points) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        xy = [
            f"{left + w * i / max(1, n - 1):.1f},{top + plot_h - plot_h * v / peak:.1f}"
            for i, v in enumerate(points)
        ]
        pts = " ".join(xy[:cut])
        body.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        if cut < len(xy):
            body.append(
                f'<polyline points="{" ".join(xy[cut - 1 :])}" fill="none" stroke="{color}" '
                'stroke-width="2" stroke-dasharray="4 3" data-partial="1"/>'
            )
        swatches.append((color, name))
    legend, bottom = _legend(swatches, top + plot_h + 28, width)
    return _svg(width, bottom, body + legend, title)


def stacked_bars(
    rows: dict[str, dict[str, float]],
    order: list[str],
    title: str,
    names: dict[str, str] | None = None,
    width: int = WIDTH,
) -> str:
    """One horizontal bar per row, split by share (0..1) of each key in ``order``; the
    row's name above its bar."""
    names = names or {}
    left, top, bar, step = 10, 30, 20, 44
    w = width - 2 * left
    body = [_text(10, 18, title, TITLE, fill="#111")]
    for i, (label, shares) in enumerate(rows.items()):
        y = top + i * step + 16
        body.append(_text(left, y - 4, label))
        x = float(left)
        for role in order:
            share = shares.get(role, 0.0)
            if share <= 0:
                continue
            color = ROLE_COLORS.get(role, "#999")
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w * share:.1f}" height="{bar}" '
                f'fill="{color}"><title>{escape(names.get(role, role))} '
                f"{share:.0%}</title></rect>"
            )
            if w * share >= text_width(f"{share:.0%}", SMALL) + 6:
                mid = x + w * share / 2
                body.append(_text(mid, y + 14, f"{share:.0%}", SMALL, "middle", ink_on(color)))
            x += w * share
    swatches = [(ROLE_COLORS.get(role, "#999"), names.get(role, role)) for role in order]
    legend, bottom = _legend(swatches, top + len(rows) * step + 8, width)
    return _svg(width, bottom, body + legend, title)


def heatmap(
    row_labels: list[str],
    col_labels: list[str],
    cells: list[list[float | None]],
    title: str,
    width: int = WIDTH,
) -> str:
    """Shares 0..1 as shades of blue; None (too early to tell) stays blank."""
    left = 16 + max((text_width(s, LABEL) for s in row_labels), default=0.0)
    top, cell_h = 46, 22
    cell_w = (width - left - 10) / max(1, len(col_labels))
    height = top + len(row_labels) * cell_h + 10
    body = [_text(10, 18, title, TITLE, fill="#111")]
    for j, label in enumerate(col_labels):
        body.append(_text(left + cell_w * (j + 0.5), top - 8, label, LABEL, "middle", MUTED))
    for i, label in enumerate(row_labels):
        y = top + i * cell_h
        body.append(_text(left - 6, y + 15, label, LABEL, "end", MUTED))
        for j, v in enumerate(cells[i]):
            x = left + j * cell_w
            if v is None:
                body.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{cell_w - 2:.1f}" '
                    f'height="{cell_h - 2}" fill="#f5f5f5"/>'
                )
                continue
            shade = int(235 - 175 * max(0.0, min(1.0, v)))
            color = f"rgb({shade},{min(shade + 10, 245)},250)"
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{cell_w - 2:.1f}" '
                f'height="{cell_h - 2}" fill="{color}"/>'
            )
            body.append(_text(x + cell_w / 2, y + 15, f"{v:.0%}", LABEL, "middle", ink_on(color)))
    return _svg(width, height, body, title)


def risk_bars(items: list[tuple[str, float]], title: str, width: int = WIDTH) -> str:
    """Death risk (0..100) of each group, its name above its bar and the number after it."""
    left, top, bar, step = 10, 30, 16, 40
    w = width - left - 10 - text_width("100", LABEL) - 8
    height = top + len(items) * step + 6
    body = [_text(10, 18, title, TITLE, fill="#111")]
    for i, (label, risk) in enumerate(items):
        y = top + i * step + 16
        color = "#c23b3b" if risk >= 70 else "#d9822b" if risk >= 40 else "#3a9d5d"
        body.append(_text(left, y - 4, label))
        body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="#f0f0f0"/>')
        body.append(
            f'<rect x="{left}" y="{y}" width="{w * risk / 100:.1f}" height="{bar}" fill="{color}"/>'
        )
        body.append(_text(left + w + 6, y + 12.5, f"{risk:.0f}"))
    return _svg(width, height, body, title)


def as_data_uri(svg: str) -> str:
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


Chart = dict[str, Any]
