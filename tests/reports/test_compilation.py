"""The library's compilation (年底合集) in Markdown, HTML and PDF: grouped by tag or month,
authors and contact details masked, Chinese text readable back out of the PDF.

The Markdown is CommonMark as its spec describes it (ATX headings, block quotes, backslash
escapes of punctuation, code spans for tags): checked here by its lines, not a renderer.
"""

from __future__ import annotations

from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from qunzhu.reports import compilation

SHANGHAI = ZoneInfo("Asia/Shanghai")
ITEMS = [
    {
        "id": 1,
        "message_id": 11,
        "posted_at": "2026-10-31T17:30:00+00:00",  # 1 November in Shanghai
        "author": "张三丰",
        "group": "读书会一群",
        "tags": ["干货", "入门"],
        "text": "社群运营的关键是持续输出干货。\n有问题打 13812345678",
    },
    {
        "id": 2,
        "message_id": 12,
        "posted_at": "2026-11-20T02:00:00+00:00",
        "author": "Bo",
        "group": "Python 群",
        "tags": ["干货"],
        "text": "Use *venv*: python -m venv .venv",
    },
    {
        "id": 3,
        "message_id": 13,
        "posted_at": "2026-12-01T02:00:00+00:00",
        "author": "cy",
        "group": "读书会一群",
        "tags": [],
        "text": "mail me: cy.reader@example.com",
    },
]


def test_sections_by_tag_put_an_item_under_each_tag_and_untagged_last() -> None:
    found = compilation.sections(ITEMS, "tag", "zh-CN", SHANGHAI)
    assert [(s["title"], [i["id"] for i in s["items"]]) for s in found] == [
        ("干货", [1, 2]),
        ("入门", [1]),
        ("未加标签", [3]),
    ]


def test_sections_by_month_use_the_communitys_zone() -> None:
    found = compilation.sections(ITEMS, "month", "en", SHANGHAI)
    assert [(s["title"], [i["id"] for i in s["items"]]) for s in found] == [
        ("2026-11", [1, 2]),
        ("2026-12", [3]),
    ]


def test_markdown_masks_authors_and_contacts_and_quotes_the_text() -> None:
    text = compilation.markdown("读书会", ITEMS, "tag", "zh-CN", SHANGHAI)
    lines = text.splitlines()
    assert lines[0] == "# 读书会 · 内容合集"
    assert "## 干货 (2 条)" in lines
    # the mask's stars escaped: "**张****" would not read as bold
    assert "**张\\*\\*** · 读书会一群 · 2026-11-01 01:30 `干货` `入门`" in lines
    assert "> 有问题打 138\\*\\*\\*\\*5678" in lines  # masked, and * is not emphasis
    assert "> Use \\*venv\\*: python -m venv .venv" in lines
    assert "张三丰" not in text and "13812345678" not in text and "cy.reader" not in text


def test_html_is_one_file_in_chinese_with_the_text_escaped() -> None:
    page = compilation.html("读书会<b>", ITEMS, "month", "zh-CN", SHANGHAI)
    assert page.startswith("<!doctype html>") and 'lang="zh-CN"' in page
    assert "读书会&lt;b&gt; · 内容合集" in page
    assert "<link" not in page and "<script" not in page  # nothing fetched when opened
    assert "张**" in page and "张三丰" not in page and "c***@example.com" in page


def test_pdf_text_reads_back_in_chinese() -> None:
    data = compilation.pdf("读书会", ITEMS, "tag", "zh-CN", SHANGHAI)
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    assert "读书会 · 内容合集" in text
    assert "社群运营的关键是持续输出干货。" in text
    assert "138****5678" in text and "13812345678" not in text
    assert "未加标签" in text and "张**" in text


def test_one_item_is_counted_in_the_singular() -> None:
    text = compilation.markdown("x", ITEMS[2:], "tag", "en")
    assert "1 item ·" in text and "(1 item)" in text and "1 items" not in text
    assert "1 items" not in compilation.html("x", ITEMS[2:], "tag", "en")


def test_an_empty_library_says_how_to_fill_it() -> None:
    assert "qunzhu library suggest" in compilation.markdown("x", [], "month", "en")
    body, kind = compilation.export("html", "x", [], "tag", "en")
    assert kind.startswith("text/html") and b"The library is empty" in body


def test_unknown_format_or_grouping_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="docx"):
        compilation.export("docx", "x", ITEMS, "tag", "en")
    with pytest.raises(ValueError, match="author"):
        compilation.sections(ITEMS, "author", "en")  # type: ignore[arg-type]
