"""GeoJSON as RFC 7946 defines it: WGS 84 longitude/latitude, no `crs` member, exterior
rings counter-clockwise.

The standard allows no other CRS, so this writer has no CRS argument; `description`
becomes the FeatureCollection's top-level "description" member, where the caller says
so if another CRS was asked for.

GDAL's own RFC7946=YES mode is not used: it rounds coordinates (7 decimals by default) and
re-nodes polygons, which turned a new area with 50 sliver holes into a
GeometryCollection with 121 vertices fewer. Here the features are moved to WGS 84 and
their rings oriented by shapely, the CRS is left off (so GDAL writes no `crs` member) and
GDAL writes every coordinate at full precision (15 significant digits).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pyogrio
import shapely

from geo.crs import WGS84, reproject
from geo.formats import Table


def write_geojson(table: Table, path: Path, description: str = "") -> None:
    """Write the spatial `table` as an RFC 7946 FeatureCollection."""
    frame = reproject(table.frame, WGS84)
    geometry = frame.geometry.name
    frame = frame.assign(**{geometry: shapely.orient_polygons(frame.geometry.values,
                                                              exterior_cw=False)})
    frame = frame.set_crs(None, allow_override=True)
    options = {"WRITE_NAME": "YES"}
    if description:
        options["DESCRIPTION"] = description
    with warnings.catch_warnings():  # no CRS on purpose: RFC 7946 has no `crs` member
        warnings.filterwarnings("ignore", message="'crs' was not provided")
        pyogrio.write_dataframe(frame, path, layer=table.name, driver="GeoJSON",
                                layer_options=options)
