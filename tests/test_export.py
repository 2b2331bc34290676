"""Exports of the real built store, read back by GDAL's own `ogrinfo` (Debian gdal-bin).

What a planner's GIS will see: every format the service writes opens without a warning;
feature counts are the API's; names in Chinese come back byte for byte; the CRS read
back is the one asked for; and coordinates, transformed back to WGS 84, lie within 1 cm
of the API's.
"""

from __future__ import annotations

import functools
import io
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import shapely
from markupsafe import escape
from pyproj import CRS, Geod, Transformer

from geo.crs import WGS84
from layers import export, export_settings, query, tempfiles
from layers.paths import DATA_DIR

OGRINFO = shutil.which("ogrinfo")
pytestmark = pytest.mark.skipif(OGRINFO is None, reason="needs GDAL's ogrinfo (gdal-bin)")

LAYERS = ("partners", "strategy-regions", "new-areas", "corridors", "ports", "science-cities",
          "sites")
FORMATS = ("shp.zip", "gpkg", "geojson", "kml", "csv")
GEOD = Geod(ellps="WGS84")
TOLERANCE_M = 0.01
SAMPLES_PER_FEATURE = 5


# --- reading files back with ogrinfo --------------------------------------------------------

@dataclass
class OgrLayer:
    name: str
    count: int | None = None
    srs_wkt: str | None = None
    features: list[dict] = field(default_factory=list)

    @property
    def crs(self) -> CRS | None:
        return CRS.from_wkt(self.srs_wkt) if self.srs_wkt else None


_FIELD = re.compile(r"^  (\S+) \((\w+(?:\(\w+\))?)\) = (.*)$")
_GEOMETRY = re.compile(r"^  ((?:MULTI)?(?:POINT|LINESTRING|POLYGON)|GEOMETRYCOLLECTION)\b")


def ogrinfo(path: Path | str, *layers: str) -> dict[str, OgrLayer]:
    """Every layer of `path` as ogrinfo prints it (-al), parsed. Fails on any warning."""
    run = subprocess.run([OGRINFO, "-ro", "-al", "-wkt_format", "WKT2", str(path), *layers],
                         capture_output=True, check=True)
    assert run.stderr.decode() == "", f"ogrinfo warns on {path}: {run.stderr.decode()}"
    out: dict[str, OgrLayer] = {}
    layer: OgrLayer | None = None
    srs: list[str] | None = None
    feature: dict | None = None
    for line in run.stdout.decode("utf-8").split("\n"):  # strict UTF-8: garbling fails here
        if line.startswith("Layer name: "):
            layer = out.setdefault(line[12:], OgrLayer(line[12:]))
            feature = None
        elif layer is None:
            continue
        elif srs is not None:  # the lines after "Layer SRS WKT:"
            if line == "(unknown)" and not srs:
                srs = None
            elif line.startswith("Data axis to CRS axis mapping"):
                layer.srs_wkt, srs = "\n".join(srs), None
            else:
                srs.append(line)
        elif line.startswith("Layer SRS WKT:"):
            srs = []
        elif line.startswith("Feature Count: "):
            layer.count = int(line[15:])
        elif line.startswith("OGRFeature("):
            feature = {}
            layer.features.append(feature)
        elif feature is not None and (match := _FIELD.match(line)):
            name, kind, value = match.groups()
            if kind == "Date":  # a reader that recognised an ISO date prints it as y/m/d
                value = value.replace("/", "-")
            feature[name] = None if value == "(null)" else value
        elif feature is not None and _GEOMETRY.match(line):
            feature["geometry"] = shapely.from_wkt(line.strip())
    return out


def ogr_path(path: Path) -> str:
    return f"/vsizip/{path}" if path.name.endswith(".zip") else str(path)


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(store):
    from webapp import create_app

    return create_app({"STORE": store, "TESTING": True}).test_client()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("exports")


def download(client, folder: Path, url: str) -> tuple[Path, dict]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    name = re.search(r'filename="([^"]+)"', response.headers["Content-Disposition"]).group(1)
    target = Path(tempfile.mkdtemp(dir=folder, prefix=re.sub(r"\W", "_", url)[:60]))
    (target / name).write_bytes(response.data)
    return target / name, dict(response.headers)


