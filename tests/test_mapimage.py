"""The static map image for reports (issue 7): /map.png and /map.svg on the built store.

Images are written to tests/artifacts/ (gitignored) so they can be looked at.
"""

from __future__ import annotations

import io
import json
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import shapely
from PIL import Image

from geo.viewclip import clipped
from webapp.app import create_app
from webapp.map import load_style
from webapp.mapimage import (
    MAP_BOX,
    FontMissing,
    MapRenderer,
    MapSpec,
    RenderBusy,
    cjk_font,
    settings,
)
from webapp.planner import EXTENSION
from webapp.planner import renderer as app_renderer

pytest_plugins = ["web_fixtures"]

ARTIFACTS = Path(__file__).parent / "artifacts"
UNIT = "ndrc-2024:6"
NAMED = ["lanzhou", "xixian", "guian", "harbin", "changchun"]


@pytest.fixture(scope="module")
def app(store):
    app = create_app({"STORE": store, "TESTING": True})
    if "planner" not in app.blueprints:  # until create_app registers webapp.planner itself
        from webapp import planner

        app.register_blueprint(planner.blueprint)
    return app


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def renderer(app):
    with app.app_context():  # made on first use: matplotlib stays off the start-up path
        return app_renderer()


@pytest.fixture(scope="module")
def unit_png(client) -> bytes:
    response = client.get(f"/map.png?unit={UNIT}&lang=en")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "map-ndrc-2024-6.png").write_bytes(response.data)
    return response.data


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def highlight_rgb() -> np.ndarray:
    colour = load_style()["layers"]["new-areas"]["color"].lstrip("#")
    return np.array([int(colour[i:i + 2], 16) for i in (0, 2, 4)])


def is_highlight(image: np.ndarray) -> np.ndarray:
    return (np.abs(image - highlight_rgb()) <= 3).all(axis=2)


def window(image: np.ndarray, column: float, row: float, half: int = 6) -> np.ndarray:
    c, r = round(column), round(row)
    return image[max(r - half, 0):r + half + 1, max(c - half, 0):c + half + 1]


def in_map_box(image: np.ndarray, column: float, row: float) -> bool:
    height, width = image.shape[:2]
    left, bottom, box_w, box_h = MAP_BOX
    return (left * width <= column <= (left + box_w) * width
            and (1 - bottom - box_h) * height <= row <= (1 - bottom) * height)


def test_png_is_an_a4_page(unit_png):
    config = settings()
    image = Image.open(io.BytesIO(unit_png))
    assert image.format == "PNG"
    expected = (round(config["width_mm"] / 25.4 * config["dpi"]),
                round(config["height_mm"] / 25.4 * config["dpi"]))
    assert abs(image.size[0] - expected[0]) <= 1 and abs(image.size[1] - expected[1]) <= 1
    assert image.size[0] / image.size[1] == pytest.approx(297 / 210, rel=0.01)
    assert 150 <= config["dpi"] <= 200


def test_png_is_not_blank_and_shows_the_five_named_new_areas(unit_png, renderer, store):
    image = pixels(unit_png)
    assert image.std() > 20, "not a blank page"
    assert is_highlight(image).sum() > 200, "the highlight colour is on the page"
    spec = MapSpec(unit=UNIT, lang="en", names="en")
    assert sorted(renderer.selection(spec)["new-areas"]) == sorted(NAMED)
    areas = store.layers["new-areas"]
    for area_id in NAMED:
        column, row = renderer.pixel_of(spec, areas.at[area_id, "anchor_lon"],
                                        areas.at[area_id, "anchor_lat"])
        assert in_map_box(image, column, row), area_id
        assert is_highlight(window(image, column, row)).any(), area_id
    # a new area the measure does not name is drawn, but not highlighted
    column, row = renderer.pixel_of(spec, areas.at["pudong", "anchor_lon"],
                                    areas.at["pudong", "anchor_lat"])
    assert in_map_box(image, column, row)
    assert not is_highlight(window(image, column, row)).any()


def test_title_says_the_filter_in_the_chosen_language(renderer, store):
    zh = renderer.title(MapSpec(unit=UNIT, lang="zh", names="zh-Hans"))
    en = renderer.title(MapSpec(unit=UNIT, lang="en", names="en"))
    assert UNIT in zh[0] and UNIT in en[0]
    assert store.units.at[UNIT, "title_zh_hans"] in zh[1][-1]
    assert store.units.at[UNIT, "title_en"] in en[1][-1]
    assert store.documents.at["ndrc-2024", "title_zh_hans"] in zh[1][0]
    assert renderer.title(MapSpec(document="xixian-2023", lang="en"))[0].endswith("xixian-2023")


