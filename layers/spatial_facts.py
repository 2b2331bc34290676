"""Spatial facts of every new area, computed once at build time for popups, pages and exports.

For each new area: the strategy regions it lies in and those it only touches, the nearest
hub port and its geodesic distance, the corridors it is an end of (and those passing through
it), and the places inside it (by the linker's roll-up rule).

Distances are geodesic on the WGS84 ellipsoid (pyproj's Geod), never degrees. What the
distance to a port is measured from depends on how well the polygon describes the area:

- an *exact* new area is its administrative unit, so the distance is the shortest geodesic
  distance from the port to the polygon, 0 when the port lies inside it (Shanghai Port's
  Waigaoqiao terminal is in Pudong: 0 km is the fact a planner needs);
- an *approximate* new area is drawn as the union of the whole counties it covers parts of,
  which overstates it, often by tens of km; the distance to that boundary would understate
  the real one, so it is measured from the area's anchor point (its core, `anchor_lon`,
  `anchor_lat`) instead.

`nearest_port_basis` says which (`boundary` or `anchor`), and `nearest_port_from_lon/lat`
give the point on the new area the distance was measured from, so anyone can check it.
"""

from __future__ import annotations

from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
import yaml
from pyproj import CRS, Transformer
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.geodesy import GEOD, area_km2
from layers.linking import roll_up
from layers.paths import DATA_DIR

NEW_AREAS = "new-areas"
PORTS = "ports"
REGIONS = "strategy-regions"
CORRIDORS = "corridors"
POINT_TYPES = ("Point", "MultiPoint")

COLUMNS = [
    "strategy_regions",
    "strategy_regions_touching",
    "nearest_port",
    "nearest_port_km",
    "nearest_port_basis",
    "nearest_port_from_lon",
    "nearest_port_from_lat",
    "corridors",
    "corridors_via",
    "places_inside",
]
LIST_COLUMNS = ["strategy_regions", "strategy_regions_touching", "corridors", "corridors_via",
                "places_inside"]


