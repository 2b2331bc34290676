"""The map as planners read it, in headless Chromium against `xinqu serve`: the new areas
named at national zoom in every script (short names on the phone), the basemap's provinces
and major cities, the phone layout, pinch zoom and the keyboard.

Screenshots land in tests/artifacts/map-labels-<viewport>-<lang>.png (look at them)."""

from __future__ import annotations

import re

import pytest

from webapp.map import load_style

pytest_plugins = ["web_fixtures"]

LANGS = ["zh-Hans", "zh-Hant", "en"]
VIEWPORTS = {"desktop": (1440, 900), "phone": (390, 844)}
NAME_COLUMN = {"zh-Hans": "name_zh_hans", "zh-Hant": "name_zh_hant", "en": "name_en"}
SHORT_COLUMN = {lang: "short_" + column for lang, column in NAME_COLUMN.items()}

LOADED = """() => window.xinqu && xinqu.loading === 0 && xinqu.layers['new-areas']
    && xinqu.layers['new-areas'].getLayers().length > 0
    && document.querySelectorAll('.xinqu-label-new-areas').length > 0"""

# Every label on the page and every control of the map, as page rectangles.
BOXES = """() => {
    const r = e => { const b = e.getBoundingClientRect();
                     return {x: b.left, y: b.top, w: b.width, h: b.height}; };
    return {
        map: r(xinqu.map.getContainer()),
        labels: [...document.querySelectorAll('.xinqu-label')].map(e => ({
            ...r(e), layer: e.dataset.layer, place: e.dataset.place, text: e.textContent,
            title: e.title, visible: getComputedStyle(e).visibility !== 'hidden'
                && getComputedStyle(e).display !== 'none'})),
        dots: [...document.querySelectorAll('.xinqu-city-dot')].map(e => ({
            ...r(e), place: e.dataset.place})),
        controls: [...document.querySelectorAll('.leaflet-control')].map(e => ({
            ...r(e), name: e.className})),
    };
}"""


def _overlap(a: dict, b: dict) -> float:
    w = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    return w * h if w > 0 and h > 0 else 0.0


def _open(chromium, base: str, lang: str, viewport: str):
    width, height = VIEWPORTS[viewport]
    context = chromium.new_context(viewport={"width": width, "height": height},
                                   locale="en-GB")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{base}/?lang={lang}")
    page.wait_for_function(LOADED, timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # the last layout after the last layer came in
    return context, page


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("lang", LANGS)
def test_all_new_areas_named_at_national_zoom(chromium, live_server, web_store, lang,
                                              viewport):
    context, page = _open(chromium, live_server, lang, viewport)
    try:
        from web_fixtures import ARTIFACTS

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"map-labels-{viewport}-{lang}.png"))
        assert page.errors == []
        assert page.evaluate("() => xinqu.map.getZoom()") <= 4  # the whole country
        boxes = page.evaluate(BOXES)
        areas = web_store.layers["new-areas"]
        labels = [b for b in boxes["labels"] if b["layer"] == "new-areas"]
        assert sorted(b["place"] for b in labels) == sorted(areas.index)
        strip = load_style()["labels"]["layers"]["new-areas"]["strip"][lang]
        map_box = boxes["map"]
        for label in labels:
            name = str(areas.loc[label["place"], NAME_COLUMN[lang]])
            short = areas.loc[label["place"], SHORT_COLUMN[lang]]
            assert label["title"] == name  # the full name, in the interface language
            if viewport == "phone" and isinstance(short, str):  # the short name on a phone
                assert label["text"] == short
            else:
                assert label["text"] == re.sub(strip, "", name).strip()
            assert label["visible"] and label["w"] > 0 and label["h"] > 0
            assert map_box["x"] <= label["x"] and label["x"] + label["w"] <= (
                map_box["x"] + map_box["w"]), label
            assert map_box["y"] <= label["y"] and label["y"] + label["h"] <= (
                map_box["y"] + map_box["h"]), label
        if viewport == "phone" and lang == "en":  # every new area has a short English name
            assert all(label["text"] == areas.loc[label["place"], "short_name_en"]
                       for label in labels)
        everything = boxes["labels"] + boxes["dots"]
        for i, a in enumerate(everything):
            for b in everything[i + 1:]:
                assert _overlap(a, b) == 0, (a["text"], b["text"])
            for control in boxes["controls"]:  # the legend, the layer control, the zoom
                assert _overlap(a, control) == 0, (a["text"], control["name"])
        if viewport == "phone":
            area = map_box["w"] * map_box["h"]
            assert area > 0.5 * 390 * 844  # the map, not the panel, fills the phone
            for control in boxes["controls"]:
                assert _overlap(control, map_box) <= 0.25 * area, control["name"]
            assert page.locator(".xinqu-panel").is_hidden()
    finally:
        context.close()