def test_svg_of_the_same_filter(client):
    response = client.get(f"/map.svg?unit={UNIT}")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag.endswith("svg")
    assert root.get("width").startswith("841.8")  # 297 mm in points
    (ARTIFACTS / "map-ndrc-2024-6.svg").write_bytes(response.data)


def test_each_distinct_request_is_drawn_once(client, renderer):
    before = renderer.renders
    first = client.get("/map.png?document=xixian-2023&layers=ports,new-areas&lang=zh")
    again = client.get("/map.png?lang=zh&layers=new-areas,ports&document=xixian-2023")
    assert first.status_code == again.status_code == 200
    assert first.data == again.data
    assert renderer.renders == before + 1
    (ARTIFACTS / "map-xixian-2023-zh.png").write_bytes(first.data)


def test_language_changes_the_image(client):
    en = client.get("/map.png?lang=en")
    zh = client.get("/map.png?lang=zh")
    assert en.status_code == zh.status_code == 200
    assert en.data != zh.data
    (ARTIFACTS / "map-all-zh.png").write_bytes(zh.data)


def test_default_view_holds_every_new_area(client, renderer, store):
    image = pixels(client.get("/map.png?lang=en").data)
    spec = MapSpec(lang="en", names="en")
    for area_id, area in store.layers["new-areas"].iterrows():
        column, row = renderer.pixel_of(spec, area["anchor_lon"], area["anchor_lat"])
        assert in_map_box(image, column, row), area_id


def test_bbox_frames_the_map(client, renderer, store):
    response = client.get(f"/map.png?unit={UNIT}&bbox=100,30,112,40&lang=en")
    assert response.status_code == 200
    image = pixels(response.data)
    spec = MapSpec(unit=UNIT, lang="en", names="en", bbox=(100.0, 30.0, 112.0, 40.0))
    areas = store.layers["new-areas"]
    column, row = renderer.pixel_of(spec, areas.at["lanzhou", "anchor_lon"],
                                    areas.at["lanzhou", "anchor_lat"])
    assert in_map_box(image, column, row)
    assert is_highlight(window(image, column, row)).any()
    column, row = renderer.pixel_of(spec, areas.at["harbin", "anchor_lon"],
                                    areas.at["harbin", "anchor_lat"])
    assert not in_map_box(image, column, row)  # Harbin is outside the box asked for


@pytest.mark.parametrize(("query", "status", "parameter"), [
    ("unit=ndrc-2024:99", 400, "unit"),
    ("document=nowhere-2030", 400, "document"),
    ("chapter=3", 400, "chapter"),
    ("document=ndrc-2024&chapter=99", 400, "chapter"),
    ("document=ndrc-2024&chapter=three", 400, "chapter"),
    ("kind=airports", 400, "kind"),
    ("region=pearl-delta", 400, "region"),
    ("mode=densest", 400, "mode"),
    ("dpi=20", 400, "dpi"),
    ("dpi=1200", 400, "dpi"),
    ("width=100000", 400, "width"),
    ("width=wide", 400, "width"),
    ("width=1200&dpi=100", 400, "width"),
    ("bbox=100,30,112", 400, "bbox"),
    ("bbox=east,30,112,40", 400, "bbox"),
    ("bbox=100,30,100,40", 400, "bbox"),
    ("bbox=100,50,112,40", 400, "bbox"),
    ("layers=new-areas,airports", 400, "layers"),
    ("lang=fr", 400, "lang"),
])
@pytest.mark.parametrize("path", ["/map.png", "/map.svg"])
def test_bad_parameters_answer_json_naming_them(client, renderer, path, query, status,
                                                parameter):
    before = renderer.renders
    response = client.get(f"{path}?{query}")
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    named = body.get("parameter") or body.get("kind")
    assert named == parameter
    assert renderer.renders == before  # nothing drawn for a bad request


def test_a_missing_cjk_font_is_a_clear_error():
    assert cjk_font().endswith((".ttc", ".ttf", ".otf"))
    with pytest.raises(FontMissing) as error:
        cjk_font("No Such Font Family Xinqu")
    assert "fonts-wqy-zenhei" in str(error.value)


# --- bounded requests (issue 15) --------------------------------------------------------------