@cache
def settings() -> dict:
    """The `spatial_facts` section of data/planner.yaml."""
    with open(DATA_DIR / "planner.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)["spatial_facts"]


def spatial_facts(layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """One row per new area (indexed by its id) with the facts named in COLUMNS.

    `layers` maps layer ids to GeoDataFrames in EPSG:4326 indexed by place id, as the store
    holds them (full resolution; an `id` column instead of the index will do too). List
    columns hold place ids, sorted.
    """
    layers = {layer_id: _by_id(frame) for layer_id, frame in layers.items()}
    areas = layers[NEW_AREAS]
    config = settings()
    inside = _places_inside(layers)
    rows = {}
    for area_id, area in areas.iterrows():
        geometry = area.geometry
        lies_in, touching = _regions(geometry, layers.get(REGIONS), config)
        port, km, basis, origin = _nearest_port(area, layers.get(PORTS))
        rows[area_id] = {
            "strategy_regions": lies_in,
            "strategy_regions_touching": touching,
            "nearest_port": port,
            "nearest_port_km": km,
            "nearest_port_basis": basis,
            "nearest_port_from_lon": origin[0] if origin else None,
            "nearest_port_from_lat": origin[1] if origin else None,
            "corridors": _corridors(str(area_id), layers.get(CORRIDORS), "joins"),
            "corridors_via": _corridors(str(area_id), layers.get(CORRIDORS), "via"),
            "places_inside": inside.get(str(area_id), []),
        }
    facts = pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS)
    facts.index.name = "id"
    return facts


def as_columns(facts: pd.DataFrame) -> pd.DataFrame:
    """The facts with list columns as comma-separated text, as the store keeps lists."""
    out = facts.copy()
    for column in LIST_COLUMNS:
        out[column] = pd.Series([", ".join(ids) if ids else None for ids in out[column]],
                                index=out.index, dtype=object)
    return out


def _by_id(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame indexed by place id."""
    if "id" in frame.columns:
        return frame.set_index("id", drop=False).rename_axis(None)
    return frame


def is_exact(area: pd.Series) -> bool:
    """True when the new area's polygon is the area itself (its `extent` is `exact`)."""
    return str(area.get("extent", "")).strip().lower() == "exact"


def point_polygon_distance(point: Point, polygon: BaseGeometry) -> tuple[float, Point]:
    """Shortest geodesic distance in metres from `point` to `polygon`, and where it is reached.

    0 (and the point itself) when the polygon covers the point. Otherwise the boundary is
    moved into an azimuthal equidistant projection centred on the point, where the distance
    from the centre to any position is its true geodesic distance; the boundary's nearest
    position there is taken back to lon/lat and measured with Geod.inv.
    """
    if polygon.covers(point):
        return 0.0, point
    aeqd = CRS.from_proj4(
        f"+proj=aeqd +lat_0={point.y} +lon_0={point.x} +datum=WGS84 +units=m +no_defs"
    )
    forward = Transformer.from_crs(4326, aeqd, always_xy=True)
    # Amap boundaries have vertices tens of metres apart; sub-dividing edges to 100 m keeps
    # the straight-in-projection edges within millimetres of their lon/lat originals.
    boundary = shapely.segmentize(polygon.boundary, 0.001)
    projected = shapely.transform(boundary, lambda xy: _stack(forward.transform(*xy.T)))
    nearest = shapely.ops.nearest_points(projected, Point(0.0, 0.0))[0]
    lon, lat = forward.transform(nearest.x, nearest.y, direction="INVERSE")
    _fwd, _back, metres = GEOD.inv(point.x, point.y, lon, lat)
    return float(metres), Point(lon, lat)


def _stack(xy) -> np.ndarray:
    return np.column_stack(xy)


def _nearest_port(area: pd.Series, ports: gpd.GeoDataFrame | None):
    """(port id, km, basis, (lon, lat) measured from) of the nearest hub port."""
    if ports is None or ports.empty:
        return None, None, None, None
    exact = is_exact(area)
    best = None
    for port_id, port in ports.iterrows():
        point = port.geometry
        if exact:
            metres, origin = point_polygon_distance(point, area.geometry)
        else:
            origin = Point(float(area["anchor_lon"]), float(area["anchor_lat"]))
            metres = float(GEOD.inv(point.x, point.y, origin.x, origin.y)[2])
        if best is None or metres < best[1]:
            best = (str(port_id), metres, origin)
    port_id, metres, origin = best
    basis = "boundary" if exact else "anchor"
    return port_id, round(metres / 1000.0, 6), basis, (origin.x, origin.y)


def _regions(geometry: BaseGeometry, regions: gpd.GeoDataFrame | None, config: dict):
    """(ids the area lies in, ids it only touches), by geodesic area share and distance."""
    if regions is None or regions.empty:
        return [], []
    share_needed = float(config["lies_in_share"])
    tolerance_m = float(config["touch_tolerance_m"])
    whole = area_km2(geometry)
    lies_in, touching = [], []
    for region_id, region in regions.iterrows():
        shape = region.geometry
        if not shape.intersects(geometry) and not _within_metres(geometry, shape, tolerance_m):
            continue
        share = area_km2(shapely.intersection(geometry, shape)) / whole if whole else 0.0
        (lies_in if share >= share_needed else touching).append(str(region_id))
    return sorted(lies_in), sorted(touching)


def _within_metres(a: BaseGeometry, b: BaseGeometry, metres: float) -> bool:
    """Whether two lon/lat geometries come within `metres` of each other (geodesically).

    Measured in an azimuthal equidistant projection centred on `a`, after a cheap check of
    their bounding boxes (one degree of latitude is never less than 110 km).
    """
    ax0, ay0, ax1, ay1 = a.bounds
    bx0, by0, bx1, by1 = b.bounds
    pad = metres / 110_000.0 * 2 + 0.01
    if bx0 > ax1 + pad * 2 or bx1 < ax0 - pad * 2 or by0 > ay1 + pad or by1 < ay0 - pad:
        return False
    centre = a.representative_point()
    aeqd = CRS.from_proj4(
        f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m +no_defs"
    )
    forward = Transformer.from_crs(4326, aeqd, always_xy=True)
    window = shapely.box(ax0 - pad * 2, ay0 - pad, ax1 + pad * 2, ay1 + pad)
    near_b = shapely.clip_by_rect(b, *window.bounds)
    if near_b.is_empty:
        return False
    pa = shapely.transform(a, lambda xy: _stack(forward.transform(*xy.T)))
    pb = shapely.transform(near_b, lambda xy: _stack(forward.transform(*xy.T)))
    return bool(shapely.dwithin(pa, pb, metres))


def _corridors(area_id: str, corridors: gpd.GeoDataFrame | None, column: str) -> list[str]:
    """Ids of the corridors that list this new area in `column` (`joins`: it is an end;
    `via`: the corridor passes through it)."""
    if corridors is None or corridors.empty or column not in corridors.columns:
        return []
    return sorted(
        str(corridor_id)
        for corridor_id, ids in corridors[column].items()
        if area_id in _ids(ids)
    )


def _places_inside(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, list[str]]:
    """New area id -> ids of the places inside it, by the linker's own roll-up rule.

    "Inside" must mean the same here as where the links reach a new area through a place
    (layers.linking.roll_up: which point layers count, and for an approximate area, whose
    county union overstates it, only points placed at the site itself). So the roll-up is
    asked directly, as if one unit named every point place.
    """
    point_ids = [
        str(place_id)
        for frame in layers.values()
        if len(frame) and frame.geom_type.isin(POINT_TYPES).all()
        for place_id in frame.index
    ]
    everything = pd.DataFrame({"unit_id": "*", "place_id": point_ids})
    reached = roll_up(everything, layers)
    inside: dict[str, list[str]] = {}
    for area_id, group in reached.groupby("place_id"):
        inside[str(area_id)] = sorted(set(map(str, group["via_place_id"])))
    return inside


def _ids(value) -> list[str]:
    """A list of ids from a list, or from a string joined by commas (as stored)."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value]
    return []  # None or NaN: no ids
