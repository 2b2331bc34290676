"""Spatial facts of the new areas (issue 7), on the real built store.

The facts are computed from the store's full-resolution layers, as the build computes
them. Distances are checked against pyproj's Geod directly (not through geo.geodesy or
the module's own projection trick): by the anchor for approximate areas, by the densest
sampling of the boundary for exact ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point

from layers.query import id_list
from layers.spatial_facts import (
    COLUMNS,
    LIST_COLUMNS,
    as_columns,
    point_polygon_distance,
    spatial_facts,
)

GEOD = Geod(ellps="WGS84")
# Boundary samples every 0.0002° (~20 m): the nearest sample is then within
# (20 m)² / (8 d) of the true nearest distance d, i.e. under 1 cm beyond 5 km.
SAMPLE_DEG = 0.0002


@pytest.fixture(scope="module")
def facts(store) -> pd.DataFrame:
    return spatial_facts(store.layers)


def geod_m(lon1, lat1, lon2, lat2) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def boundary_distance_m(point: Point, polygon) -> float:
    """Shortest geodesic distance from point to polygon by brute force: 0 inside, else the
    nearest of densely sampled boundary positions."""
    if polygon.covers(point):
        return 0.0
    coords = shapely.get_coordinates(shapely.segmentize(polygon.boundary, SAMPLE_DEG))
    n = len(coords)
    _, _, metres = GEOD.inv(np.full(n, point.x), np.full(n, point.y), coords[:, 0],
                            coords[:, 1])
    return float(np.min(metres))


def independent_distance_m(point: Point, area: pd.Series) -> float:
    if area["extent"] == "exact":
        return boundary_distance_m(point, area.geometry)
    return geod_m(point.x, point.y, area["anchor_lon"], area["anchor_lat"])


def test_one_row_per_new_area_with_every_column(facts, store):
    assert sorted(facts.index) == sorted(store.layers["new-areas"].index)
    assert list(facts.columns) == COLUMNS
    assert len(facts) == 19


def test_strategy_regions_the_areas_lie_in(facts):
    assert "jing-jin-ji" in facts.at["binhai", "strategy_regions"]
    assert "jing-jin-ji" in facts.at["xiongan", "strategy_regions"]
    assert "greater-bay-area" in facts.at["nansha", "strategy_regions"]
    assert "yangtze-river-delta" in facts.at["pudong", "strategy_regions"]
    assert facts.at["lanzhou", "strategy_regions"] == []
    for area, row in facts.iterrows():
        assert not set(row["strategy_regions"]) & set(row["strategy_regions_touching"]), area


def test_an_area_partly_in_a_region_touches_it(store):
    """Half of a made-up area inside Beijing-Tianjin-Hebei: it touches, it does not lie in."""
    areas = store.layers["new-areas"]
    straddling = areas.loc[["xiongan"]].copy()
    straddling["geometry"] = [shapely.union(areas.at["xiongan", "geometry"],
                                            areas.at["qingdao-west-coast", "geometry"])]
    layers = {**store.layers, "new-areas": straddling}
    row = spatial_facts(layers).loc["xiongan"]
    assert row["strategy_regions"] == []
    assert row["strategy_regions_touching"] == ["jing-jin-ji"]


def test_nearest_hub_ports(facts):
    assert facts.at["pudong", "nearest_port"] == "port-shanghai"
    assert facts.at["qingdao-west-coast", "nearest_port"] == "port-qingdao"
    # Shanghai Port's Waigaoqiao terminal lies in Pudong: an exact area holding its port.
    assert facts.at["pudong", "nearest_port_km"] == 0
    assert facts.at["lanzhou", "nearest_port_km"] > 1000


def test_distances_agree_with_pyproj_geod_within_a_metre(facts, store):
    areas, ports = store.layers["new-areas"], store.layers["ports"]
    for area_id, area in areas.iterrows():
        row = facts.loc[area_id]
        by_port = {port_id: independent_distance_m(port.geometry, area)
                   for port_id, port in ports.iterrows()}
        nearest = min(by_port, key=by_port.get)
        assert row["nearest_port"] == nearest, area_id
        assert abs(row["nearest_port_km"] * 1000 - by_port[nearest]) < 1.0, area_id
        # and the reported point on the area is where that distance is reached
        port = ports.at[nearest, "geometry"]
        from_lon, from_lat = row["nearest_port_from_lon"], row["nearest_port_from_lat"]
        assert abs(geod_m(port.x, port.y, from_lon, from_lat)
                   - row["nearest_port_km"] * 1000) < 1.0, area_id
        if area["extent"] == "exact":
            assert row["nearest_port_basis"] == "boundary"
            assert area.geometry.distance(Point(from_lon, from_lat)) < 1e-6, area_id
        else:
            assert row["nearest_port_basis"] == "anchor"
            assert (from_lon, from_lat) == (area["anchor_lon"], area["anchor_lat"])


def test_point_polygon_distance_for_every_exact_area_and_port(store):
    """Near and far, inside and outside: the projection method against brute force."""
    areas, ports = store.layers["new-areas"], store.layers["ports"]
    exact = areas[areas["extent"] == "exact"]
    outside = 0
    for area_id, area in exact.iterrows():
        for port_id, port in ports.iterrows():
            metres, _ = point_polygon_distance(port.geometry, area.geometry)
            expected = boundary_distance_m(port.geometry, area.geometry)
            assert abs(metres - expected) < 1.0, (area_id, port_id)
            outside += expected > 0
    assert outside > 20  # most pairs are far apart, so the comparison is not all zeros


def test_places_inside_are_the_places_links_reach_areas_through(facts, store):
    links = store.links
    via = links[links["relation"] == "via"]
    assert len(via)
    for row in via.itertuples():
        inside = facts.at[row.place_id, "places_inside"]  # a list, as spatial_facts gives it
        assert set(id_list(row.via_place_id)) <= set(inside), row
    named = links[links["relation"] == "named"]
    reached = set(zip(links.loc[links["relation"].isin(("named", "via")), "unit_id"],
                      links.loc[links["relation"].isin(("named", "via")), "place_id"],
                      strict=True))
    for area_id, row in facts.iterrows():
        for place_id in row["places_inside"]:
            for unit_id in named.loc[named["place_id"] == place_id, "unit_id"]:
                assert (unit_id, area_id) in reached, (unit_id, place_id, area_id)
    assert "zhangjiang" in facts.at["pudong", "places_inside"]
    assert "port-qingdao" in facts.at["qingdao-west-coast", "places_inside"]


def test_corridors_the_areas_are_ends_of(facts, store):
    assert "xixian-zhoushan" in facts.at["xixian", "corridors"]
    assert "xixian-zhoushan" in facts.at["zhoushan", "corridors"]
    assert "fuzhou-pingtan" in facts.at["fuzhou", "corridors"]
    assert facts.at["lanzhou", "corridors"] == []
    corridors = store.layers["corridors"]
    for corridor_id, joins in corridors["joins"].items():
        ends = [part.strip() for part in joins.split(",")]
        for area_id in facts.index:
            assert (corridor_id in facts.at[area_id, "corridors"]) == (area_id in ends)


def test_list_columns_as_the_store_keeps_lists(facts):
    flat = as_columns(facts)
    for column in LIST_COLUMNS:
        for area_id, value in flat[column].items():
            ids = facts.at[area_id, column]
            assert value == (", ".join(ids) if ids else None)
