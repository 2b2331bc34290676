"""Roll-up by geography: a unit naming a place inside a new area is listed by that area too.

The festival in Songbei lists the Harbin New Area "via" the festival; Zhangjiang lists
Pudong. Computed once at build time with a spatial join (points within new-area polygons);
rules.yaml `roll_up` says which point layers count and, by the new area's extent, which
point precisions: a county union that overstates an approximate new area only counts a
point placed at the site itself, or a point whose gazetteer entry states that it belongs
to that new area (the documents say so: the Gui'an data centre) and that lies inside it.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers.linking.errors import LinkingError
from layers.linking.rules import load_rules
from layers.paths import LINKING_DIR

ROLL_UP_COLUMNS = ["unit_id", "place_id", "via_place_id"]


def _by_id(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The layer indexed by place id (the store indexes so; a fresh frame has an id column)."""
    return layer.set_index("id") if "id" in layer.columns else layer


def _points(layers: dict[str, gpd.GeoDataFrame], names: tuple[str, ...],
            membership: str | None) -> gpd.GeoDataFrame:
    frames = []
    for name in names:
        layer = layers.get(name)
        if layer is None or layer.empty:
            continue
        if "precision" not in layer.columns:
            raise LinkingError(f"roll-up: layer {name!r} has no 'precision' column")
        layer = _by_id(layer)
        frame = layer.loc[layer.geom_type == "Point", ["precision", "geometry"]]
        stated = layer[membership] if membership and membership in layer.columns else None
        frame = frame.assign(member_of=stated)
        frames.append(frame.rename_axis("via_place_id").reset_index())
    if not frames:
        return gpd.GeoDataFrame({"via_place_id": [], "precision": [], "member_of": []},
                                geometry=[], crs="EPSG:4326")
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def roll_up(unit_places: pd.DataFrame, layers: dict[str, gpd.GeoDataFrame],
            linking_dir: Path = LINKING_DIR) -> pd.DataFrame:
    """(unit_id, place_id, via_place_id): new area `place_id` reached through a place the
    unit names that lies inside it.

    Only links the unit does not already make by name are returned; a unit reaching one
    new area through several places gets one row per place. `layers` maps layer id to a
    GeoDataFrame in EPSG:4326 indexed by place id, as the build assembles them (the point
    layers need `precision`, the new areas `extent`).
    """
    rule = load_rules(linking_dir).roll_up
    if rule.into not in layers:
        raise LinkingError(f"roll-up: no layer {rule.into!r} to roll up into")
    areas = _by_id(layers[rule.into])
    if "extent" not in areas.columns:
        raise LinkingError(f"roll-up: layer {rule.into!r} has no 'extent' column")
    named = set(unit_places["place_id"])
    points = _points(layers, rule.from_layers, rule.stated_membership)
    points = points[points["via_place_id"].isin(named)]
    empty = pd.DataFrame(columns=ROLL_UP_COLUMNS)
    if points.empty:
        return empty
    polygons = areas[["extent", "geometry"]].rename_axis("area_id").reset_index()
    if points.crs != polygons.crs:
        raise LinkingError(f"roll-up: CRS differ ({points.crs} and {polygons.crs})")
    inside = gpd.sjoin(points, polygons, how="inner", predicate="within")
    counts = [precision in rule.precision.get(extent, ()) or member_of == area
              for precision, extent, member_of, area in zip(
                  inside["precision"], inside["extent"], inside["member_of"], inside["area_id"],
                  strict=True)]
    inside = inside.loc[counts, ["via_place_id", "area_id"]]
    rows = unit_places[["unit_id", "place_id"]].merge(
        inside, left_on="place_id", right_on="via_place_id"
    )
    rows = rows[["unit_id", "area_id", "via_place_id"]].rename(columns={"area_id": "place_id"})
    already = set(zip(unit_places["unit_id"], unit_places["place_id"], strict=True))
    keep = [(u, p) not in already for u, p in zip(rows["unit_id"], rows["place_id"], strict=True)]
    rows = rows.loc[keep].drop_duplicates()
    order = {unit: i for i, unit in enumerate(dict.fromkeys(unit_places["unit_id"]))}
    rows = rows.assign(_order=rows["unit_id"].map(order))
    rows = rows.sort_values(["_order", "place_id", "via_place_id"]).drop(columns="_order")
    return rows.reset_index(drop=True) if not rows.empty else empty
