"""The planner pages in headless Chromium against `xinqu serve`, offline: the new-areas
table sorted and filtered in the page, the compare view, the about page and the language
switch in all three scripts. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import itertools
import json
import urllib.request

import pytest
from test_browser import ARTIFACTS, _outside

pytest_plugins = ["web_fixtures"]

LANGS = ("zh-Hans", "zh-Hant", "en")
ROW_IDS = "() => [...document.querySelectorAll('#na-table tbody tr')].filter(r => !r.hidden)" \
          ".map(r => r.dataset.id)"


def _get_json(base: str, path: str) -> dict:
    with urllib.request.urlopen(base + path, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


@pytest.fixture()
def tab(chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.requests, page.errors = [], []
    context.on("request", lambda request: page.requests.append(request))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()


def _done(page, base: str, shot: str | None = None) -> None:
    if shot:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    assert page.errors == []
    assert _outside(page.requests, base) == []


def _heading(page, key: str):
    return page.locator(f'#na-table thead th[data-key="{key}"] a.sort')


def test_table_sorts_in_the_page_by_a_click(tab, live_server):
    tab.goto(f"{live_server}/new-areas?lang=en")
    tab.wait_for_load_state("networkidle")
    by_date = _get_json(live_server, "/new-areas?f=json")["newAreas"]
    assert tab.evaluate(ROW_IDS) == [r["id"] for r in by_date]
    requests_before = len(tab.requests)

    _heading(tab, "area_ratio").click()
    up = _get_json(live_server, "/new-areas?f=json&sort=area_ratio")["newAreas"]
    assert tab.evaluate(ROW_IDS) == [r["id"] for r in up]
    assert tab.locator('th[data-key="area_ratio"]').get_attribute("aria-sort") == "ascending"
    assert "sort=area_ratio" in tab.url

    _heading(tab, "area_ratio").click()
    down = _get_json(live_server, "/new-areas?f=json&sort=-area_ratio")["newAreas"]
    assert tab.evaluate(ROW_IDS) == [r["id"] for r in down]
    assert tab.locator('th[data-key="area_ratio"]').get_attribute("aria-sort") == "descending"
    assert "sort=-area_ratio" in tab.url

    _heading(tab, "name").click()
    names = tab.evaluate("() => [...document.querySelectorAll('#na-table tbody th')]"
                         ".map(th => th.dataset.value)")
    expected = _get_json(live_server, "/new-areas?f=json&sort=name&lang=en")["newAreas"]
    assert names == [r["names"]["en"] for r in expected]
    # sorted in the page: no request went to the server for it
    assert [r.url for r in tab.requests[requests_before:]
            if "/new-areas" in r.url] == []
    _done(tab, live_server)


@pytest.mark.parametrize(("typed", "expected"), [("浦東", ["pudong"]), ("guian", ["guian"]),
                                                 ("Gui'an", ["guian"])])
def test_table_filters_as_you_type(tab, live_server, typed, expected):
    tab.goto(f"{live_server}/new-areas?lang=zh-Hans")
    tab.wait_for_load_state("networkidle")
    tab.locator("#na-filter").fill(typed)
    assert tab.evaluate(ROW_IDS) == expected
    assert tab.locator("#na-count").inner_text() == f"显示 {len(expected)} / 19 个新区"
    tab.locator("#na-filter").fill("")
    assert len(tab.evaluate(ROW_IDS)) == 19
    _done(tab, live_server)


def test_table_filter_by_region_matches_the_server(tab, live_server):
    tab.goto(f"{live_server}/new-areas?lang=zh-Hant")
    tab.wait_for_load_state("networkidle")
    tab.locator("#na-filter").fill("長三角")
    server = _get_json(live_server, "/new-areas?f=json&q=%E9%95%B7%E4%B8%89%E8%A7%92")
    assert sorted(tab.evaluate(ROW_IDS)) == sorted(r["id"] for r in server["newAreas"])
    assert len(server["newAreas"]) >= 3
    # Enter keeps the page (filtering needs no request) and the address says the filter
    tab.locator("#na-filter").press("Enter")
    assert "q=" in tab.url
    _done(tab, live_server, "new-areas-zh-Hant-filtered.png")


@pytest.mark.parametrize("lang", LANGS)
def test_new_areas_page_screenshot(tab, live_server, lang):
    tab.goto(f"{live_server}/new-areas?lang={lang}")
    tab.wait_for_load_state("networkidle")
    assert tab.locator("#na-table tbody tr").count() == 19
    timeline = tab.locator("svg.approvals")
    assert timeline.is_visible()
    assert timeline.locator("g.mark").count() == 19
    # as drawn by the browser: no two labels overlap, no leader runs through a label
    labels = timeline.locator("g.mark text").evaluate_all(
        "ts => ts.map(t => { const b = t.getBBox(); return [b.x, b.y, b.width, b.height]; })")
    for a, b in itertools.combinations(labels, 2):
        apart = (a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0]
                 or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1])
        assert apart, (a, b)
    leaders = timeline.locator("g.mark line.leader").evaluate_all(
        "ls => ls.map(l => [l.x1.baseVal.value, l.y1.baseVal.value, l.y2.baseVal.value])")
    for x, top, bottom in leaders:
        for lx, ly, lw, lh in labels:
            assert not (lx < x < lx + lw and top < ly + lh / 2 < bottom), (x, lx)
    _done(tab, live_server, f"new-areas-{lang}.png")


@pytest.mark.parametrize("lang", LANGS)
def test_compare_view_side_by_side(tab, live_server, lang):
    tab.goto(f"{live_server}/compare?places=pudong,binhai&lang={lang}")
    tab.wait_for_load_state("networkidle")
    data = _get_json(live_server, "/compare?places=pudong,binhai&f=json")
    columns = tab.locator(".compare-place")
    assert columns.count() == 2
    left, right = (columns.nth(i).bounding_box() for i in range(2))
    assert right["x"] >= left["x"] + left["width"] - 1 and abs(right["y"] - left["y"]) < 2
    for i, place in enumerate(data["places"]):
        heading = columns.nth(i).locator("h2").inner_text()
        assert heading == place["names"][lang]
        listed = columns.nth(i).locator("ul.units li").evaluate_all(
            "lis => lis.map(li => li.dataset.unit)")
        assert listed == [u["id"] for u in place["named"]]
    shared = tab.locator("#compare-shared > ul.units.named li").evaluate_all(
        "lis => lis.map(li => li.dataset.unit)")
    assert shared == [u["id"] for u in data["shared"]] and shared
    reached = tab.locator("#compare-shared > ul.units.linked li").evaluate_all(
        "lis => lis.map(li => li.dataset.unit)")
    assert reached == [u["id"] for u in data["linked_shared"]]
    _done(tab, live_server, f"compare-pudong-binhai-{lang}.png")


def test_compare_form_chooses_places(tab, live_server):
    tab.goto(f"{live_server}/compare?lang=en")
    selects = tab.locator('select[name="places"]')
    selects.nth(0).select_option("xixian")
    selects.nth(1).select_option("guian")
    tab.locator(".compare-form button[type=submit]").click()
    tab.wait_for_load_state("networkidle")
    assert "places=xixian" in tab.url and "places=guian" in tab.url
    assert tab.locator(".compare-place").evaluate_all(
        "ss => ss.map(s => s.dataset.place)") == ["xixian", "guian"]
    _done(tab, live_server)


@pytest.mark.parametrize("lang", LANGS)
def test_about_page_in_each_script(tab, live_server, lang):
    tab.goto(f"{live_server}/help?lang={lang}")
    tab.wait_for_load_state("networkidle")
    assert tab.url.endswith(f"/about?lang={lang}")
    assert tab.evaluate("() => document.documentElement.lang") == lang
    title = {"zh-Hans": "关于本图：数据、精度与引用", "zh-Hant": "關於本圖：數據、精度與引用",
             "en": "About this map: data, precision and citation"}[lang]
    assert tab.locator("h1").inner_text() == title
    documents = _get_json(live_server, "/about?f=json")["sources"]
    rows = tab.locator("table.sources tbody tr")
    assert rows.count() == len(documents)
    for i, doc in enumerate(documents):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[0] == doc["title"][lang] and cells[1] == doc["publisher"][lang]
        assert cells[2] == doc["date"]
    assert "ndrc-2024:13" in tab.locator("blockquote.citation").inner_text()
    _done(tab, live_server, f"about-{lang}.png")


def test_language_switch_keeps_the_sorted_filtered_view(tab, live_server):
    tab.goto(f"{live_server}/new-areas?lang=en")
    tab.wait_for_load_state("networkidle")
    _heading(tab, "units_named").click()
    tab.locator("#na-filter").fill("jiang")
    order = tab.evaluate(ROW_IDS)
    tab.locator('.lang-menu a[hreflang="zh-Hant"]').click()
    tab.wait_for_load_state("networkidle")
    assert "lang=zh-Hant" in tab.url and "sort=units_named" in tab.url and "q=jiang" in tab.url
    assert tab.evaluate("() => document.documentElement.lang") == "zh-Hant"
    assert tab.evaluate(ROW_IDS) == order  # the server gives the same rows in the same order
    assert tab.locator(".lang-menu .lang-current").inner_text() == "繁體中文"
    _done(tab, live_server)


@pytest.mark.parametrize(("locale", "expected"), [("zh-TW", "zh-Hant"), ("zh-CN", "zh-Hans"),
                                                  ("en-US", "en")])
def test_browser_language_sets_the_default_script(chromium, live_server, locale, expected):
    context = chromium.new_context(locale=locale)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/new-areas")
        assert page.evaluate("() => document.documentElement.lang") == expected
        current = page.locator(".lang-menu .lang-current").get_attribute("lang")
        assert current == expected
    finally:
        context.close()
