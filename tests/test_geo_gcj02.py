"""GCJ-02 ↔ WGS84: the inverse is exact to the formula, and the boundaries are moved."""

import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo import boundaries
from geo.gcj02 import gcj02_to_wgs84, geometry_gcj02_to_wgs84, wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_inverse_undoes_the_forward_formula_to_a_millimetre_across_china():
    lon, lat = np.meshgrid(np.linspace(74, 134, 61), np.linspace(18, 53, 36))
    g_lon, g_lat = wgs84_to_gcj02(lon.ravel(), lat.ravel())
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    error = _metres(lon.ravel(), lat.ravel(), w_lon, w_lat)
    assert np.max(error) < 0.001


def test_offset_is_hundreds_of_metres_in_china():
    lon, lat = np.meshgrid(np.linspace(100, 125, 11), np.linspace(20, 45, 11))
    g_lon, g_lat = wgs84_to_gcj02(lon.ravel(), lat.ravel())
    offset = _metres(lon.ravel(), lat.ravel(), g_lon, g_lat)
    assert offset.min() > 100 and offset.max() < 1000


def test_outside_china_is_left_alone():
    lon, lat = np.array([2.35, -74.0, 103.8]), np.array([48.85, 40.7, 0.5])
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    assert np.array_equal(g_lon, lon) and np.array_equal(g_lat, lat)


def test_scalars_and_empty_arrays():
    lon, _lat = gcj02_to_wgs84(121.5, 31.2)
    assert np.ndim(lon) == 0 and 121.49 < float(lon) < 121.5
    lon, _lat = gcj02_to_wgs84(np.array([]), np.array([]))
    assert lon.size == 0


def test_geometry_conversion_moves_every_vertex():
    raw = boundaries.geometry_raw("310115")
    moved = geometry_gcj02_to_wgs84(raw)
    a, b = shapely.get_coordinates(raw), shapely.get_coordinates(moved)
    assert a.shape == b.shape
    shift = _metres(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    assert shift.min() > 300 and shift.max() < 700


def test_pudong_matches_the_cnmaps_wgs84_loader_and_not_the_raw_file():
    """310115 is an exact unit: our WGS84 polygon and cnmaps' own WGS84 reading of the same
    file agree within 50 m at the centroid, and both are over 300 m from the raw GCJ-02."""
    cnmaps = pytest.importorskip("cnmaps")
    ours = boundaries.geometry("310115")
    theirs = cnmaps.get_adm_maps(province="上海市", district="浦东新区", only_polygon=True,
                                 record="first", wgs84=True)
    raw = boundaries.geometry_raw("310115")
    c_ours, c_theirs, c_raw = ours.centroid, theirs.centroid, raw.centroid
    assert _metres(c_ours.x, c_ours.y, c_theirs.x, c_theirs.y) < 50
    assert _metres(c_ours.x, c_ours.y, c_raw.x, c_raw.y) > 300
    assert _metres(c_theirs.x, c_theirs.y, c_raw.x, c_raw.y) > 300
