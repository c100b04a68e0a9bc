"""The content library as a compilation (年底合集): Markdown, one self-contained HTML file, and
PDF — the kept items grouped by tag or by month, oldest first within a section.

A compilation leaves the system (it is forwarded to members, printed), so authors are always
masked (张三 → 张*) and phone numbers and e-mail addresses in the text too, whoever exports.
PDF goes through xhtml2pdf like the weekly report, with reportlab's built-in CID font
STSong-Light: Chinese text renders with no font file and nothing fetched at run time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, select_autoescape

from qunzhu.auth.permissions import mask_name, mask_text
from qunzhu.reports.render import HTML_FONT, PDF_FONT, PdfUnavailable
from qunzhu.spec.zones import local_time

GroupBy = Literal["tag", "month"]
FORMATS = ("md", "html", "pdf")
_TEMPLATES = Path(__file__).parent / "templates"
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Compilation",
        "generated": "generated",
        "item": "item",
        "items": "items",
        "untagged": "Untagged",
        "empty": "The library is empty: keep valuable messages first (qunzhu library suggest).",
        "masked": "Authors' names, phone numbers and e-mail addresses are masked.",
    },
    "zh": {
        "title": "内容合集",
        "generated": "生成于",
        "item": "条",
        "items": "条",
        "untagged": "未加标签",
        "empty": "内容库还是空的：先收录有价值的消息（qunzhu library suggest）。",
        "masked": "作者姓名、手机号和邮箱已脱敏。",
    },
}


def sections(
    items: Sequence[dict[str, Any]], by: GroupBy, lang: str, zone: tzinfo = UTC
) -> list[dict[str, Any]]:
    """The items (as ``qunzhu.readmodels.library.listing`` gives them) in sections, masked.
    By tag: an item with several tags appears under each; untagged ones come last. By month:
    the month it was posted in ``zone``, oldest first."""
    if by not in ("tag", "month"):
        raise ValueError(f"group by 'tag' or 'month', not {by!r}")
    words = WORDS["zh" if lang.startswith("zh") else "en"]
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in sorted(items, key=lambda i: (i["posted_at"], i["id"])):
        at = datetime.fromisoformat(item["posted_at"])
        shown = {
            **item,
            "author": mask_name(item["author"]) or "",
            "text": mask_text(item["text"]),
            "when": local_time(at, zone, "%Y-%m-%d %H:%M"),
        }
        keys = [local_time(at, zone, "%Y-%m")] if by == "month" else item["tags"] or [""]
        for key in keys:
            grouped.setdefault(key, []).append(shown)
    order = sorted(grouped, key=lambda k: (k == "", k if by == "month" else -len(grouped[k]), k))
    return [{"title": k or words["untagged"], "items": grouped[k]} for k in order]


def _context(
    name: str, items: Sequence[dict[str, Any]], by: GroupBy, lang: str, zone: tzinfo
) -> dict[str, Any]:
    zh = lang.startswith("zh")
    return {
        "name": name,
        "zh": zh,
        "w": WORDS["zh" if zh else "en"],
        "sections": sections(items, by, lang, zone),
        "count": len(items),
        "generated": local_time(datetime.now(UTC), zone, "%Y-%m-%d %H:%M"),
    }


def markdown(
    name: str, items: Sequence[dict[str, Any]], by: GroupBy, lang: str, zone: tzinfo = UTC
) -> str:
    c = _context(name, items, by, lang, zone)
    w = c["w"]
    count = f"{c['count']} {w['item' if c['count'] == 1 else 'items']}"
    lines = [f"# {name} · {w['title']}", "", f"{w['generated']} {c['generated']} · {count}"]
    lines[-1] += f" · {w['masked']}"
    if not c["sections"]:
        lines += ["", w["empty"]]
    for section in c["sections"]:
        n = len(section["items"])
        lines += ["", f"## {section['title']} ({n} {w['item' if n == 1 else 'items']})"]
        for item in section["items"]:
            tags = " ".join(f"`{t}`" for t in item["tags"])
            who = f"**{_md_escape(item['author'])}** · {_md_escape(item['group'])}"
            lines += ["", f"{who} · {item['when']} {tags}".rstrip()]
            # a quote block: the member's own line breaks kept, no Markdown read into them
            quoted = (_md_escape(line) for line in item["text"].splitlines() or [""])
            lines += ["", *(f"> {q}".rstrip() for q in quoted)]
    return "\n".join(lines) + "\n"


def _md_escape(line: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]<>#|" else ch for ch in line)


def html(
    name: str,
    items: Sequence[dict[str, Any]],
    by: GroupBy,
    lang: str,
    zone: tzinfo = UTC,
    *,
    for_pdf: bool = False,
) -> str:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]))
    context = _context(name, items, by, lang, zone)
    return env.get_template("compilation.html").render(
        **context, font=PDF_FONT if for_pdf else HTML_FONT, for_pdf=for_pdf
    )


def pdf(
    name: str, items: Sequence[dict[str, Any]], by: GroupBy, lang: str, zone: tzinfo = UTC
) -> bytes:
    try:
        from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
        from xhtml2pdf import pisa  # type: ignore[import-untyped]
    except ImportError as exc:
        raise PdfUnavailable(
            "PDF output needs xhtml2pdf: pip install 'xhtml2pdf>=0.2.16,<0.3'"
        ) from exc
    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    out = BytesIO()
    quiet = logging.getLogger("xhtml2pdf")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # it warns about every CSS property it does not implement
    try:
        result = pisa.CreatePDF(html(name, items, by, lang, zone, for_pdf=True), dest=out)
    finally:
        quiet.setLevel(level)
    if result.err:
        raise PdfUnavailable(f"the PDF could not be written ({result.err} errors)")
    return out.getvalue()


def export(
    fmt: str,
    name: str,
    items: Sequence[dict[str, Any]],
    by: GroupBy,
    lang: str,
    zone: tzinfo = UTC,
) -> tuple[bytes, str]:
    """The compilation in ``fmt`` and its media type."""
    if fmt == "md":
        return markdown(name, items, by, lang, zone).encode(), "text/markdown; charset=utf-8"
    if fmt == "html":
        return html(name, items, by, lang, zone).encode(), "text/html; charset=utf-8"
    if fmt == "pdf":
        return pdf(name, items, by, lang, zone), "application/pdf"
    raise ValueError(f"format is one of {', '.join(FORMATS)}, not {fmt!r}")