LIMITS = load_style()["image"]
TINY = "121.5,31.2,121.50001,31.20001"  # 0.00001°: drew until gunicorn killed the worker


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize("path", ["/map.png", "/map.svg"])
@pytest.mark.parametrize("bbox", [TINY, "121.5,31.2,121.5001,31.2001"])
def test_real_server_refuses_a_tiny_bbox_naming_it(store_path, live_server, path, bbox):
    status, headers, body = get(f"{live_server}{path}?bbox={bbox}")
    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    error = json.loads(body)
    assert error["parameter"] == "bbox"
    assert f"{LIMITS['min_bbox_span_deg']:g}°" in error["description"]


def test_real_server_draws_a_box_of_the_minimum_span(store_path, live_server):
    least = LIMITS["min_bbox_span_deg"]
    status, headers, body = get(f"{live_server}/map.png?bbox=121.5,31.2,{121.5 + least},"
                                f"{31.2 + least / 2}")  # the longer side counts
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(body)).size[0] > 1000


def test_minimum_span_comes_from_the_style_file(client, renderer):
    least = LIMITS["min_bbox_span_deg"]
    before = renderer.renders
    refused = client.get(f"/map.png?bbox=110,30,{110 + least * 0.9},{30 + least * 0.9}")
    assert refused.status_code == 400 and refused.get_json()["parameter"] == "bbox"
    assert renderer.renders == before
    across = client.get(f"/map.svg?bbox=179.999,30,{-180 + least},{30 + least / 4}")
    assert across.status_code == 200  # across the antimeridian, the longer side counts


def test_geometry_is_clipped_to_the_view_before_drawing(renderer):
    """At street scale the layers reach matplotlib cut to the view: a few vertices, none
    outside the clip box (whole, they were dashed along millions of pixels)."""
    spec = MapSpec(lang="en", names="en", bbox=(121.5, 31.2, 121.50001, 31.20001))
    ax = _axes_for(renderer, spec)
    clip = renderer._clip_box((ax.get_xlim(), ax.get_ylim()))
    frames = [renderer._basemap, *renderer._layers.values()]
    whole = sum(int(shapely.get_num_coordinates(f.geometry.values).sum()) for f in frames)
    cut = [clipped(frame, clip) for frame in frames]
    vertices = sum(int(shapely.get_num_coordinates(f.geometry.values).sum()) for f in cut)
    assert any(len(frame) for frame in cut), "Pudong and Shanghai are in the view"
    assert vertices < 200 < whole / 100
    box = shapely.box(*clip.bounds).buffer(clip.tolerance * 2)
    for frame in cut:
        assert frame.geometry.within(box).all()



def test_a_vertex_cap_simplifies_a_layer_further(renderer):
    ax = _axes_for(renderer, MapSpec(lang="en", names="en"))  # all of China
    clip = renderer._clip_box((ax.get_xlim(), ax.get_ylim()))

    def vertices(frame) -> int:
        return int(shapely.get_num_coordinates(frame.geometry.values).sum())

    full = clipped(renderer._basemap, clip)
    capped = clipped(renderer._basemap, clip.__class__(clip.bounds, clip.tolerance, 2000))
    assert vertices(capped) <= 2000 < vertices(full)
    assert set(capped["kind"]) == set(full["kind"])  # the country, its provinces, ...
    assert set(capped.index) <= set(full.index)  # (islets a pixel across may go)


def _axes_for(renderer, spec):
    """The axes of `spec`'s view, as _draw settles it (no drawing)."""
    from matplotlib.figure import Figure

    ax = Figure(figsize=(11.69, 8.27)).add_axes(MAP_BOX)
    renderer._set_extent(ax, spec, {})
    return ax


@pytest.fixture()
def fresh(store, app):
    """A renderer of its own (empty cache), with limits changed by the test."""
    def make(**limits) -> MapRenderer:
        style = load_style()
        style["image"] = {**style["image"], **limits}
        with app.app_context():
            base = app_renderer()
        return MapRenderer(store, base.strings, web_style=style)
    return make


def test_a_render_over_budget_answers_503_and_is_ready_on_retry(app, fresh):
    slow = fresh(render_budget_s=0)
    with app.app_context():
        original = app_renderer()
    app.extensions[EXTENSION] = slow
    try:
        busy = app.test_client().get("/map.png?document=mofcom-2025&lang=zh")
        assert busy.status_code == 503
        assert busy.mimetype == "application/json"
        assert busy.headers["Retry-After"] == str(LIMITS["retry_after_s"])
        assert "retry" in busy.get_json()["description"]
        spec = MapSpec(document="mofcom-2025", lang="zh-Hans", names="zh-Hans")
        slow.image(spec, "png", budget=120)  # wait for the render the 503 left running
        assert slow.renders == 1
        again = app.test_client().get("/map.png?document=mofcom-2025&lang=zh")
        assert again.status_code == 200 and again.mimetype == "image/png"
        assert slow.renders == 1  # the retry got the image drawn after the 503
    finally:
        app.extensions[EXTENSION] = original


