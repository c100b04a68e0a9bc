"""Text colour on a coloured fill, as WCAG 2 measures it: relative luminance of each colour
and their contrast ratio, (L1 + 0.05) / (L2 + 0.05). Body text needs 4.5:1 (level AA).

Used by the report's SVG charts and the dashboard's chart options to pick the ink for a
label drawn on a bar, a funnel stage or a heat-map cell.
"""

from __future__ import annotations

import re

AA_TEXT = 4.5
DARK_INK = "#000000"
LIGHT_INK = "#ffffff"

_HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_RGB = re.compile(r"rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)")


def channels(color: str) -> tuple[int, int, int]:
    """``#rgb``, ``#rrggbb`` or ``rgb(r, g, b)`` as three 0..255 integers."""
    if m := _HEX.fullmatch(color.strip()):
        digits = m.group(1)
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
    if m := _RGB.fullmatch(color.strip()):
        r, g, b = (int(v) for v in m.groups())
        if max(r, g, b) <= 255:
            return r, g, b
    raise ValueError(f"not a colour this module reads: {color!r}")


def relative_luminance(color: str) -> float:
    def linear(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in channels(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink_on(fill: str) -> str:
    """White or black, whichever reads better on ``fill``. One of them always reaches 4.5:1:
    their two ratios multiply to 1.05 / 0.05 = 21, so the larger is at least 4.58."""
    light, dark = contrast_ratio(LIGHT_INK, fill), contrast_ratio(DARK_INK, fill)
    return LIGHT_INK if light >= dark else DARK_INK
