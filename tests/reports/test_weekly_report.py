"""The weekly report: its numbers, its charts, escaping, PDF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from markupsafe import escape
from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.engines.recompute import recompute_community
from qunzhu.pipeline import Pipeline
from qunzhu.reports.labels import LABELS
from qunzhu.reports.render import charts, render_html, write_pdf
from qunzhu.reports.svg import heatmap, line_chart
from qunzhu.reports.weekly import weekly_data
from qunzhu.store.models import Community

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
EVIL = "<script>alert(1)</script>"


def _load(store) -> int:
    events: list[ev.Event] = []
    for day in range(21):
        for i, who in enumerate((EVIL, "bob")):
            events.append(
                ev.MessagePosted(
                    platform="telegram",
                    community="c1",
                    group="g1",
                    member=who,
                    member_name=who,
                    occurred_at=T0 + timedelta(days=day, minutes=i),
                    message_id=f"{day}-{i}",
                    text="what is the best chunk size for RAG?"
                    if i == 0
                    else "300 tokens with overlap works well for most documents",
                )
            )
    events.append(
        ev.MessagePosted(
            platform="telegram",
            community="c1",
            group="g1",
            member="cat",
            member_name="cat",
            occurred_at=T0 + timedelta(days=20, hours=5),
            message_id="late",
            text="does anyone run ollama on a mac?",
        )
    )
    Pipeline(store, create_communities=True).run(events, source="test")
    with store.engine.begin() as conn:
        cid = conn.execute(select(Community.id)).scalar_one()
        recompute_community(conn, cid, (T0 + timedelta(days=20)).date(), store.settings.tz)
    return cid


def test_report_numbers_cover_every_section(store):
    cid = _load(store)
    with store.engine.connect() as conn:
        d = weekly_data(conn, cid, lang="en")
    assert d["week"] == {"start": "2026-03-16", "end": "2026-03-22"}
    assert d["value"]["this_week"] > 0 and list(d["value_trend"]["series"]) == ["g1"]
    assert len(d["value_trend"]["labels"]) == 28
    assert d["top_contributors"][0]["why"]
    assert [q["text"] for q in d["unanswered"]] == ["does anyone run ollama on a mac?"]
    assert d["groups"][0]["metrics"]["role_mix"]


def test_html_stands_alone_escapes_names_and_its_charts_are_valid_svg(store):
    cid = _load(store)
    with store.engine.connect() as conn:
        d = weekly_data(conn, cid, lang="en")
    html = render_html(d, "en")
    assert EVIL not in html and "&lt;script&gt;" in html
    assert "<link" not in html and 'src="http' not in html  # nothing to fetch
    for svg in charts(d, "en").values():
        ElementTree.fromstring(svg)  # well-formed, names escaped inside the charts too


def test_html_reads_on_a_phone_once_forwarded(store):
    """Everything it needs inside the file: a viewport, its fonts (quoted names not turned
    into entities, which voided the rule), one column and cards under 480 px."""
    cid = _load(store)
    with store.engine.connect() as conn:
        d = weekly_data(conn, cid, lang="zh-CN")
    html = render_html(d, "zh-CN")
    assert '<meta name="viewport" content="width=device-width' in html
    style = html[html.index("<style>") : html.index("</style>")]
    assert "font-family: Helvetica, Arial, 'PingFang SC'" in style and "&#39;" not in style
    assert "@media screen and (max-width: 480px)" in html
    assert 'width="560"' in html and ".chart img { max-width: 100%; height: auto; }" in html
    assert html.count('data-label="') >= 5 + 4  # groups table and top contributors


def test_pdf_is_written(store, tmp_path):
    cid = _load(store)
    with store.engine.connect() as conn:
        d = weekly_data(conn, cid, lang="zh-CN")
    path = tmp_path / "w.pdf"
    write_pdf(d, path, "zh-CN")
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 2000


def test_pdf_keeps_its_tables_whole(store, tmp_path):
    """xhtml2pdf reads ``@media (max-width: …)`` as if it always held: the phone layout
    (header rows hidden, rows as cards) is for screens only."""
    pypdf = pytest.importorskip("pypdf")  # comes with xhtml2pdf
    cid = _load(store)
    with store.engine.connect() as conn:
        d = weekly_data(conn, cid, lang="en")
    path = tmp_path / "w.pdf"
    write_pdf(d, path, "en")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    text = " ".join(text.split())  # a long header wraps inside its cell
    for header in ("value_per_day", "active_share", "why"):
        assert LABELS["en"][header] in text


def test_charts_draw_what_they_are_given():
    svg = line_chart({"a & b": [0.0, 5.0, 10.0]}, ["d1", "d2", "d3"], "value")
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    (line,) = root.iter(f"{ns}polyline")
    ys = [float(p.split(",")[1]) for p in line.get("points", "").split()]
    assert ys[0] > ys[1] > ys[2]  # higher values are drawn higher
    cells = heatmap(["w1"], ["D7", "D30"], [[0.5, None]], "cohorts")
    assert "50%" in cells and cells.count("<rect") == 2


def test_an_unfinished_last_day_is_drawn_dashed():
    series = {"g": [10.0, 12.0, 11.0, 2.0]}
    labels = ["03-01", "03-02", "03-03", "03-04"]
    whole = ElementTree.fromstring(line_chart(series, labels, "value"))
    cut = ElementTree.fromstring(line_chart(series, labels, "value", partial=True))
    ns = "{http://www.w3.org/2000/svg}polyline"
    assert [p.get("stroke-dasharray") for p in whole.iter(ns)] == [None]
    solid, dashed = list(cut.iter(ns))
    assert len(solid.get("points").split()) == 3 and dashed.get("stroke-dasharray")
    assert len(dashed.get("points").split()) == 2  # from the last whole day to today


def test_what_worked_ranks_the_weeks_posts_in_both_languages(store):
    from qunzhu.store.connectors import OutboxAction
    from qunzhu.store.messaging import Broadcast

    cid = _load(store)
    with store.engine.connect() as conn:
        empty = weekly_data(conn, cid, lang="en")
    assert empty["what_worked"] == [] and LABELS["en"]["worked_none"] in render_html(empty)
    sent = T0 + timedelta(days=18, minutes=-30)  # in the week; the day's two messages follow
    with store.unit_of_work() as session:
        b = Broadcast(
            community_id=cid, created_by="ops", texts={"zh-CN": "本周话题"}, audience={},
            targets=1, created_at=sent,
        )  # fmt: skip
        session.add(b)
        session.flush()
        session.add(
            OutboxAction(
                community_id=cid, origin=f"broadcast:{b.id}", key="w1", kind="send_message",
                platform="telegram", action={"group": "g1"}, status="sent",
                result={"message_id": 1}, done_at=sent,
            )
        )  # fmt: skip
        key = f"broadcast:{b.id}"
    for lang, words in (("en", LABELS["en"]), ("zh-CN", LABELS["zh"])):
        with store.engine.connect() as conn:
            d = weekly_data(conn, cid, lang=lang)
        [row] = d["what_worked"]
        assert row["key"] == key and row["worked_speakers"] == 2 and row["occurrences"] == 1
        html = render_html(d, lang)
        assert words["worked"] in html and escape(words["worked_value_def"]) in html
        speakers = row["worked_speakers"]
        assert f'data-figure="worked_speakers" data-key="{key}" data-value="{speakers}"' in html
