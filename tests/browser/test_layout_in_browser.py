"""Every dashboard page and the weekly report, at a phone's 390 px and a laptop's 1366 px, in
both languages: nothing wider than the screen, no chart text outside its chart, no label cut
to "…", no two chart texts on top of each other. Screenshots go to ``$QUNZHU_SCREENSHOTS``.

The pages come from the app's route table, so a new page is checked without being listed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from qunzhu.auth.sessions import LANG_COOKIE
from qunzhu.demo import SLUG
from qunzhu.http.app import create_app
from qunzhu.reports.contrast import AA_TEXT, contrast_ratio
from qunzhu.reports.render import charts, render_html
from qunzhu.reports.weekly import weekly_data
from qunzhu.settings import Settings
from qunzhu.store.models import Community, Group, Message

pytestmark = pytest.mark.xdist_group("browser")

WIDTHS = {"phone": 390, "laptop": 1366}
LANGUAGES = ("zh-CN", "en")
# GET routes that are not a dashboard page: the API, files, hooks, signing in, fragments,
# the trailing-slash twin of a page, and feeds and downloads named by their file type
# (calendar.ics, which a calendar app fetches with its token, is not HTML)
# (and the library's compilation, which the browser saves as a file: /library/export)
NOT_PAGES = re.compile(
    r"^/(api/v1|static|hooks|healthz|login|logout|ws)|/charts/|./$|\.[a-z]+$|/library/export$"
)
PARAM = re.compile(r"{(\w+)(?::\w+)?}")

MEASURE = """(width) => {
  const out = {scroll: document.scrollingElement.scrollWidth, wide: [], charts: []};
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') { return true; }
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    const fixed = getComputedStyle(el).position === 'fixed';  // as wide as the zoomed-out view
    if (r.right > width + 1 && !clipped(el) && !fixed && ![...el.children].some(
        (c) => c.getBoundingClientRect().right > width + 1)) {
      out.wide.push(name(el) + ' right=' + Math.round(r.right));
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (r.right > width + 1 && !clipped(node)) {
      out.wide.push(name(node.parentElement) + ' text "' + node.textContent.trim().slice(0, 30) +
        '" right=' + Math.round(r.right));
    }
  }
  out.wide = out.wide.slice(0, 6);
  document.querySelectorAll('svg').forEach((svg, k) => {
    const box = svg.getBoundingClientRect();
    const where = name(svg.closest('[id]') || svg) + ' svg' + k;
    const texts = [...svg.querySelectorAll('text')]
      .map((t) => ({s: t.textContent.trim(), r: t.getBoundingClientRect()}))
      .filter((t) => t.s && t.r.width > 0);
    for (const t of texts) {
      if (t.r.left < box.left - 1 || t.r.right > box.right + 1 ||
          t.r.top < box.top - 1 || t.r.bottom > box.bottom + 1) {
        out.charts.push(where + ': "' + t.s + '" outside its chart');
      }
      if (/…|\\.\\.\\.$/.test(t.s)) { out.charts.push(where + ': "' + t.s + '" cut short'); }
    }
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i].r, b = texts[j].r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 2 && h > 2) {
          out.charts.push(where + ': "' + texts[i].s + '" overlaps "' + texts[j].s + '"');
        }
      }
    }
  });
  return out;
}"""

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
# how the report shows a chart: its <img> as wide as the page allows, 560 px at most
AS_IN_REPORT = (
    "<style>body { margin: 12px } svg { width: 100%; max-width: 560px; height: auto }</style>"
)
SETTLED = """() => !document.querySelector('[data-fragment][hx-get]:not([data-fragment-state])') &&
  [...document.querySelectorAll('[data-chart]')].every(
    (el) => ['drawn', 'error'].includes(el.getAttribute('data-chart-state')))"""


def dashboard_paths() -> list[str]:
    """The GET paths of the dashboard, from the route table of a freshly built app."""
    app = create_app(Settings(database_url="sqlite://", secret_key="r" * 40))
    try:
        paths = []
        for route in app.routes:
            inner = getattr(route, "effective_route_contexts", None)
            for r in inner() if inner else [route]:
                path = getattr(r, "path", "")
                if "GET" in (getattr(r, "methods", None) or ()) and not NOT_PAGES.search(path):
                    paths.append(path)
        return sorted(set(paths))
    finally:
        app.state.store.dispose()


def _ids(site: Any) -> dict[str, str]:
    """Path parameters filled from the sample community: its busiest group and member."""
    with site.store.reading() as session:
        community = session.scalars(select(Community).where(Community.slug == SLUG)).one()
        group = session.scalars(
            select(Group).where(Group.community_id == community.id).order_by(Group.id)
        ).first()
        member = session.scalars(
            select(Message.member_id)
            .where(Message.community_id == community.id)
            .group_by(Message.member_id)
            .order_by(func.count().desc(), Message.member_id)
        ).first()
    assert group is not None and member is not None
    return {
        "slug": SLUG,
        "group_id": str(group.id),
        "member_id": str(member),
        "broadcast_id": str(_broadcast(site, community.id, group)),
    }


def _broadcast(site: Any, community_id: int, group: Any) -> int:
    """A broadcast of the sample community to its first group (queued, as just sent)."""
    from qunzhu.store.broadcasts import Target, write

    with site.store.unit_of_work() as session:
        target = Target(group.platform, group.platform_group_id, group.id, group.name)
        return write(session, community_id, slug=SLUG, created_by="owner",
                     texts={"zh-CN": "本周六晚八点线上分享"}, audience={"groups": [group.id]},
                     deliveries=[(target, "本周六晚八点线上分享")], times=[None],
                     send_at=None)  # fmt: skip


def _fill(path: str, ids: dict[str, str]) -> str:
    missing = [p for p in PARAM.findall(path) if p not in ids]
    assert not missing, f"{path}: no sample value for {missing}; add one to _ids()"
    return PARAM.sub(lambda m: ids[m.group(1)], path)


def _context(browser: Any, site: Any, width: int, lang: str) -> Any:
    phone = width < 600
    context = browser.new_context(
        locale=lang,
        viewport={"width": width, "height": 844 if phone else 900},
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
    )
    context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": site.url}])
    return context


def _problems(page: Any, width: int, where: str) -> list[str]:
    seen = page.evaluate(MEASURE, width)
    found = [f"{where}: {c}" for c in seen["charts"]]
    if seen["scroll"] > width + 1:
        found.append(f"{where}: {seen['scroll']} px wide at {width} ({', '.join(seen['wide'])})")
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("size", list(WIDTHS))
def test_every_page_fits_the_screen(browser, site, log_in, screenshots, size, lang):
    width = WIDTHS[size]
    paths = dashboard_paths()
    assert "/c/{slug}/review" in paths and "/c/{slug}/members/{member_id}" in paths
    ids = _ids(site)
    context = _context(browser, site, width, lang)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        log_in(_Tab(page), "owner", f"/c/{SLUG}")
        problems: list[str] = []
        for path in paths:
            url = _fill(path, ids)
            response = page.goto(site.url + url)
            assert response is not None and response.ok, f"{url}: {response and response.status}"
            # goto waited for the load event; SETTLED waits for what comes after it (fragments
            # and charts), so no "networkidle", which idles 500 ms on each of the 20 pages
            page.wait_for_function(SETTLED, timeout=20000)
            name = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "start"
            page.screenshot(path=screenshots / f"{name}.{lang}.{width}.png", full_page=True)
            problems += _problems(page, width, url)
        assert not problems, "\n".join(problems)
        assert errors == []
    finally:
        context.close()


class _Tab:
    """What the ``log_in`` fixture needs of a tab."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def goto(self, site: Any, path: str) -> Any:
        return self.page.goto(site.url + path)


