"""The weekly report as one self-contained HTML file (charts inline as SVG), and as PDF.

PDF goes through xhtml2pdf (pure Python, on reportlab; it draws the SVG charts as vectors).
Chinese text uses reportlab's built-in CID font STSong-Light, which needs no font file.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from qunzhu.engines.roles import ROLE_NAMES
from qunzhu.reports.labels import LABELS, SOURCE_NAMES
from qunzhu.reports.svg import FONT, as_data_uri, heatmap, line_chart, risk_bars, stacked_bars
from qunzhu.spec.zones import local_time, zone_named

_TEMPLATES = Path(__file__).parent / "templates"
HTML_FONT = "Helvetica, Arial, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"
PDF_FONT = "STSong-Light"


class PdfUnavailable(RuntimeError):
    pass


def charts(d: dict[str, Any], lang: str, font: str | None = None) -> dict[str, str]:
    """The report's charts as SVG text; ``font`` replaces the font list (PDF needs a font
    reportlab has registered, or CJK text in the charts comes out as boxes)."""
    made = _charts(d, lang)
    if font is None:
        return made
    return {k: v.replace(FONT, f'font-family="{font}"') for k, v in made.items()}


def _charts(d: dict[str, Any], lang: str) -> dict[str, str]:
    t = LABELS["zh" if lang.startswith("zh") else "en"]
    zh = lang.startswith("zh")
    trend = d["value_trend"]
    labels = [x[5:] for x in trend["labels"]]
    names = {r: ROLE_NAMES[r][1 if zh else 0] for r in ROLE_NAMES}
    cohorts = d["funnel"]["cohorts"]
    return {
        "trend": line_chart(
            trend["series"], labels, t["value_trend"], partial=bool(trend.get("partial"))
        ),
        "risk": risk_bars([(g["name"], g["death_risk"]) for g in d["groups"]], t["death_risk"]),
        "roles": stacked_bars(d["role_mix"], d["role_order"], t["role_mix"], names),
        "cohorts": heatmap(
            [c["cohort"][5:] for c in cohorts],
            ["D7", "D30", t["paid"]],
            [[c["d7"], c["d30"], c["paid"]] for c in cohorts],
            t["cohorts"],
        ),
    }


def render_html(d: dict[str, Any], lang: str = "en", *, for_pdf: bool = False) -> str:
    zh = lang.startswith("zh")
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]))
    template = env.get_template("weekly.html")
    return template.render(
        d=d,
        t=LABELS["zh" if zh else "en"],
        zh=zh,
        charts={
            k: as_data_uri(v) for k, v in charts(d, lang, PDF_FONT if for_pdf else None).items()
        },
        role_names={r: ROLE_NAMES[r][1 if zh else 0] for r in ROLE_NAMES},
        source_names=SOURCE_NAMES["zh" if zh else "en"],
        generated=_generated(d),
        font=PDF_FONT if for_pdf else HTML_FONT,
    )


def _generated(d: dict[str, Any]) -> str:
    """When the report was made, in the community's zone, named (a report forwarded into a
    chat is read far from the server)."""
    name = d.get("timezone") or "UTC"
    zone = zone_named(name) or UTC
    return f"{local_time(datetime.now(UTC), zone, '%Y-%m-%d %H:%M')} {name}"


def write_pdf(d: dict[str, Any], path: Path, lang: str = "en") -> None:
    try:
        from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
        from xhtml2pdf import pisa  # type: ignore[import-untyped]
    except ImportError as exc:  # an optional extra: say how to get it
        raise PdfUnavailable(
            "PDF output needs xhtml2pdf: pip install 'xhtml2pdf>=0.2.16,<0.3'"
        ) from exc
    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    html = render_html(d, lang, for_pdf=True)
    quiet = logging.getLogger("xhtml2pdf")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # it warns about every CSS property it does not implement
    try:
        with path.open("wb") as out:
            result = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    finally:
        quiet.setLevel(level)
    if result.err:
        raise PdfUnavailable(f"the PDF could not be written ({result.err} errors)")