def api_rows(store, layer: str, **filters):
    """The API's answer for a layer: every matching place (WGS 84) and numberMatched."""
    items = query.items(store, layer, limit=query.LIMIT_MAX, **filters)
    return items.frame, items.number_matched


# --- comparing what came back -----------------------------------------------------------------

def shapefile_field(column: str) -> str:
    return export_settings.settings().fields[column][0]


def read_back(path: Path, layer: str, format: str) -> OgrLayer:
    layers = ogrinfo(ogr_path(path))
    if format == "csv":  # one table, named after the file
        (only,) = layers.values()
        return only
    name = export.table_name(layer)
    assert name in layers, f"{path.name}: no layer {name} in {sorted(layers)}"
    return layers[name]


def text_value(format: str, value):
    """How a null text reads back: CSV cannot tell it from an empty string."""
    if format == "csv" and value == "":
        return None
    return value


def long_values(path: Path) -> set[tuple[str, str, str]]:
    """(id, column, value) of the texts a shapefile zip set aside in long_values.csv."""
    import csv

    archive = zipfile.ZipFile(path)
    if "long_values.csv" not in archive.namelist():
        return set()
    text = archive.read("long_values.csv").decode("utf-8-sig")
    return {(r["id"], r["column"], r["value"]) for r in csv.DictReader(io.StringIO(text))}


def assert_same_texts(api_row, feature: dict, format: str, place: str,
                      set_aside: set[tuple[str, str, str]] = frozenset()) -> None:
    """Every text of the API's row reads back the same, or (shapefile, over 254 bytes)
    is empty in the .dbf and whole in long_values.csv."""
    for column, value in api_row.items():
        if column == "geometry" or not isinstance(value, str | type(None)):
            continue
        name = shapefile_field(column) if format == "shp.zip" else column
        if format == "shp.zip" and value is not None and len(value.encode()) > 254:
            assert feature.get(name) is None and (place, column, value) in set_aside, (
                place, column)
            continue
        if format == "kml" and value is None:
            assert feature.get(name) in (None, ""), (place, column)
            continue
        assert text_value(format, feature.get(name)) == value, (place, column, format)


@functools.cache
def to_wgs84(wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(wkt), WGS84, always_xy=True)


def assert_same_place(api_geometry, file_geometry, crs: CRS, place: str) -> None:
    """Same number of vertices, and sample vertices of the API within 1 cm of the file's."""
    api_xy = shapely.get_coordinates(api_geometry)
    file_xy = shapely.get_coordinates(file_geometry)
    assert len(file_xy) == len(api_xy), f"{place}: {len(file_xy)} vertices, API {len(api_xy)}"
    if not crs.equals(WGS84, ignore_axis_order=True):
        file_xy = np.column_stack(to_wgs84(crs.to_wkt()).transform(file_xy[:, 0],
                                                                   file_xy[:, 1]))
    picks = np.unique(np.linspace(0, len(api_xy) - 1, SAMPLES_PER_FEATURE).astype(int))
    for lon, lat in api_xy[picks]:
        nearest = file_xy[np.argmin((file_xy[:, 0] - lon) ** 2 + (file_xy[:, 1] - lat) ** 2)]
        _, _, metres = GEOD.inv(lon, lat, nearest[0], nearest[1])
        assert metres < TOLERANCE_M, f"{place}: vertex ({lon}, {lat}) is {metres:.4f} m off"


def check_export(store, path: Path, layer: str, format: str, asked: CRS, filters=None) -> None:
    """The whole must-hold for one file: count, names and texts, CRS and coordinates."""
    frame, matched = api_rows(store, layer, **(filters or {}))
    read = read_back(path, layer, format)
    assert read.count == matched == len(read.features)
    wgs84_only = export_settings.settings().formats[format].wgs84_only
    if format == "csv":
        assert read.crs is None  # a CSV has no place for a CRS: the header names it
    elif wgs84_only:
        assert read.crs.equals(WGS84, ignore_axis_order=True)
    else:
        assert read.crs.equals(asked, ignore_axis_order=True), read.crs.name
        if asked.to_epsg() == 4490:
            assert read.crs.name == "China Geodetic Coordinate System 2000"
            assert read.crs.to_epsg() == 4490
    crs = WGS84 if wgs84_only else asked
    by_id = {f["id"]: f for f in read.features}
    assert set(by_id) == set(frame.index)
    set_aside = long_values(path) if format == "shp.zip" else set()
    for place, row in frame.iterrows():
        feature = by_id[place]
        assert feature["name_hans" if format == "shp.zip" else "name_zh_hans"] == row[
            "name_zh_hans"]
        assert_same_texts(row, feature, format, place, set_aside)
        if format == "csv" and "geometry" not in feature:  # Excel-safe: a point per place
            assert_same_point(row, feature, crs, place)
            continue
        assert_same_place(row.geometry, feature["geometry"], crs, place)