def test_provinces_named_on_the_basemap(chromium, live_server, web_store):
    from webapp.map import basemap_labels

    context, page = _open(chromium, live_server, "zh-Hant", "desktop")
    try:
        shown = dict(page.evaluate("""() => [...document.querySelectorAll(
            '.xinqu-label-basemap')].map(e => [e.dataset.place, e.title])"""))
        assert len(shown) >= 10, shown  # those that fit beside the new areas at zoom 4
        expected = {x["code"]: x["name"] for x in basemap_labels(web_store, "zh-Hant")}
        assert all(shown[code] == expected[code] for code in shown)
        simplified = dict(zip(web_store.basemap["code"], web_store.basemap["name_zh_hans"],
                              strict=True))
        # in Traditional script, not the store's Simplified names
        assert any(shown[code] != simplified[code] for code in shown)
    finally:
        context.close()


def test_phone_panel_folds_and_pinch_zoom_is_allowed(chromium, live_server):
    context, page = _open(chromium, live_server, "en", "phone")
    try:
        viewports = page.eval_on_selector_all(
            'meta[name="viewport"]', "ms => ms.map(m => m.content)")
        assert viewports and all("user-scalable=no" not in v and "maximum-scale" not in v
                                 for v in viewports)
        toggle = page.locator("#xinqu-panel-toggle")
        assert toggle.get_attribute("aria-expanded") == "false"
        before = page.evaluate("() => xinqu.map.getSize().y")
        toggle.click()
        assert page.locator("#xinqu-q").is_visible()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert page.evaluate("() => xinqu.map.getSize().y") < before
        toggle.click()
        assert page.locator(".xinqu-panel").is_hidden()
        # the layer control opens from its button and stays within the map
        control = page.locator(".leaflet-control-layers")
        assert not page.locator(".leaflet-control-layers-overlays").is_visible()
        page.locator(".leaflet-control-layers-toggle").click()
        assert page.locator(".leaflet-control-layers-overlays").is_visible()
        assert control.bounding_box()["height"] <= 0.5 * 844
    finally:
        context.close()


FOCUSED = """() => {
    const e = document.activeElement;
    const feature = !!e.closest('.leaflet-map-pane')
        && (e.matches('path.leaflet-interactive') || e.matches('.leaflet-marker-pane > *'));
    return {feature, label: e.getAttribute('aria-label'), tag: e.tagName,
            stroke: getComputedStyle(e).stroke, outline: getComputedStyle(e).outlineStyle};
}"""


def test_tab_reaches_a_named_feature_with_a_visible_focus(chromium, live_server, web_store):
    context, page = _open(chromium, live_server, "en", "desktop")
    try:
        unnamed = page.evaluate("""() => [...document.querySelectorAll(
            '.leaflet-map-pane path.leaflet-interactive, .leaflet-marker-pane > *')]
            .filter(e => !(e.getAttribute('aria-label') || '').trim()).length""")
        assert unnamed == 0
        pins = page.evaluate(
            "() => document.querySelectorAll('.leaflet-marker-pane > [aria-label]').length")
        points = sum(len(web_store.layers[layer])
                     for layer in ("ports", "science-cities", "sites"))
        assert points > 0 and pins == points  # every pin named
        reached = None
        for _ in range(120):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUSED)
            if focused["feature"]:
                reached = focused
                break
        assert reached is not None, "Tab never reached a feature of the map"
        assert reached["label"] and reached["label"].strip()
        if reached["tag"].lower() == "path":
            assert reached["stroke"] == "rgb(255, 191, 0)"  # the focus ring, labels.css
        else:
            assert reached["outline"] == "solid"
        # a pin focused after the keyboard was used shows its ring too
        ring = page.evaluate("""() => { const pin = document.querySelector(
            '.leaflet-marker-pane > [aria-label]'); pin.focus();
            return getComputedStyle(pin).outlineStyle; }""")
        assert ring == "solid"
        # Leaflet shows the name on focus too, and Enter opens the feature's popup
        assert page.locator(".leaflet-tooltip").first.inner_text().strip() != ""
        page.keyboard.press("Enter")
        page.locator(".leaflet-popup .xinqu-popup").wait_for(timeout=15_000)
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_every_province_has_a_label_point_inside_it_and_a_name_in_the_language(web_store,
                                                                               lang):
    from shapely.geometry import Point

    from webapp.map import basemap_labels

    provinces = web_store.basemap[web_store.basemap["kind"] == "province"].set_index("code")
    labels = [x for x in basemap_labels(web_store, lang) if x["kind"] == "province"]
    assert sorted(label["code"] for label in labels) == sorted(provinces.index)
    han = re.compile(r"[\u4e00-\u9fff]")
    for label in labels:
        geometry = provinces.loc[label["code"], "geometry"]
        assert geometry.contains(Point(label["lon"], label["lat"])), label
        if lang == "en":
            assert not han.search(label["name"]), label
        else:
            assert han.search(label["name"]), label
    by_code = {label["code"]: label["name"] for label in labels}
    # Hebei wraps round Beijing and Tianjin: its point is in Hebei, not in the hole
    assert not provinces.loc["110000", "geometry"].contains(
        Point(*next((x["lon"], x["lat"]) for x in labels if x["code"] == "130000")))
    assert by_code["440000"] == {"zh-Hans": "广东省", "zh-Hant": "廣東省", "en": "Guangdong"}[lang]


