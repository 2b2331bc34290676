"""Geometry types as the file formats see them: one declared type per layer."""

from __future__ import annotations

import geopandas as gpd

from geo.formats import FormatError

# Each family and the single type that holds all of its members.
_FAMILIES = {
    "Point": "point", "MultiPoint": "point",
    "LineString": "line", "MultiLineString": "line",
    "Polygon": "polygon", "MultiPolygon": "polygon",
}
_MULTI = {"point": "MultiPoint", "line": "MultiLineString", "polygon": "MultiPolygon"}


def declared_type(frame: gpd.GeoDataFrame, name: str, empty: str | None = None) -> str:
    """The one geometry type a layer of `frame` is declared with.

    Points stay Point unless some feature is a MultiPoint (a shapefile of points cannot
    hold a multipoint); lines and polygons are declared Multi*, which holds both forms and
    is what shapefiles store anyway. Mixed families (points with polygons) are refused:
    no shapefile can hold them and a GIS draws a mixed GeoPackage layer badly. A layer
    with no features is declared `empty` (the type its features would have).
    """
    present = set(frame.geometry.dropna().geom_type)
    unknown = present - set(_FAMILIES)
    if unknown:
        raise FormatError(f"{name}: cannot write {', '.join(sorted(unknown))} geometries")
    families = {_FAMILIES[kind] for kind in present}
    if len(families) > 1:
        raise FormatError(f"{name}: mixes {' and '.join(sorted(families))} geometries; "
                          "write each kind as its own layer")
    if not families:
        if empty is None:
            raise FormatError(f"{name}: no features to tell its geometry type")
        return empty
    family = families.pop()
    if family == "point" and present == {"Point"}:
        return "Point"
    return _MULTI[family]