def assert_same_point(api_row, feature: dict, crs: CRS, place: str) -> None:
    """A CSV without WKT holds a point per place in WGS 84 (and in `crs`): a point layer's
    own point, a polygon's stored anchor, a point on a line."""
    if "lon" in feature:
        lon, lat = float(feature["lon"]), float(feature["lat"])
        assert shapely.Point(lon, lat).equals_exact(api_row.geometry, 1e-9), place
        x, y = feature.get("x"), feature.get("y")
    else:
        lon, lat = float(feature["anchor_lon"]), float(feature["anchor_lat"])
        if api_row.geometry.geom_type.endswith("LineString"):
            assert api_row.geometry.distance(shapely.Point(lon, lat)) < 1e-9, place
            assert feature["anchor_kind"] == "representative point"
        else:
            assert (lon, lat) == (api_row["anchor_lon"], api_row["anchor_lat"]), place
        x, y = feature.get("anchor_x"), feature.get("anchor_y")
    if crs.equals(WGS84, ignore_axis_order=True):
        assert x is None and y is None
        return
    back = to_wgs84(crs.to_wkt()).transform(float(x), float(y))
    assert GEOD.inv(lon, lat, *back)[2] < TOLERANCE_M, place


# --- every layer in every format --------------------------------------------------------------

@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_in_every_format_reads_back_in_cgcs2000(store, client, downloads, layer,
                                                           format):
    path, headers = download(client, downloads, f"/export/{layer}.{format}?crs=EPSG:4490")
    check_export(store, path, layer, format, CRS("EPSG:4490"))
    wgs84_only = export_settings.settings().formats[format].wgs84_only
    assert headers["X-Export-Crs"] == ("EPSG:4326" if wgs84_only else "EPSG:4490")
    if wgs84_only:
        assert "EPSG:4490" in headers["X-Export-Note"] and "WGS 84" in headers["X-Export-Note"]
    else:
        assert "X-Export-Note" not in headers


@pytest.mark.parametrize("crs", ["EPSG:4548", "EPSG:4534", "ESRI:102025", "EPSG:3857"])
@pytest.mark.parametrize("format", ["shp.zip", "gpkg", "csv"])
@pytest.mark.parametrize("layer", ["new-areas", "corridors", "sites"])
def test_projected_crs_reads_back(store, client, downloads, layer, format, crs):
    path, headers = download(client, downloads, f"/export/{layer}.{format}?crs={crs}")
    check_export(store, path, layer, format, CRS(crs))
    assert headers["X-Export-Crs"] == crs
    assert headers["Content-Crs"].endswith(crs.split(":")[1] + ">")


def test_the_same_filters_as_the_items_endpoint(store, client, downloads):
    bbox = "100,20,115,35"
    path, _ = download(client, downloads,
                       f"/export/new-areas.gpkg?bbox={bbox}&document=xixian-2023&crs=EPSG:4490")
    check_export(store, path, "new-areas", "gpkg", CRS("EPSG:4490"),
                 {"bbox": [float(v) for v in bbox.split(",")], "document": "xixian-2023"})
    api = client.get(f"/collections/new-areas/items?f=json&bbox={bbox}&document=xixian-2023")
    assert api.status_code == 200
    assert read_back(path, "new-areas", "gpkg").count == api.get_json()["numberMatched"]


