"""CSV exports open in Excel as they are (issue 17): a UTF-8 byte-order mark, no cell over
Excel's 32,767 characters, a point per place instead of a geometry column, WKT only on
request (and refused, naming `geometry`, where an outline would overflow a cell). Read with
Python's csv module, as a spreadsheet reads the file: no GDAL in between."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
import shapely
from pyproj import CRS

from geo.formats import Table
from geo.formats.csv import CELL_MAX, cut, long_cells, write_csv
from layers import export, export_csv, query

pytest_plugins = ["web_fixtures"]

EXCEL_CELL = 32_767  # Excel's specifications: characters in one cell
POINT_COLUMNS = {"polygon": ("anchor_lon", "anchor_lat"), "line": ("anchor_lon", "anchor_lat"),
                 "point": ("lon", "lat")}
PROJECTED = {"polygon": ("anchor_x", "anchor_y"), "line": ("anchor_x", "anchor_y"),
             "point": ("x", "y")}


@pytest.fixture(scope="module")
def client(store):
    from webapp import create_app

    return create_app({"STORE": store, "TESTING": True}).test_client()


def rows(raw: bytes) -> list[list[str]]:
    """The file as Excel sees it: BOM first, then CSV records."""
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:10]
    csv.field_size_limit(max(csv.field_size_limit(), len(raw)))  # so an overlong cell is seen
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))


def kind(store, layer: str) -> str:
    return store.layer_meta.loc[layer, "geometry_type"]


def test_cell_limit_is_excels():
    assert CELL_MAX == EXCEL_CELL


@pytest.mark.parametrize("crs", [None, "EPSG:4548"])
def test_every_layer_opens_with_no_cell_over_the_limit_and_a_point_per_place(
        store, client, crs):
    for layer in store.layers:
        url = f"/export/{layer}.csv" + (f"?crs={crs}" if crs else "")
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
        header, *body = rows(response.data)
        assert "WKT" not in header and "geometry" not in header  # WKT only on request
        lon, lat = POINT_COLUMNS[kind(store, layer)]
        wanted = {lon, lat} | (set(PROJECTED[kind(store, layer)]) if crs else set())
        assert wanted <= set(header), (layer, header)
        assert len(body) == query.items(store, layer, limit=query.LIMIT_MAX).number_matched
        for record in body:
            assert len(record) == len(header)
            assert max(len(cell) for cell in record) <= EXCEL_CELL, layer
            point = shapely.Point(float(record[header.index(lon)]),
                                  float(record[header.index(lat)]))
            assert -180 <= point.x <= 180 and -90 <= point.y <= 90, (layer, record[0])
        assert "X-Export-Note" not in response.headers  # nothing in the real data was cut


@pytest.mark.parametrize("layer", ["partners", "strategy-regions", "new-areas", "corridors",
                                   "ports", "science-cities", "sites"])
def test_wkt_on_request_fits_every_cell_or_is_refused_naming_geometry(store, client, layer):
    response = client.get(f"/export/{layer}.csv?geometry=wkt")
    outlines = query.items(store, layer, limit=query.LIMIT_MAX).frame.geometry
    # A lower bound on the length GDAL writes (it writes 15 significant digits, not 6 decimals)
    shortest = [len(shapely.to_wkt(g, rounding_precision=6)) for g in outlines]
    if response.status_code == 400:
        body = response.get_json()
        assert body["parameter"] == "geometry" and "32,767" in body["description"]
        assert "none" in body["valid"]
        assert max(shortest) > EXCEL_CELL  # refused only when the WKT really overflows
        return
    assert response.status_code == 200
    header, *body = rows(response.data)
    assert header[0] == "WKT"
    assert all(max(len(cell) for cell in record) <= EXCEL_CELL for record in body)
    assert len(body) == len(outlines)


def test_new_areas_wkt_is_refused_but_the_default_csv_opens(client):
    """16 of the 19 outlines run past a cell (issue 17): Excel would break those rows."""
    refused = client.get("/export/new-areas.csv?geometry=wkt")
    assert refused.status_code == 400 and refused.get_json()["parameter"] == "geometry"
    assert client.get("/export/new-areas.csv").status_code == 200


@pytest.mark.parametrize("url, named", [
    ("/export/new-areas.csv?geometry=geojson", "geojson"),
    ("/export/new-areas.gpkg?geometry=wkt", "csv"),
    ("/export/all.csv", "csv"),
])
def test_bad_csv_requests_are_400s_naming_the_problem(client, url, named):
    response = client.get(url)
    assert response.status_code == 400
    assert named in response.get_json()["description"]


def test_long_text_is_cut_with_a_marker_and_a_note(store, tmp_path):
    """A units list longer than a cell (written for this test on a real selection) ends in
    a marker, and the export's note names the place and column."""
    request = export.make_request(store, "ports", "csv")
    selection = export.select(store, "ports", request)
    long_list = export.LIST_SEPARATOR.join(f"doc-{i}:{i}" for i in range(5_000))
    assert len(long_list) > EXCEL_CELL
    selection.frame.loc[0, "units"] = long_list
    frame, cuts = export_csv.csv_frame(selection.frame, selection.geometry_type,
                                         CRS("EPSG:4326"))
    place = str(frame.loc[0, "id"])
    assert cuts == [(place, "units", len(long_list))]
    target = tmp_path / "ports.csv"
    write_csv(Table("ports", frame), target, wkt=False)
    assert long_cells(target) == []
    header, first, *_ = rows(target.read_bytes())
    cell = first[header.index("units")]
    assert len(cell) == EXCEL_CELL
    assert cell.endswith(f" …[cut: {len(long_list):,} characters]")
    assert long_list.startswith(cell.split(" …[cut:")[0])
    note = export_csv.cut_note(cuts)
    assert note.isascii()  # it goes out as the X-Export-Note header
    assert f"{place} units ({len(long_list):,} characters)" in note
    assert export_csv.cut_note([]) is None
    many = export_csv.cut_note([(f"p{i}", "units", 40_000) for i in range(50)])
    assert "and 45 more" in many and len(many) < 500  # a bounded header


def test_cut_and_long_cells(tmp_path):
    assert cut("abc", 10) == "abc"
    assert len(cut("x" * 100, 40)) == 40 and cut("x" * 100, 40).endswith("[cut: 100 characters]")
    target = tmp_path / "t.csv"
    write_csv(Table("t", pd.DataFrame({"id": ["a", "b"], "text": ["short", "名" * 40_000]})),
              target)
    assert long_cells(target) == [(2, "text", 40_000)]


def test_csv_menu_option_reaches_the_download(client):
    response = client.get("/export?layer=ports&format=csv&crs=EPSG:4326&geometry=wkt")
    assert response.headers["Location"].endswith("/export/ports.csv?crs=EPSG:4326&geometry=wkt")
    response = client.get("/export?layer=ports&format=gpkg&crs=EPSG:4326&geometry=wkt")
    assert "geometry" not in response.headers["Location"]  # the box counts for CSV only
    assert client.get(response.headers["Location"]).status_code == 200


def test_openapi_documents_the_csv_geometry(client):
    spec = client.get("/openapi?f=json").get_json()
    parameters = spec["paths"]["/export/{name}"]["get"]["parameters"]
    geometry = next(p for p in parameters if p.get("name") == "geometry")
    assert geometry["schema"]["enum"] == ["none", "wkt"]
    assert "32767" in geometry["description"] or "32,767" in geometry["description"]
