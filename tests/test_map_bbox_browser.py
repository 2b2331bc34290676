"""No silent caps on the map: a layer bigger than one request loads what is in view.

Headless Chromium against `xinqu serve` whose map page size is lowered (XINQU_MAP_PAGE_LIMIT)
to the size of the largest layer but one, so `sites` is bigger than a page and every other
layer fits in one. The counts expected are computed from the store's own geometry.
Screenshot: tests/artifacts/map-partial.png (the national view with the notice).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from shapely.geometry import box

from webapp.map import PAGE_LIMIT_ENV

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytest_plugins = ["web_fixtures"]

BIG = "sites"
# Four sites of the Zhoushan archipelago lie here; the view fitted to it holds no other.
ZHOUSHAN = [[29.90, 122.05], [30.09, 122.42]]
# A unit naming three sites in Zhoushan and one in Guizhou (the filter test's layer).
UNIT = "xixian-2023:1.3"

SETTLED = """() => window.xinqu && xinqu.loading === 0 && Object.keys(xinqu.layers).length === 8
    && xinqu.layers['new-areas'].getLayers().length > 0"""

# What the map holds: per layer the ids of its features (not the new areas' core points),
# the notice's lines and whether it shows, and the map's bounds.
STATE = """() => {
    const ids = {};
    for (const [id, group] of Object.entries(xinqu.layers)) {
        if (id === 'basemap') continue;
        ids[id] = group.getLayers().filter(l => l.feature && !l.xinquCore)
            .map(l => l.feature.id);
    }
    const notice = document.querySelector('.xinqu-partial');
    const b = xinqu.map.getBounds();
    return {ids, bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
            notice: notice && !notice.hidden && notice.offsetParent !== null
                ? [...notice.children].map(e => ({layer: e.dataset.layer, text: e.textContent}))
                : null,
            pins: document.querySelectorAll(
                '.leaflet-marker-pane .awesome-marker-icon-orange').length};
}"""


@pytest.fixture(scope="module")
def page_limit(web_store) -> int:
    others = [len(frame) for layer, frame in web_store.layers.items() if layer != BIG]
    limit = max(others)
    assert len(web_store.layers[BIG]) > limit, "the test needs one layer bigger than the rest"
    return limit


@pytest.fixture(scope="module")
def paged_server(web_store, page_limit, tmp_path_factory):
    from web_fixtures import serving

    env = {**os.environ, PAGE_LIMIT_ENV: str(page_limit)}
    with serving(env, tmp_path_factory.mktemp("paged") / "serve.log") as base:
        yield base


@pytest.fixture()
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.requests = []
    page.errors = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def _in_view(frame, bounds) -> set[str]:
    """The ids of a layer's features that meet the map's view (west, south, east, north)."""
    view = box(*bounds)
    return {str(i) for i, geometry in frame.geometry.items() if geometry.intersects(view)}


def _layer_requests(page, layer: str) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(url).query) for url in page.requests
            if urlsplit(url).path == f"/collections/{layer}/items"]


def _open_map(page, base: str, lang: str = "en") -> dict:
    page.goto(f"{base}/?lang={lang}")
    page.wait_for_function(SETTLED, timeout=60_000)
    return page.evaluate(STATE)


def test_big_layer_shows_a_page_and_says_so_then_all_in_view_when_zoomed(
        page, paged_server, web_store, page_limit):
    sites = web_store.layers[BIG]
    state = _open_map(page, paged_server)
    in_view = _in_view(sites, state["bounds"])
    assert len(in_view) > page_limit  # the national view holds more than a page
    drawn = state["ids"][BIG]
    assert len(drawn) == page_limit == state["pins"]
    assert set(drawn) <= in_view
    assert state["notice"] == [{"layer": BIG, "text":
                                f"Cities and sites: showing {page_limit} of {len(in_view)} "
                                "in view — zoom in"}]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-partial.png"))
    asked = _layer_requests(page, BIG)
    assert "bbox" not in asked[0] and all("bbox" in a for a in asked[1:]) and len(asked) >= 2
    assert all(a["limit"] == [str(page_limit)] and a["display"] == ["1"] for a in asked)

    page.evaluate(f"() => xinqu.map.fitBounds({ZHOUSHAN}, {{animate: false}})")
    page.wait_for_function(
        "() => xinqu.loading === 0 && document.querySelector('.xinqu-partial').hidden",
        timeout=30_000)
    state = page.evaluate(STATE)
    in_view = _in_view(sites, state["bounds"])
    assert 0 < len(in_view) <= page_limit
    assert set(state["ids"][BIG]) == in_view and state["pins"] == len(in_view)
    assert state["notice"] is None
    west, south, east, north = (float(v) for v in _layer_requests(page, BIG)[-1]["bbox"][0]
                                .split(","))
    assert west <= state["bounds"][0] and east >= state["bounds"][2]
    assert south <= state["bounds"][1] and north >= state["bounds"][3]

    # a site's popup still opens on a feature the view brought in
    page.evaluate("""() => xinqu.layers.sites.getLayers()[0].openPopup()""")
    page.locator(".leaflet-popup .xinqu-popup-body").wait_for(timeout=15_000)
    assert page.errors == []


def test_layers_within_a_page_are_drawn_whole_without_notice(page, paged_server, web_store):
    state = _open_map(page, paged_server)
    for layer, frame in web_store.layers.items():
        if layer == BIG:
            continue
        assert sorted(state["ids"][layer]) == sorted(str(i) for i in frame.index), layer
        asked = _layer_requests(page, layer)
        assert len(asked) == 1 and "bbox" not in asked[0], layer
    assert [line["layer"] for line in state["notice"]] == [BIG]
    page.evaluate(f"() => xinqu.map.fitBounds({ZHOUSHAN}, {{animate: false}})")
    page.wait_for_function(
        "() => xinqu.loading === 0 && document.querySelector('.xinqu-partial').hidden",
        timeout=30_000)
    for layer in web_store.layers:  # moving asks nothing more of them
        if layer != BIG:
            assert len(_layer_requests(page, layer)) == 1, layer
    assert page.errors == []


def test_the_notice_is_translated(page, paged_server, page_limit):
    state = _open_map(page, paged_server, lang="zh-Hant")
    (line,) = state["notice"]
    assert line["text"].startswith("城市與站點：視野內共 ")
    assert f"僅顯示 {page_limit} 個" in line["text"]


def test_filters_are_kept_on_every_view_request(page, paged_server, web_store):
    """A layer URL with a unit filter (as the unit pages' small maps have) and a page of 3
    for the unit's 4 sites: each bbox request keeps the unit, and zoomed in the layer holds
    the unit's sites in view, not the other site there."""
    _open_map(page, paged_server)
    named = {"zhoushan-high-tech-park", "zhoushan-comprehensive-bonded-zone",
             "zhoushan-aviation-industrial-park", "catl-guizhou-base"}
    page.evaluate("""([unit]) => {
        const spec = xinqu.layers.sites.xinquSpec;
        const layer = xinqu.remoteLayer(xinqu.map, 'unit-sites',
            '/collections/sites/items?f=json&display=1&limit=3&unit=' + encodeURIComponent(unit),
            spec, {lang: 'en', title: 'Unit sites', partialText: '{layer}: {n} of {total}',
                   popupUrl: '/places/__ID__/popup', viewDelay: 100});
        layer.addTo(xinqu.map);
    }""", [UNIT])
    page.wait_for_function(
        "() => xinqu.loading === 0 && xinqu.layers['unit-sites'].getLayers().length > 0",
        timeout=30_000)
    line = page.locator('.xinqu-partial [data-layer="unit-sites"]')
    assert line.inner_text() == "Unit sites: 3 of 4"
    page.evaluate(f"() => xinqu.map.fitBounds({ZHOUSHAN}, {{animate: false}})")
    page.wait_for_function(
        "() => xinqu.loading === 0 && document.querySelector('.xinqu-partial').hidden",
        timeout=30_000)
    state = page.evaluate(STATE)
    in_view = _in_view(web_store.layers[BIG], state["bounds"])
    assert set(state["ids"]["unit-sites"]) == named & in_view
    assert set(state["ids"][BIG]) == in_view > named & in_view  # the other site is there
    asked = _layer_requests(page, BIG)
    unit_requests = [a for a in asked if "unit" in a]
    assert len(unit_requests) >= 3 and all(a["unit"] == [UNIT] for a in unit_requests)
    assert page.errors == []


def test_search_reaches_a_site_the_view_has_not_loaded(page, paged_server, web_store):
    """The planner's search result for a place of a layer loading what is in view, when the
    view has not brought it: the map moves to it and its popup opens."""
    state = _open_map(page, paged_server)
    missing = sorted(set(web_store.layers[BIG].index) - set(state["ids"][BIG]))
    assert missing  # the national view shows a page of the sites, not all
    place = missing[0]
    page.fill("#xinqu-q", str(web_store.layers[BIG].loc[place, "name_en"]))
    page.press("#xinqu-q", "Enter")
    page.click(f'#xinqu-search-results button[data-place="{place}"]')
    page.locator(f'.leaflet-popup .xinqu-popup-body[data-place="{place}"]').wait_for(
        timeout=30_000)
    assert place in page.evaluate(STATE)["ids"][BIG]
    assert page.errors == []
