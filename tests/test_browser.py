"""The map and the unit page in headless Chromium against `xinqu serve`, fully offline."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest_plugins = ["web_fixtures"]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

PORTS = ["port-shanghai", "port-ningbo-zhoushan", "port-dalian", "port-tianjin",
         "port-qingdao", "port-guangzhou"]

LAYERS_LOADED = """() => window.xinqu && Object.keys(xinqu.layers).length === 8
    && xinqu.loading === 0 && xinqu.layers['new-areas'].getLayers().length > 0"""

# A point whose topmost element is Pudong's own polygon (not a marker over it), in page
# pixels, searched on a grid over the polygon's bounds.
PUDONG_POINT = """() => {
    const layer = xinqu.layers['new-areas'].getLayers()
        .find(l => l.feature && l.feature.id === 'pudong' && l._path);
    xinqu.map.fitBounds(layer.getBounds());
    const b = layer.getBounds(), box = xinqu.map.getContainer().getBoundingClientRect();
    for (let i = 1; i < 20; i++) for (let j = 1; j < 20; j++) {
        const lat = b.getSouth() + (b.getNorth() - b.getSouth()) * i / 20;
        const lng = b.getWest() + (b.getEast() - b.getWest()) * j / 20;
        const p = xinqu.map.latLngToContainerPoint([lat, lng]);
        const x = box.left + p.x, y = box.top + p.y;
        if (document.elementFromPoint(x, y) === layer._path) return {x, y};
    }
    return null;
}"""


@pytest.fixture()
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.requests = []  # every request the page makes, whatever its origin
    page.errors = []
    context.on("request", lambda request: page.requests.append(request))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def _outside(requests, base: str) -> list[str]:
    host = urlsplit(base).hostname
    return [r.url for r in requests
            if not r.url.startswith("data:") and urlsplit(r.url).hostname != host]


def test_map_loads_offline_and_pudong_popup_lists_its_measure(page, live_server):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server}/?lang=en")
    page.wait_for_function(LAYERS_LOADED, timeout=60_000)
    page.wait_for_load_state("networkidle")
    assert page.errors == []
    assert _outside(page.requests, live_server) == []
    assert page.locator(".leaflet-control-layers-overlays label").count() == 7
    assert page.locator(".xinqu-legend").is_visible()

    transfer = sum(r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]
                   for r in page.requests if r.response() is not None)
    (ARTIFACTS / "map-transfer.json").write_text(json.dumps(
        {"requests": len(page.requests), "bytes": transfer}), encoding="utf-8")
    page.screenshot(path=str(ARTIFACTS / "map.png"))

    point = page.evaluate(PUDONG_POINT)
    assert point is not None, "no pixel of Pudong's polygon is uncovered"
    page.mouse.click(point["x"], point["y"])
    popup = page.locator('.leaflet-popup .xinqu-popup-body[data-place="pudong"]')
    popup.wait_for(timeout=15_000)
    text = popup.inner_text()
    assert "上海浦东新区" in text and "Shanghai Pudong New Area" in text
    assert "ndrc-2024:5" in text
    assert popup.locator('a[href*="/units/ndrc-2024:5"]').count() == 1
    page.screenshot(path=str(ARTIFACTS / "map-pudong-popup.png"))
    assert _outside(page.requests, live_server) == []


def test_unit_page_highlights_the_six_ports(page, live_server):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server}/units/ndrc-2024:13?lang=en")
    page.wait_for_function("() => window.xinqu && xinqu.loading === 0 && xinqu.bounds",
                           timeout=60_000)
    for port in PORTS:
        marks = page.locator(f'mark.place[data-place="{port}"]')
        assert marks.count() == 3, port  # zh-Hans, zh-Hant, en
        assert marks.first.is_visible()
        assert marks.first.locator("a").get_attribute("href").startswith(f"/places/{port}")
    colour = page.locator('mark.place[data-place="port-dalian"]').first.evaluate(
        "m => getComputedStyle(m).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    markers = page.locator('.small-map [class*="awesome-marker-icon-"]')
    assert markers.count() == len(PORTS)
    assert page.errors == []
    assert _outside(page.requests, live_server) == []
    page.screenshot(path=str(ARTIFACTS / "unit-ndrc-2024-13.png"), full_page=True)
    # the small map on its own, scrolled into view (a full-page capture resizes the window
    # under Leaflet, which may catch its shapes mid-redraw)
    small_map = page.locator(".small-map")
    small_map.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    small_map.screenshot(path=str(ARTIFACTS / "unit-ndrc-2024-13-map.png"))
