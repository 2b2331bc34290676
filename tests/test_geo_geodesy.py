"""Geodesic measurements, checked against independent methods."""

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon, box

from geo import boundaries, geodesy


def test_area_agrees_with_an_equal_area_projection():
    pudong = boundaries.geometry("310115")
    # Albers equal-area conic for China: an independent way to the same figure.
    albers = Transformer.from_crs(
        "EPSG:4326", "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=WGS84",
        always_xy=True)
    projected = shapely.transform(
        pudong, lambda xy: np.column_stack(albers.transform(xy[:, 0], xy[:, 1]))).area / 1e6
    assert geodesy.area_km2(pudong) == pytest.approx(projected, rel=0.002)


def test_area_ignores_orientation_and_subtracts_holes():
    outer = box(110, 30, 111, 31)
    hole = box(110.25, 30.25, 110.75, 30.75)
    ring = Polygon(outer.exterior.coords, [hole.exterior.coords])
    assert geodesy.area_km2(outer) == pytest.approx(geodesy.area_km2(outer.reverse()))
    assert geodesy.area_km2(ring) == pytest.approx(
        geodesy.area_km2(outer) - geodesy.area_km2(hole), rel=1e-9)
    # One degree square at 30°N: about 111.2 km × 96.5 km.
    assert 10_600 < geodesy.area_km2(outer) < 10_800


def test_distance_beijing_shanghai():
    assert geodesy.distance_km((116.40, 39.90), (121.47, 31.23)) == pytest.approx(1068, abs=10)


def test_geodesic_line_curves_and_measures_the_geodesic():
    xian, almaty = (108.94, 34.34), (76.95, 43.24)
    line = geodesy.geodesic_line([xian, almaty], spacing_km=25)
    assert line.coords[0] == xian and line.coords[-1] == almaty
    assert len(line.coords) > 50
    assert geodesy.length_km(line) == pytest.approx(geodesy.distance_km(xian, almaty),
                                                    rel=1e-4)
    # A long east-west geodesic in the northern hemisphere bows poleward of the chord.
    middle = line.interpolate(0.5, normalized=True)
    chord = LineString([xian, almaty]).interpolate(0.5, normalized=True)
    assert middle.y > chord.y + 0.3


def test_short_line_keeps_its_two_ends():
    line = geodesy.geodesic_line([Point(108.70, 34.33), Point(108.94, 34.34)], spacing_km=25)
    assert len(line.coords) == 2


def test_star_and_errors():
    star = geodesy.geodesic_star((113.5, 22.8), [(114.16, 22.28), (113.54, 22.2)])
    assert star.geom_type == "MultiLineString" and len(star.geoms) == 2
    with pytest.raises(ValueError):
        geodesy.geodesic_line([(0, 0)])
    assert geodesy.area_km2(shapely.Polygon()) == 0.0