def _report(site: Any, lang: str) -> dict[str, Any]:
    with site.store.engine.connect() as conn:
        community_id = conn.scalar(select(Community.id).where(Community.slug == SLUG))
        assert community_id is not None
        return weekly_data(conn, community_id, None, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("size", list(WIDTHS))
def test_weekly_report_fits_the_screen(browser, site, screenshots, size, lang):
    """The report as the file an operator forwards, opened on its own: one column on a
    phone, and its charts (drawn in Python) keep their text inside."""
    width = WIDTHS[size]
    data = _report(site, lang)
    context = _context(browser, site, width, lang)
    try:
        page = context.new_page()
        page.set_content(render_html(data, lang))
        page.screenshot(path=screenshots / f"weekly-report.{lang}.{width}.png", full_page=True)
        problems = _problems(page, width, "weekly report")
        for key, svg in charts(data, lang).items():
            page.set_content(f"{VIEWPORT}{AS_IN_REPORT}<body>{svg}</body>")
            problems += _problems(page, width, f"weekly report chart {key}")
        assert not problems, "\n".join(problems)
    finally:
        context.close()


def test_the_page_list_covers_the_dashboard():
    """The route table gives the pages; the paths the lead checked by hand are among them."""
    paths = dashboard_paths()
    for wanted in ("/", "/c/{slug}", "/c/{slug}/community", "/c/{slug}/groups/{group_id}"):
        assert wanted in paths
    assert not [p for p in paths if p.startswith(("/api/v1", "/static", "/login"))]
    assert "/c/{slug}/calendar" in paths and "/c/{slug}/calendar.ics" not in paths  # a feed


INKS = """() => {
  const card = document.querySelector('#chart-value_trend');
  const back = getComputedStyle(card).backgroundColor;
  return [...card.querySelectorAll('svg text')].filter((t) => t.textContent.trim())
    .map((t) => [t.textContent.trim(), getComputedStyle(t).fill, back]);
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_chart_text_reads_on_the_card_in_light_and_dark(browser, site, log_in, scheme):
    """Axis names, day and value labels, legend: 4.5:1 against the card (WCAG AA), in the
    light page and in the dark one (where ECharts' default grey text would vanish)."""
    context = _context(browser, site, WIDTHS["phone"], "en")
    try:
        page = context.new_page()
        page.emulate_media(color_scheme=scheme)
        log_in(_Tab(page), "owner", f"/c/{SLUG}/community")
        page.wait_for_function(SETTLED, timeout=20000)
        inks = page.evaluate(INKS)
        assert len(inks) > 10
        for text, ink, back in inks:
            assert contrast_ratio(ink, back) >= AA_TEXT, (scheme, text, ink, back)
    finally:
        context.close()