def test_too_many_pending_renders_answer_503_at_once(fresh):
    full = fresh(max_pending=0)
    with pytest.raises(RenderBusy) as busy:
        full.image(MapSpec(lang="en", names="en"), "png")
    assert busy.value.code == 503 and busy.value.retry_after == LIMITS["retry_after_s"]
    assert full.renders == 0


def test_renders_at_once_in_threads_give_the_bytes_of_renders_one_by_one(fresh):
    """No lock around a render and no rc_context switching fonts under another thread:
    two different images drawn at the same time are those drawn one after the other."""
    specs = [(MapSpec(unit=UNIT, lang="zh", names="zh-Hans"), "png"),
             (MapSpec(document="xixian-2023", lang="en", names="en",
                      bbox=(106.0, 33.5, 110.0, 35.5)), "svg")]
    serial = fresh()
    expected = [serial.image(spec, fmt) for spec, fmt in specs]
    parallel = fresh(render_threads=2)
    results: list[bytes | None] = [None, None]
    start = threading.Barrier(len(specs))

    def draw(n: int) -> None:
        start.wait()
        results[n] = parallel.image(*specs[n], budget=120)

    threads = [threading.Thread(target=draw, args=(n,)) for n in range(len(specs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert parallel.renders == 2
    assert results == expected


# --- every filter of the map, through layers.query (issue 17) ---------------------------------

def test_chapter_figure_differs_and_titles_the_chapter(client, renderer, store):
    whole = client.get("/map.png?document=ndrc-2024&lang=en")
    chapter = client.get("/map.png?document=ndrc-2024&chapter=3&lang=en")
    assert whole.status_code == chapter.status_code == 200
    assert chapter.data != whole.data
    (ARTIFACTS / "map-ndrc-2024-chapter-3.png").write_bytes(chapter.data)
    # the places highlighted are those /map/selection gives the web map for the chapter
    spec = MapSpec(document="ndrc-2024", chapter=3, lang="en", names="en")
    served = client.get("/map/selection?document=ndrc-2024&chapter=3").get_json()
    assert renderer.selection(spec) == {
        layer: {p["id"]: p["relation"] for p in places}
        for layer, places in served["places"].items()}
    assert renderer.selection(spec) != renderer.selection(
        MapSpec(document="ndrc-2024", lang="en", names="en"))
    units = store.units[(store.units["document"] == "ndrc-2024")
                        & (store.units["chapter_number"] == 3)]
    head, subtitle = renderer.title(spec)
    assert "chapter 3" in head and "ndrc-2024" in head
    assert units["chapter_title_en"].iloc[0] in subtitle[-1]
    zh_head, zh_sub = renderer.title(MapSpec(document="ndrc-2024", chapter=3, lang="zh-Hans",
                                             names="zh-Hans"))
    assert "第3章" in zh_head and units["chapter_title_zh_hans"].iloc[0] in zh_sub[-1]
    # the SVG says it in its text
    svg = client.get("/map.svg?document=ndrc-2024&chapter=3&lang=en").data.decode("utf-8")
    assert head in _svg_texts(svg)


def _svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")]


def test_via_areas_are_outlined_apart_from_named_ones(client, renderer):
    spec = MapSpec(unit="ndrc-2024:13", lang="en", names="en")
    via = [p for p, r in renderer.selection(spec)["new-areas"].items() if r == "via"]
    assert via, "the ports of ndrc-2024:13 reach their new areas"
    svg = client.get("/map.svg?unit=ndrc-2024:13&lang=en").data.decode("utf-8")
    assert "Linked through a place inside it" in _svg_texts(svg)
    plain = client.get("/map.svg?document=xixian-2023&kind=new-areas&lang=en").data
    assert "Linked through a place inside it" not in _svg_texts(plain.decode("utf-8"))


def test_svg_text_is_text_with_the_place_names(client, store):
    response = client.get("/map.svg?lang=en")
    assert response.status_code == 200
    svg = response.data.decode("utf-8")
    texts = _svg_texts(svg)
    names = [str(n).removesuffix(" New Area") for n in store.layers["new-areas"]["name_en"]]
    assert len(names) == 19 and all(name in texts for name in names)
    assert "National-level new areas" in texts
    assert "font-family" in svg and "glyph" not in svg.lower()  # no outlines of letters
    zh = client.get("/map.svg?lang=zh-Hant").data.decode("utf-8")
    assert "浦東" in "".join(_svg_texts(zh))
    (ARTIFACTS / "map-all-en.svg").write_bytes(response.data)


def test_an_unknown_unit_is_the_same_400_everywhere(client):
    bodies = []
    for path in ("/collections/new-areas/items", "/map.png", "/map.svg", "/map/selection",
                 "/units"):
        response = client.get(f"{path}?unit=ndrc-2024:99&f=json" if path == "/units"
                              else f"{path}?unit=ndrc-2024:99")
        assert response.status_code == 400, path
        assert response.mimetype == "application/json", path
        bodies.append(response.get_json())
    assert bodies[0]["parameter"] == "unit"
    assert all(body == bodies[0] for body in bodies), bodies


def test_extent_follows_the_selected_places_not_the_partners(client, renderer, store):
    spec = MapSpec(document="ndrc-2024", lang="en", names="en")
    assert client.get("/map.png?document=ndrc-2024&lang=en").status_code == 200
    chosen = renderer.selection(spec)
    assert chosen.get("partners"), "the document names partners (ASEAN …)"
    (x0, x1), _ = renderer._views[spec]
    partners = renderer._layers["partners"].loc[list(chosen["partners"])].total_bounds
    areas = renderer._layers["new-areas"].loc[list(chosen["new-areas"])].total_bounds
    assert x1 - x0 < partners[2] - partners[0]  # framed before: all of them, China a corner
    assert x0 <= areas[0] and areas[2] <= x1
    image = pixels(client.get("/map.png?document=ndrc-2024&lang=en").data)
    for area_id in chosen["new-areas"]:
        column, row = renderer.pixel_of(spec, store.layers["new-areas"].at[area_id, "anchor_lon"],
                                        store.layers["new-areas"].at[area_id, "anchor_lat"])
        assert in_map_box(image, column, row), area_id


@pytest.mark.parametrize(("query", "width"), [("width=1200", 1200), ("dpi=100", 1169),
                                               ("dpi=72", 842)])
def test_page_size_within_bounds(client, query, width):
    response = client.get(f"/map.png?{query}&lang=en")
    assert response.status_code == 200
    assert abs(Image.open(io.BytesIO(response.data)).size[0] - width) <= 1


def test_region_overlay_and_shading_are_drawn_and_named(client, renderer, store):
    plain = client.get("/map.png?lang=en")
    shaded = client.get("/map.png?lang=en&mode=named&region=yangtze-river-delta")
    assert shaded.status_code == 200 and shaded.data != plain.data
    (ARTIFACTS / "map-named-yangtze.png").write_bytes(shaded.data)
    spec = MapSpec(lang="en", names="en", mode="named", region="yangtze-river-delta")
    _head, subtitle = renderer.title(spec)
    region = store.layers["strategy-regions"].at["yangtze-river-delta", "name_en"]
    assert region in subtitle[-1]
    # every choropleth class colour is on the page, at the anchor of an area of the class
    image = pixels(shaded.data)
    for area in client.get("/choropleth?mode=named").get_json()["areas"]:
        row = store.layers["new-areas"].loc[area["id"]]
        column, line = renderer.pixel_of(spec, row["anchor_lon"], row["anchor_lat"])
        if not in_map_box(image, column, line):
            continue
        rgb = np.array([int(area["color"][i:i + 2], 16) for i in (1, 3, 5)])
        near = (np.abs(window(image, column, line, 4) - rgb) <= 6).all(axis=2)
        assert near.any(), area["id"]


def test_basemap_cities_are_left_out_of_the_figure(client, store):
    """The basemap's city points are no outlines: the figure draws the kinds its style
    lists (data/map_style.yaml basemap.order) and leaves the cities out, unnamed."""
    cities = store.basemap[store.basemap["kind"] == "city"]
    assert len(cities) > 0
    response = client.get("/map.svg?lang=en")
    assert response.status_code == 200
    texts = " ".join(_svg_texts(response.data.decode("utf-8")))
    assert not any(name in texts for name in ("Urumqi", "Lhasa", "Hohhot"))
