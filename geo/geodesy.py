"""Measurements on the WGS84 ellipsoid: area, length, distance and geodesic lines.

Everything takes and returns lon/lat degrees (EPSG:4326) and measures along the
ellipsoid with pyproj's Geod (Karney's algorithms), so figures do not depend on a
projection and long lines curve as they do on the globe.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry

GEOD = Geod(ellps="WGS84")

LonLat = tuple[float, float]


def area_km2(geometry: BaseGeometry) -> float:
    """Geodesic area of a (Multi)Polygon in km² (holes subtracted, orientation ignored)."""
    if geometry is None or geometry.is_empty:
        return 0.0
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        oriented = shapely.orient_polygons(geometry, exterior_cw=False)
        return abs(GEOD.geometry_area_perimeter(oriented)[0]) / 1e6
    total = 0.0
    for polygon in shapely.get_parts(geometry):
        holes = range(shapely.get_num_interior_rings(polygon))
        rings = [shapely.get_exterior_ring(polygon), *shapely.get_interior_ring(polygon, holes)]
        for n, ring in enumerate(rings):
            xy = shapely.get_coordinates(ring)
            ring_area = abs(GEOD.polygon_area_perimeter(xy[:, 0], xy[:, 1])[0])
            total += ring_area if n == 0 else -ring_area
    return total / 1e6


def length_km(geometry: BaseGeometry) -> float:
    """Geodesic length of a (Multi)LineString in km (a polygon's perimeter)."""
    if geometry is None or geometry.is_empty:
        return 0.0
    return GEOD.geometry_length(geometry) / 1000.0


def distance_km(a: LonLat | Point, b: LonLat | Point) -> float:
    """Geodesic distance between two lon/lat positions in km."""
    (lon1, lat1), (lon2, lat2) = _lonlat(a), _lonlat(b)
    _fwd, _back, metres = GEOD.inv(lon1, lat1, lon2, lat2)
    return metres / 1000.0


def geodesic_line(points: Sequence[LonLat | Point], spacing_km: float = 25.0) -> LineString:
    """The geodesic path through `points` in order, densified every `spacing_km` or less.

    Each leg is sampled with Geod.npts, so a long leg follows the great ellipse rather
    than a straight line in lon/lat; a short leg keeps just its two ends.
    """
    ends = [_lonlat(p) for p in points]
    if len(ends) < 2:
        raise ValueError("a geodesic line needs at least two points")
    coords: list[LonLat] = [ends[0]]
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(ends):
        leg_km = distance_km((lon1, lat1), (lon2, lat2))
        inner = max(0, math.ceil(leg_km / spacing_km) - 1)
        if inner:
            coords.extend(GEOD.npts(lon1, lat1, lon2, lat2, inner))
        coords.append((lon2, lat2))
    return LineString(coords)


def geodesic_star(hub: LonLat | Point, spokes: Sequence[LonLat | Point],
                  spacing_km: float = 25.0) -> MultiLineString:
    """Geodesic lines from one hub to each of several places."""
    return MultiLineString([geodesic_line([hub, s], spacing_km) for s in spokes])


def _lonlat(p: LonLat | Point) -> LonLat:
    if isinstance(p, Point):
        return (p.x, p.y)
    lon, lat = p
    return (float(lon), float(lat))
