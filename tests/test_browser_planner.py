"""The map's planner tools in headless Chromium against `xinqu serve`, fully offline:
filters through the same JSON the map uses, permalinks that restore the view, the
choropleth legend against /choropleth, strategy overlays, search, and bad link values."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlsplit

import pytest
from test_browser import ARTIFACTS, LAYERS_LOADED, PORTS, _outside

pytest_plugins = ["web_fixtures"]

READY = f"""() => ({LAYERS_LOADED})() && xinqu.planner && xinqu.planner.ready
    && xinqu.planner.pending === 0"""
SETTLED = "() => xinqu.planner.pending === 0 && xinqu.loading === 0"
XIXIAN_REPORT_AREAS = {"zhoushan", "guian", "liangjiang", "tianfu", "xixian"}

# Ids of the features of a layer whose element carries a CSS class (map.js marks them).
MARKED = """([layer, mark]) => {
    const ids = new Set();
    xinqu.layers[layer].eachLayer(l => {
        const e = l.getElement && l.getElement();
        if (l.feature && !l.xinquCore && e && e.classList.contains(mark)) ids.add(l.feature.id);
    });
    return [...ids].sort();
}"""
STATE = """() => ({
    visible: Object.keys(xinqu.layers).filter(id => id !== 'basemap'
                                                  && xinqu.map.hasLayer(xinqu.layers[id])),
    state: Object.assign({}, xinqu.planner.state),
    center: xinqu.map.getCenter(), zoom: xinqu.map.getZoom(),
    selects: ['document', 'chapter', 'unit', 'kind', 'region']
        .map(k => document.getElementById('xinqu-' + k).value),
    mode: document.querySelector('#xinqu-mode input:checked').value,
})"""


def _watched(context):
    """A new page of context that records every request and page error."""
    tab = context.new_page()
    tab.requests, tab.errors = [], []
    context.on("request", lambda request: tab.requests.append(request))
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    return tab


@pytest.fixture()
def tab(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    yield _watched(context)
    context.close()


def _get_json(base: str, path: str) -> dict:
    with urllib.request.urlopen(base + path, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(READY, timeout=60_000)


def _settle(page) -> None:
    page.wait_for_function(SETTLED, timeout=30_000)
    page.wait_for_timeout(100)


def _named_and_via(selection: dict, layer: str) -> tuple[list[str], list[str]]:
    places = selection["places"].get(layer, [])
    return (sorted(p["id"] for p in places if p["relation"] == "named"),
            sorted(p["id"] for p in places if p["relation"] == "via"))


def _finish(page, base: str, shot: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot))
    assert page.errors == []
    assert _outside(page.requests, base) == []


def test_unit_13_shows_the_six_ports_and_no_new_area_as_named(tab, live_server):
    _open(tab, f"{live_server}/?lang=en&unit=ndrc-2024:13")
    selection = _get_json(live_server, "/map/selection?unit=ndrc-2024:13")
    assert tab.evaluate(MARKED, ["ports", "xinqu-named"]) == sorted(PORTS)
    assert tab.evaluate(MARKED, ["new-areas", "xinqu-named"]) == []
    assert tab.evaluate(MARKED, ["new-areas", "xinqu-via"]) == _named_and_via(
        selection, "new-areas")[1]
    # everything the unit does not select is greyed
    out = tab.evaluate(MARKED, ["sites", "xinqu-out"])
    assert out and len(out) == tab.evaluate("() => xinqu.layers.sites.getLayers().length")
    listed = tab.locator("#xinqu-results li[data-unit]")
    assert listed.count() == 1 and listed.first.get_attribute("data-unit") == "ndrc-2024:13"
    assert listed.first.locator('a[href^="/units/ndrc-2024:13"]').count() == 1
    chips = tab.locator("#xinqu-results .xinqu-places button.named")
    assert sorted(chips.evaluate_all("bs => bs.map(b => b.dataset.place)")) == sorted(PORTS)
    # the language switch keeps the map's state; the export menu exports the same filter
    switch = tab.locator(".lang-switch").get_attribute("href")
    assert "lang=zh" in switch and "unit=ndrc-2024:13" in switch and "view=" in switch
    exported = tab.locator('[data-export-filter="unit"]')
    if exported.count():
        assert exported.input_value() == "ndrc-2024:13"
    _finish(tab, live_server, "planner-unit-ndrc-2024-13.png")


def test_filter_permalink_opens_the_same_layers_filter_and_view(chromium, tab, live_server):
    _open(tab, f"{live_server}/?lang=en")
    tab.select_option("#xinqu-document", "xixian-2023")
    _settle(tab)
    selection = _get_json(live_server, "/map/selection?document=xixian-2023")
    named = tab.evaluate(MARKED, ["new-areas", "xinqu-named"])
    assert set(named) >= XIXIAN_REPORT_AREAS
    assert named == _named_and_via(selection, "new-areas")[0]
    units = tab.locator("#xinqu-results li[data-unit]").evaluate_all(
        "lis => lis.map(li => li.dataset.unit)")
    assert units == [u["id"] for u in selection["units"]]

    # a planner's other choices: hide a layer, shade by reach, show a region, move the map
    tab.locator(".leaflet-control-layers-overlays label", has_text="Cities and sites") \
        .locator("input").uncheck()
    tab.check('#xinqu-mode input[value="reach"]')
    tab.select_option("#xinqu-region", "chengdu-chongqing")
    tab.evaluate("() => xinqu.map.setView([30.2, 106.0], 6, {animate: false})")
    _settle(tab)
    before = tab.evaluate(STATE)
    assert "sites" not in before["visible"] and "new-areas" in before["visible"]

    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    tab.click("#xinqu-copy")
    field = tab.locator("#xinqu-link")
    field.wait_for(state="visible")
    link = field.input_value()
    assert link == tab.url
    tab.wait_for_function("() => document.getElementById('xinqu-copy-status').textContent")
    if tab.locator("#xinqu-copy-status").inner_text() == "Copied":
        assert tab.evaluate("() => navigator.clipboard.readText()") == link
    query = dict(part.split("=", 1) for part in urlsplit(link).query.split("&"))
    assert query["document"] == "xixian-2023" and query["mode"] == "reach"
    assert query["region"] == "chengdu-chongqing" and query["lang"] == "en"
    assert "sites" not in query["layers"].split(",")
    _finish(tab, live_server, "planner-permalink-before.png")

    # a fresh browser context: nothing carried over but the link itself
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    try:
        restored = _watched(context)
        _open(restored, link)
        after = restored.evaluate(STATE)
        assert sorted(after["visible"]) == sorted(before["visible"])
        assert after["state"] == before["state"]
        assert after["selects"] == before["selects"] and after["mode"] == "reach"
        assert after["zoom"] == before["zoom"]
        assert after["center"]["lat"] == pytest.approx(before["center"]["lat"], abs=1e-3)
        assert after["center"]["lng"] == pytest.approx(before["center"]["lng"], abs=1e-3)
        assert restored.evaluate(MARKED, ["new-areas", "xinqu-named"]) == named
        assert restored.locator("#xinqu-results li[data-unit]").count() == len(units)
        assert restored.locator(".xinqu-choropleth-legend").get_attribute("data-mode") == "reach"
        assert restored.evaluate(MARKED, ["new-areas", "xinqu-in-region"]) == sorted(
            ["liangjiang", "tianfu"])
        assert restored.locator("html").get_attribute("lang") == "en"  # lang from the link
        assert restored.url == link
        _finish(restored, live_server, "planner-permalink-restored.png")
    finally:
        context.close()


def test_choropleth_legend_shows_the_breaks_of_the_api(tab, live_server):
    _open(tab, f"{live_server}/?lang=en")
    for mode in ("reach", "named"):
        tab.check(f'#xinqu-mode input[value="{mode}"]')
        _settle(tab)
        api = _get_json(live_server, f"/choropleth?mode={mode}")
        legend = tab.locator(f'.xinqu-choropleth-legend[data-mode="{mode}"]')
        rows = legend.locator(".xinqu-class")
        assert rows.count() == len(api["classes"]) == len(api["breaks"])
        for i, expected in enumerate(api["classes"]):
            row = rows.nth(i)
            assert int(row.get_attribute("data-upper")) == api["breaks"][i] == expected["upper"]
            assert int(row.get_attribute("data-lower")) == expected["lower"]
            shown = row.locator(".range").inner_text()
            assert shown == (str(expected["upper"]) if expected["lower"] == expected["upper"]
                             else f"{expected['lower']}–{expected['upper']}")
            assert row.locator(".areas").inner_text().startswith(str(expected["areas"]))
        # every area is drawn in its class's colour, and its count lies within the class
        fills = tab.evaluate("""() => {
            const out = {};
            xinqu.layers['new-areas'].eachLayer(l => {
                if (l.feature && !l.xinquCore) out[l.feature.id] = l.options.fillColor; });
            return out; }""")
        for area in api["areas"]:
            klass = api["classes"][area["class"]]
            assert klass["lower"] <= area["count"] <= klass["upper"]
            assert fills[area["id"]] == area["color"] == klass["color"]
        tab.screenshot(path=str(ARTIFACTS / f"planner-choropleth-{mode}.png"))
    tab.check('#xinqu-mode input[value=""]')
    _settle(tab)
    assert tab.locator(".xinqu-choropleth-legend").count() == 0
    _finish(tab, live_server, "planner-choropleth-off.png")


def test_strategy_region_overlay_highlights_its_new_areas_and_lists_its_units(tab,
                                                                               live_server):
    options = _get_json(live_server, "/map/options?lang=en")
    regions = {r["id"]: r for r in options["regions"]}
    _open(tab, f"{live_server}/?lang=en&layers=new-areas,ports")
    tab.select_option("#xinqu-region", "yangtze-river-delta")
    _settle(tab)
    yrd = regions["yangtze-river-delta"]
    assert tab.evaluate("() => xinqu.map.hasLayer(xinqu.layers['strategy-regions'])")
    assert tab.evaluate(MARKED, ["strategy-regions", "xinqu-region-on"]) == [
        "yangtze-river-delta"]
    assert tab.evaluate(MARKED, ["new-areas", "xinqu-in-region"]) == sorted(
        a["id"] for a in yrd["inside"])
    info = tab.locator('#xinqu-region-info [data-region="yangtze-river-delta"]')
    assert info.locator("li[data-unit]").evaluate_all(
        "lis => lis.map(li => li.dataset.unit)") == yrd["units"]
    tab.screenshot(path=str(ARTIFACTS / "planner-region-yangtze-river-delta.png"))

    tab.select_option("#xinqu-region", "all")
    _settle(tab)
    assert tab.evaluate(MARKED, ["strategy-regions", "xinqu-region-on"]) == sorted(regions)
    inside = sorted({a["id"] for r in regions.values() for a in r["inside"]})
    assert tab.evaluate(MARKED, ["new-areas", "xinqu-in-region"]) == inside
    assert tab.locator("#xinqu-region-info [data-region]").count() == len(regions)
    _finish(tab, live_server, "planner-regions-all.png")


def test_search_in_any_script_zooms_to_places_and_opens_unit_filters(tab, live_server):
    _open(tab, f"{live_server}/?lang=en")
    for q in ("浦東", "浦东", "Pudong"):
        tab.fill("#xinqu-q", q)
        tab.press("#xinqu-q", "Enter")
        tab.locator('#xinqu-search-results button[data-place="pudong"]').wait_for()
    tab.click('#xinqu-search-results button[data-place="pudong"]')
    popup = tab.locator('.leaflet-popup .xinqu-popup-body[data-place="pudong"]')
    popup.wait_for(timeout=15_000)
    facts = popup.locator("dl.spatial-facts")
    assert facts.locator('dd.strategy-regions a[data-place="yangtze-river-delta"]') \
        .inner_text() == "Yangtze River Delta"
    assert facts.locator('dd.nearest-port a[data-place="port-shanghai"]').count() == 1
    assert tab.evaluate("() => xinqu.map.getZoom()") >= 8
    tab.screenshot(path=str(ARTIFACTS / "planner-search-pudong.png"))

    tab.fill("#xinqu-q", "港口")
    tab.press("#xinqu-q", "Enter")
    tab.locator('#xinqu-search-results button[data-kind="ports"]').wait_for()
    tab.fill("#xinqu-q", "Lingang")
    tab.press("#xinqu-q", "Enter")
    tab.click('#xinqu-search-results button[data-unit="ndrc-2024:13"]')
    _settle(tab)
    assert "unit=ndrc-2024:13" in tab.url
    assert tab.locator("#xinqu-unit").input_value() == "ndrc-2024:13"
    assert tab.evaluate(MARKED, ["ports", "xinqu-named"]) == sorted(PORTS)
    _finish(tab, live_server, "planner-search-lingang.png")


def test_bad_link_values_are_named_on_the_page_and_the_map_still_works(tab, live_server):
    _open(tab, f"{live_server}/?lang=en&unit=nope&document=xixian-2023&chapter=9"
                f"&kind=volcanoes&mode=loud&region=atlantis&view=abc&layers=new-areas,ports,rivers")
    message = tab.locator("#xinqu-message")
    assert message.is_visible()
    named = message.locator("p[data-param]").evaluate_all("ps => ps.map(p => p.dataset.param)")
    assert sorted(named) == sorted(["unit", "chapter", "kind", "mode", "region", "view",
                                    "layers"])
    assert "nope" in message.locator('p[data-param="unit"]').inner_text()
    assert "rivers" in message.locator('p[data-param="layers"]').inner_text()
    # what was valid still applies: the document filter and the ports layer
    state = tab.evaluate(STATE)
    assert state["state"]["document"] == "xixian-2023" and state["state"]["unit"] is None
    assert state["visible"] == ["new-areas", "ports"]
    assert "unit=" not in tab.url and "mode=" not in tab.url
    assert set(tab.evaluate(MARKED, ["new-areas", "xinqu-named"])) >= XIXIAN_REPORT_AREAS
    _finish(tab, live_server, "planner-bad-link.png")


def test_place_page_fits_its_small_map_and_shows_spatial_facts(tab, live_server):
    """The small map zooms to the place (an animated opening fit once swallowed it)."""
    tab.goto(f"{live_server}/places/xixian?lang=en")
    tab.wait_for_function("() => window.xinqu && xinqu.loading === 0 && xinqu.bounds",
                          timeout=60_000)
    tab.wait_for_timeout(400)  # longer than any zoom animation Leaflet would run
    fitted = tab.evaluate("""() => [xinqu.map.getZoom(),
                                    xinqu.map.getBounds().contains(xinqu.bounds)]""")
    assert fitted[0] >= 7 and fitted[1]
    facts = tab.locator("dl.spatial-facts")
    assert facts.locator('dd.nearest-port a[data-place="port-tianjin"]').count() == 1
    assert facts.locator("dd.corridors-via a").inner_text() == "Xi'an–Xianyang integration"
    _finish(tab, live_server, "planner-place-xixian.png")


FIGURE_STATE = """() => {
    const b = xinqu.map.getBounds();
    return {bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
            visible: Object.keys(xinqu.layers).filter(id => id !== 'basemap'
                                                      && xinqu.map.hasLayer(xinqu.layers[id]))};
}"""


def test_figure_button_downloads_what_the_map_shows(tab, live_server):
    """The Download this map links carry the map's filters, region overlay, shading, visible
    layers and view (as bbox), and what the browser downloads is that figure."""
    _open(tab, f"{live_server}/?lang=en&document=ndrc-2024&chapter=3&mode=named"
               "&region=yangtze-river-delta&layers=new-areas,ports,strategy-regions"
               "&view=31.0,117.0,6")
    png = tab.locator("#xinqu-figure-png")
    assert png.is_visible() and tab.locator("#xinqu-figure-svg").is_visible()

    def link(fmt: str) -> dict[str, str]:
        href = link_href(tab, fmt)
        assert urlsplit(href).path == f"/map.{fmt}"
        return dict(part.split("=", 1) for part in urlsplit(href).query.split("&"))

    shown = tab.evaluate(FIGURE_STATE)
    query = link("png")
    assert query["document"] == "ndrc-2024" and query["chapter"] == "3"
    assert query["mode"] == "named" and query["region"] == "yangtze-river-delta"
    assert query["lang"] == "en"
    assert sorted(query["layers"].split(",")) == sorted(shown["visible"])
    bbox = [float(v) for v in query["bbox"].split(",")]
    assert bbox == pytest.approx(shown["bounds"], abs=1e-4)

    # the links follow the map: another filter, another layer set, another view
    tab.select_option("#xinqu-kind", "ports")
    tab.locator(".leaflet-control-layers-overlays label", has_text="Hub ports") \
        .locator("input").uncheck()
    tab.evaluate("() => xinqu.map.setView([23.0, 113.5], 8, {animate: false})")
    _settle(tab)
    shown = tab.evaluate(FIGURE_STATE)
    query = link("svg")
    assert query["kind"] == "ports" and query["document"] == "ndrc-2024"
    assert "ports" not in query["layers"].split(",")
    assert [float(v) for v in query["bbox"].split(",")] == pytest.approx(shown["bounds"],
                                                                         abs=1e-4)

    # what a click downloads is the server's figure of that link
    with tab.expect_download() as download:
        tab.click("#xinqu-figure-png")
    with open(download.value.path(), "rb") as saved:
        data = saved.read()
    with urllib.request.urlopen(live_server + link_href(tab, "png"), timeout=60) as response:
        assert response.headers["Content-Type"] == "image/png"
        assert data == response.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with urllib.request.urlopen(live_server + link_href(tab, "svg"), timeout=60) as response:
        svg = response.read().decode("utf-8")
    assert "<text" in svg and "chapter 3" in svg
    _finish(tab, live_server, "planner-figure-links.png")


def link_href(tab, fmt: str) -> str:
    return tab.locator(f"#xinqu-figure-{fmt}").get_attribute("href")