def test_chapter_filter_exports_what_the_map_shows(store, client, downloads):
    """A chapter of a document narrows the export as it narrows the items endpoint."""
    whole = client.get("/collections/new-areas/items?f=json&document=ndrc-2024").get_json()
    chapters = {}
    for number in sorted(store.units.loc[store.units["document"] == "ndrc-2024",
                                         "chapter_number"].dropna().unique()):
        api = client.get(f"/collections/new-areas/items?f=json&document=ndrc-2024"
                         f"&chapter={int(number)}").get_json()
        chapters[int(number)] = {f["id"] for f in api["features"]}
    number, wanted = max(chapters.items(), key=lambda item: len(item[1]))
    assert 0 < len(wanted) < whole["numberMatched"]  # the chapter really narrows
    path, headers = download(client, downloads,
                             f"/export/new-areas.shp.zip?document=ndrc-2024&chapter={number}")
    assert {f["id"] for f in read_back(path, "new-areas", "shp.zip").features} == wanted
    assert headers["X-Export-Counts"].startswith(f"new-areas={len(wanted)}")


def test_unit_filter_shapefile_holds_the_five_new_areas_of_measure_6(client, downloads):
    """ndrc-2024:6 names Lanzhou, Xixian, Gui'an, Harbin and Changchun (and needs the
    linker's links in the store)."""
    path, _ = download(client, downloads, "/export/new-areas.shp.zip?unit=ndrc-2024:6")
    read = read_back(path, "new-areas", "shp.zip")
    assert {f["id"] for f in read.features} == {
        "lanzhou", "xixian", "guian", "harbin", "changchun"}


# --- what each format must carry -------------------------------------------------------------

def test_shapefile_zip_is_one_layer_set(store, client, downloads):
    path, headers = download(client, downloads, "/export/new-areas.shp.zip?crs=EPSG:4548")
    assert headers["Content-Type"] == "application/zip"
    names = set(zipfile.ZipFile(path).namelist())
    assert all("/" not in n for n in names)  # flat: QGIS opens it as one set of layers
    for stem in ("new_areas", "new_areas_anchors"):
        assert {f"{stem}{s}" for s in (".shp", ".shx", ".dbf", ".prj", ".cpg")} <= names
    assert {"links.dbf", "links.cpg", "fields.csv"} <= names
    archive = zipfile.ZipFile(path)
    assert archive.read("new_areas.cpg").decode().strip() == "UTF-8"
    assert archive.read("new_areas.prj").decode() == CRS("EPSG:4548").to_wkt("WKT1_ESRI")
    layers = ogrinfo(ogr_path(path))
    assert set(layers) == {"new_areas", "new_areas_anchors", "links"}


def test_shapefiles_have_one_geometry_type_each(store, client, downloads):
    path, _ = download(client, downloads, "/export/all.shp.zip")
    summary = subprocess.run([OGRINFO, "-ro", "-so", "-al", ogr_path(path)],
                             capture_output=True, text=True, check=True).stdout
    kinds = dict(re.findall(r"Layer name: (\S+)\n(?:(?!Layer name:).*\n)*?Geometry: ([^\n]+)",
                            summary))
    assert kinds["new_areas"] == kinds["partners"] == kinds["strategy_regions"] == "Polygon"
    assert kinds["corridors"] == "Line String"
    assert kinds["ports"] == kinds["sites"] == kinds["science_cities"] == "Point"
    with_cores = [layer for layer, frame in store.layers.items()
                  if "anchor_kind" in frame and (frame["anchor_kind"] == "core").any()]
    assert "new-areas" in with_cores
    anchors = {f"{export.table_name(layer)}_anchors" for layer in with_cores}
    assert all(kinds[name] == "Point" for name in anchors)
    assert set(kinds) == {*(export.table_name(layer) for layer in LAYERS), *anchors, "links"}


def test_anchor_points_are_the_new_areas_cores(store, client, downloads):
    path, _ = download(client, downloads, "/export/new-areas.shp.zip")
    anchors = {f["id"]: f for f in read_back(path, "new-areas_anchors", "shp.zip").features}
    frame, _ = api_rows(store, "new-areas")
    assert set(anchors) == set(frame.index[frame["anchor_kind"] == "core"])
    for place, feature in anchors.items():
        point = feature["geometry"]
        assert (point.x, point.y) == pytest.approx(
            (frame.at[place, "anchor_lon"], frame.at[place, "anchor_lat"]), abs=1e-9)
        assert feature["extent"] == frame.at[place, "extent"]


