"""The static map image for reports (issue 7): /map.png and /map.svg on the built store.

Images are written to tests/artifacts/ (gitignored) so they can be looked at.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from webapp.app import create_app
from webapp.map import load_style
from webapp.mapimage import MAP_BOX, FontMissing, MapSpec, cjk_font, settings
from webapp.planner import EXTENSION

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
    return app.extensions[EXTENSION]


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
    ("unit=ndrc-2024:99", 404, "unit"),
    ("document=nowhere-2030", 404, "document"),
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