@pytest.mark.parametrize("lang", LANGS)
def test_every_city_has_its_point_and_a_name_in_the_language(web_store, lang):
    from webapp.map import basemap_labels

    cities = web_store.basemap[web_store.basemap["kind"] == "city"].set_index("code")
    labels = [x for x in basemap_labels(web_store, lang) if x["kind"] == "city"]
    assert [x["code"] for x in labels] == list(cities.index)  # capitals first, as listed
    for label in labels:
        assert label["name"] == cities.loc[label["code"], NAME_COLUMN[lang]]
        point = cities.loc[label["code"], "geometry"]
        assert (label["lon"], label["lat"]) == (round(point.x, 4), round(point.y, 4))


CITIES_SHOWN = """() => [...document.querySelectorAll('.xinqu-label-city')].map(e => ({
    place: e.dataset.place, text: e.textContent, title: e.title,
    dot: !!document.querySelector('.xinqu-city-dot[data-place="' + e.dataset.place + '"]')}))"""


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_major_cities_named_at_national_zoom(chromium, live_server, web_store, lang):
    """At national zoom on a wide screen some cities are named, each by a dot, in the
    interface language, below the new areas: no city label or dot covers a new area's."""
    context, page = _open(chromium, live_server, lang, "desktop")
    try:
        from web_fixtures import ARTIFACTS

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"map-cities-desktop-{lang}.png"))
        assert page.errors == []
        shown = page.evaluate(CITIES_SHOWN)
        cities = web_store.basemap[web_store.basemap["kind"] == "city"].set_index("code")
        assert len(shown) >= 5, shown
        strip = load_style()["labels"]["cities"].get("strip", {}).get(lang)
        for city in shown:
            name = cities.loc[city["place"], NAME_COLUMN[lang]]
            assert city["title"] == name
            assert city["text"] == (re.sub(strip, "", name) if strip else name)
            assert city["dot"], city
        boxes = page.evaluate(BOXES)
        areas = [b for b in boxes["labels"] if b["layer"] == "new-areas"]
        assert len(areas) == 19
        for city in [b for b in boxes["labels"] if b["layer"] == "city"] + boxes["dots"]:
            assert city["w"] > 0 and city["h"] > 0
            for area in areas:
                assert _overlap(city, area) == 0, (city, area["text"])
        # no dot without its name
        assert sorted(d["place"] for d in boxes["dots"]) == sorted(c["place"] for c in shown)
        # closer in (central China at zoom 6) the cities there are named
        page.evaluate("() => xinqu.map.setView([30.5, 114.3], 6, {animate: false})")
        page.wait_for_timeout(500)
        page.evaluate("() => xinqu.layoutLabels()")
        page.screenshot(path=str(ARTIFACTS / f"map-cities-zoom6-{lang}.png"))
        closer = {c["place"] for c in page.evaluate(CITIES_SHOWN)}
        assert {"420100", "430100", "360100"} <= closer, closer  # Wuhan, Changsha, Nanchang
    finally:
        context.close()


def test_labels_follow_a_filter(chromium, live_server):
    """A unit's filter greys the places it does not name: their labels too, not its own."""
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/?lang=en&unit=ndrc-2024:5")
        page.wait_for_function(LOADED, timeout=60_000)
        page.wait_for_function(
            "() => document.querySelectorAll('.xinqu-label-new-areas.xinqu-label-out').length",
            timeout=30_000)
        labels = page.evaluate("""() => [...document.querySelectorAll('.xinqu-label-new-areas')]
            .map(e => [e.dataset.place, e.classList.contains('xinqu-label-out')])""")
        out = dict(labels)
        assert len(out) == 19
        assert out["pudong"] is False
        assert sum(out.values()) >= 10
    finally:
        context.close()