def test_field_map_names_every_store_column_deliberately(store):
    chosen = export_settings.settings().fields
    for layer, frame in store.layers.items():
        columns = [c for c in frame.columns if c != frame.geometry.name]
        assert export.unmapped(columns) == [], f"{layer}: add these to data/export-fields.yaml"
    assert export.unmapped(["id", "units", "n_units", "unit_id", "place_id", "relation",
                            "via_place_id"]) == []
    names = [name for name, _ in chosen.values()]
    assert all(name.isascii() and 0 < len(name) <= 10 for name in names)
    assert len({n.lower() for n in names}) == len(names)


def test_fields_csv_lists_every_dbf_field(client, downloads):
    path, _ = download(client, downloads, "/export/all.shp.zip?crs=EPSG:4490")
    archive = zipfile.ZipFile(path)
    raw = archive.read("fields.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    import csv

    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    listed: dict[str, set[str]] = {}
    for row in rows:
        listed.setdefault(row["table"], set()).add(row["field"])
        assert row["meaning"], row
    summary = subprocess.run([OGRINFO, "-ro", "-so", "-al", ogr_path(path)],
                             capture_output=True, text=True, check=True).stdout
    for block in summary.split("Layer name: ")[1:]:
        table = block.split("\n", 1)[0]
        fields = set(re.findall(r"^(\w+): (?:String|Real|Integer|Integer64|Date) ", block,
                                re.MULTILINE))
        assert fields == listed[table], table


def test_readme_field_map_matches_the_data():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Export field map", 1)[1].split("\n## ", 1)[0]
    for column, (name, _) in export_settings.settings().fields.items():
        assert re.search(rf"\|\s*`{name}`\s*\|\s*`{column}`\s*\|", section), column


def test_unit_lists_fit_or_the_link_table_has_them(store, client, downloads):
    """A unit list is written in the .dbf only when it fits 254 bytes; the full link table
    (every relation) is always in the zip, and anything longer is in long_values.csv."""
    path, _ = download(client, downloads, "/export/all.shp.zip")
    read = ogrinfo(ogr_path(path))
    links = read["links"].features
    ids = [f["id"] for layer in LAYERS for f in read[export.table_name(layer)].features]
    expected = store.links[store.links["place_id"].isin(ids)]
    assert len(links) == len(expected)
    got = {(f["unit_id"], f["place_id"], f["relation"], f["via_place"]) for f in links}
    want = {(r.unit_id, r.place_id, r.relation, None if not isinstance(r.via_place_id, str)
             else r.via_place_id) for r in expected.itertuples()}
    assert got == want
    named = query.units_of_places(store, ids)
    set_aside = long_values(path)
    for layer in LAYERS:
        for feature in read[export.table_name(layer)].features:
            full = ", ".join(named[feature["id"]])
            assert int(feature["n_units"]) == len(named[feature["id"]])
            if len(full.encode()) <= 254:
                assert (feature["units"] or "") == full
            else:
                assert feature["units"] is None
                assert (feature["id"], "units", full) in set_aside


def test_geopackage_has_every_layer_units_links_and_descriptions(store, client, downloads):
    path, headers = download(client, downloads, "/export/all.gpkg?crs=EPSG:4490")
    assert headers["Content-Type"] == "application/geopackage+sqlite3"
    layers = ogrinfo(path)
    assert {export.table_name(layer) for layer in LAYERS} | {"links", "units"} <= set(layers)
    assert layers["links"].count == len(store.links)
    assert layers["units"].count == store.links["unit_id"].nunique()
    for layer in LAYERS:
        assert layers[export.table_name(layer)].count == api_rows(store, layer)[1]
    contents = subprocess.run(
        [OGRINFO, "-ro", "-q", str(path), "-sql",
         "SELECT table_name, replace(description, char(10), ' ') AS description "
         "FROM gpkg_contents"],
        capture_output=True, text=True, check=True).stdout
    descriptions = dict(re.findall(r"table_name \(String\) = (\S+)\n\s+description "
                                   r"\(String\) = ([^\n]*)", contents))
    for layer in LAYERS:
        meta = store.layer_meta.loc[layer]
        assert meta["description_en"] in descriptions[export.table_name(layer)]
    assert descriptions["links"] and descriptions["units"]
    version = subprocess.run([OGRINFO, "-ro", "-q", str(path), "-sql", "PRAGMA user_version"],
                             capture_output=True, text=True, check=True).stdout
    assert "10200" in version  # GeoPackage 1.2: no "partially supported" warning anywhere


def test_geojson_stays_wgs84_and_says_so(client, downloads):
    import json

    path, headers = download(client, downloads, "/export/new-areas.geojson?crs=EPSG:4548")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in document  # RFC 7946 has no crs member
    assert "RFC 7946" in document["description"] and "EPSG:4548" in document["description"]
    assert "EPSG:4548" in headers["X-Export-Note"]
    assert headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    path, headers = download(client, downloads, "/export/new-areas.geojson")
    assert "X-Export-Note" not in headers
    assert "RFC 7946" not in json.loads(path.read_text(encoding="utf-8"))["description"]


def test_kml_placemarks_name_the_place_and_list_its_units(store, client, downloads):
    path, headers = download(client, downloads, "/export/new-areas.kml?crs=EPSG:4490")
    assert "EPSG:4490" in headers["X-Export-Note"]
    assert "EPSG:4490" in path.read_text(encoding="utf-8").split("<Schema", 1)[0]
    read = read_back(path, "new-areas", "kml")
    named = query.units_of_places(store, [f["id"] for f in read.features])
    for feature in read.features:
        assert feature["Name"] == feature["name_zh_hans"]
        for unit in named[feature["id"]]:
            assert f"<li>{unit} " in feature["description"]
            title = store.units.at[unit, "title_zh_hans"]
            assert str(escape(title)) in feature["description"]


def test_csv_is_utf8_with_bom_and_wkt_on_request(client, downloads):
    path, headers = download(client, downloads, "/export/ports.csv?crs=EPSG:4490&geometry=wkt")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfWKT,id,")
    assert b"\r\n" in raw
    assert raw.decode("utf-8-sig")  # valid UTF-8
    assert headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4490>"
    assert path.name.endswith("EPSG-4490.csv")


# --- bad requests ----------------------------------------------------------------------------

@pytest.mark.parametrize("url, status, named, valid", [
    ("/export/new-areas.xlsx", 404, "xlsx", "shp.zip"),
    ("/export/new-areas", 404, "new-areas", "gpkg"),
    ("/export/nowhere.gpkg", 404, "nowhere", "new-areas"),
    ("/export/all.geojson", 400, "geojson", "gpkg"),
    ("/export/new-areas.gpkg?crs=EPSG:999999", 400, "EPSG:999999", None),
    ("/export/new-areas.gpkg?crs=abc", 400, "abc", None),
    ("/export/new-areas.gpkg?crs=EPSG:5773", 400, "EPSG:5773", None),
    ("/export/partners.gpkg?crs=EPSG:32601", 400, "EPSG:32601", None),
    ("/export/new-areas.gpkg?bbox=1,2,3", 400, "bbox", None),
    ("/export/new-areas.gpkg?unit=ndrc-2024:99", 400, "ndrc-2024:99", None),
    ("/export/new-areas.gpkg?document=nope", 400, "nope", None),
    ("/export/new-areas.gpkg?chapter=2", 400, "needs a document", None),
    ("/export/new-areas.gpkg?document=ndrc-2024&chapter=9", 400, "no chapter 9", None),
])
def test_bad_requests_answer_json_naming_the_problem(client, url, status, named, valid):
    response = client.get(url)
    assert response.status_code == status
    body = response.get_json()
    assert named in body["description"]
    if valid:
        assert valid in body["valid"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    xinqu = Path(sys.executable).with_name("xinqu")
    return subprocess.run([str(xinqu), "export", *args], capture_output=True, text=True)


@pytest.mark.parametrize("args, named", [
    (["--layer", "new-areas", "--format", "xlsx"], "shp.zip"),
    (["--layer", "nowhere", "--format", "gpkg"], "nowhere"),
    (["--layer", "all", "--format", "kml"], "gpkg"),
    (["--layer", "new-areas", "--format", "gpkg", "--crs", "EPSG:999999"], "EPSG:999999"),
    (["--layer", "new-areas", "--format", "gpkg", "--crs", "abc"], "abc"),
    (["--layer", "new-areas", "--format", "gpkg", "--crs", "EPSG:5773"], "EPSG:5773"),
    (["--layer", "new-areas", "--format", "gpkg", "--unit", "ndrc-2024:99"], "ndrc-2024:99"),
])
def test_cli_refuses_bad_requests(store_path, tmp_path, capsys, args, named):
    from webapp.cli import main

    out = tmp_path / "out.gpkg"
    assert main(["export", *args, "--out", str(out)]) == 2
    assert named in capsys.readouterr().err
    assert not out.exists()


def test_cli_errors_name_the_problem_on_stderr(store_path, tmp_path):
    run = _cli("--layer", "new-areas", "--format", "gpkg", "--crs", "EPSG:5773",
               "--out", str(tmp_path / "x.gpkg"))
    assert run.returncode == 2
    assert "EPSG:5773" in run.stderr and "Vertical" in run.stderr
    assert run.stdout == ""
    run = _cli("--layer", "new-areas", "--format", "xlsx", "--out", str(tmp_path / "x"))
    assert run.returncode == 2 and "shp.zip" in run.stderr


def test_cli_csv_geometry_option(store, tmp_path):
    out = tmp_path / "corridors.csv"
    run = _cli("--layer", "corridors", "--format", "csv", "--csv-geometry", "wkt",
               "--out", str(out))
    assert run.returncode == 0, run.stderr
    check_export(store, out, "corridors", "csv", WGS84)
    assert out.read_bytes().startswith(b"\xef\xbb\xbfWKT,")
    run = _cli("--layer", "new-areas", "--format", "csv", "--csv-geometry", "wkt",
               "--out", str(tmp_path / "new-areas.csv"))
    assert run.returncode == 2 and "--csv-geometry" in run.stderr and "32,767" in run.stderr
    assert not (tmp_path / "new-areas.csv").exists()
    run = _cli("--layer", "new-areas", "--format", "gpkg", "--csv-geometry", "wkt",
               "--out", str(tmp_path / "x.gpkg"))
    assert run.returncode == 2 and "csv" in run.stderr


def test_cli_writes_the_same_export(store, tmp_path):
    out = tmp_path / "new-areas.shp.zip"
    run = _cli("--layer", "new-areas", "--format", "shp.zip", "--crs", "EPSG:4548",
               "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert "EPSG:4548" in run.stdout
    check_export(store, out, "new-areas", "shp.zip", CRS("EPSG:4548"))
    run = _cli("--layer", "new-areas", "--format", "kml", "--crs", "EPSG:4548",
               "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert "note:" in run.stderr and "EPSG:4548" in run.stderr  # never silently WGS 84
    assert (tmp_path / "xinqu_new_areas.kml").exists()


# --- exports at once, and where their files go ------------------------------------------------

def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_exports_at_once_keep_to_their_own_temporary_files(store, client):
    """Seven exports in parallel threads: each zip holds its own layer only, nothing is
    written into the data folder, and no temporary directory is left behind."""
    from concurrent.futures import ThreadPoolExecutor

    from webapp import create_app

    app = create_app({"STORE": store, "TESTING": True})
    data_before = _files(DATA_DIR)
    scratch = tempfiles.process_dir()  # where this process's exports are written
    temp_before = set(scratch.iterdir())

    def fetch(layer: str) -> bytes:
        response = app.test_client().get(f"/export/{layer}.shp.zip?crs=EPSG:4548")
        assert response.status_code == 200
        return response.data

    with ThreadPoolExecutor(max_workers=4) as pool:
        contents = dict(zip(LAYERS, pool.map(fetch, LAYERS), strict=True))
    for layer, content in contents.items():
        names = zipfile.ZipFile(io.BytesIO(content)).namelist()
        stems = {n.rsplit(".", 1)[0] for n in names} - {"links", "fields", "long_values"}
        assert stems <= {export.table_name(layer), f"{export.table_name(layer)}_anchors"}
        assert f"{export.table_name(layer)}.shp" in names
    new = _files(DATA_DIR) - data_before
    assert not [p for p in new if not p.name.startswith(".")], new  # (a build's temp file)
    assert set(scratch.iterdir()) == temp_before


# --- the export menu -------------------------------------------------------------------------

def test_collection_page_offers_the_menu(client):
    page = client.get("/collections/new-areas?f=html&lang=en&crs=EPSG:4548")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'class="export-menu"' in html
    assert 'name="layer" value="new-areas"' in html
    assert "KML (Google Earth, WGS 84)" in html
    assert '<option value="EPSG:4548" selected>CGCS2000 3° Gauss-Krüger CM 117°E' in html
    for choice in export_settings.settings().crs_choices:
        assert f'<option value="{choice.code}"' in html
    for format in FORMATS:
        assert f'<option value="{format}"' in html
    chinese = client.get("/collections/new-areas?f=html&lang=zh").get_data(as_text=True)
    assert "CGCS2000 3度带 中央经线 117°E" in chinese and "坐标系" in chinese


def test_menu_carries_the_filters_over(client):
    from flask import render_template_string

    with client.application.test_request_context("/?unit=ndrc-2024:6&limit=5&lang=en"):
        html = render_template_string('{% include "_export_menu.html" %}', lang="en",
                                      layer="new-areas")
        given = render_template_string('{% include "_export_menu.html" %}', lang="en",
                                       layer="new-areas",
                                       filters={"document": "xixian-2023", "limit": 5})
    assert 'name="unit" value="ndrc-2024:6" data-export-filter="unit"' in html
    assert "<code>unit=ndrc-2024:6</code>" in html and "limit" not in html
    assert 'name="document" value="xixian-2023"' in given and 'value="ndrc-2024:6"' not in given


def test_menu_on_the_map_offers_all_layers(client, store):
    from flask import render_template_string

    app = client.application
    with app.test_request_context("/?bbox=100,20,120,40&lang=en"):
        html = render_template_string('{% include "_export_menu.html" %}', lang="en",
                                      layer="all")
    assert '<select name="layer">' in html
    assert all(f'<option value="{layer}">' in html for layer in store.layers)
    assert '<option value="gpkg"' in html and '<option value="shp.zip"' in html
    for format in export_settings.settings().formats.values():  # every format, one-layer ones off
        option = re.search(rf'<option value="{re.escape(format.id)}"[^>]*>', html).group(0)
        assert ("disabled" in option) is (not format.all_layers), option
    assert 'name="bbox" value="100,20,120,40" data-export-filter="bbox"' in html
    page = client.get("/?f=html&lang=en&unit=ndrc-2024:6").get_data(as_text=True)  # the map itself
    assert 'class="export-menu"' in page and '<option value="new-areas">' in page
    assert 'name="unit" value="ndrc-2024:6" data-export-filter="unit"' in page


def test_menu_escapes_what_the_page_was_given(client):
    from flask import render_template_string

    with client.application.test_request_context(
            '/?unit="><script>alert(1)</script>&crs=<b>'):
        html = render_template_string('{% include "_export_menu.html" %}', lang="zh",
                                      layer="new-areas")
    assert "<script>alert" not in html and "<b>" not in html
    assert "&#34;&gt;&lt;script&gt;" in html


def test_menu_form_leads_to_the_download(client):
    response = client.get("/export?layer=new-areas&format=gpkg&crs=EPSG:4490&bbox="
                          "&unit=ndrc-2024:6&document=&crs_code=")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        "/export/new-areas.gpkg?crs=EPSG:4490&unit=ndrc-2024:6")
    response = client.get("/export?layer=all&format=shp.zip&crs=EPSG:4326&crs_code=ESRI:102025")
    assert response.headers["Location"].endswith("/export/all.shp.zip?crs=ESRI:102025")
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize("format", ["shp.zip", "gpkg"])
def test_layers_the_filters_empty_keep_their_geometry_type(store, client, downloads, format):
    """Over the Gulf of Guinea nothing matches: every layer is still there, empty, and
    declared as the polygons, lines or points it holds."""
    path, _ = download(client, downloads, f"/export/all.{format}?bbox=0,0,1,1")
    summary = subprocess.run([OGRINFO, "-ro", "-so", "-al", ogr_path(path)],
                             capture_output=True, text=True, check=True).stdout
    kinds = dict(re.findall(r"Layer name: (\S+)\n(?:(?!Layer name:).*\n)*?Geometry: ([^\n]+)",
                            summary))
    counts = re.findall(r"Feature Count: (\d+)", summary)
    assert set(counts) == {"0"}
    for layer in LAYERS:
        kind = store.layer_meta.loc[layer, "geometry_type"]
        expected = {"polygon": "Polygon", "line": "Line String", "point": "Point"}[kind]
        assert kinds[export.table_name(layer)].endswith(expected)
