"""GeoJSON as RFC 7946 defines it: always WGS 84 longitude/latitude.

The standard allows no other CRS, so this writer has no CRS argument; `description`
becomes the FeatureCollection's top-level "description" member, where the caller says
so if another CRS was asked for. Coordinates keep 8 decimals (about 1 mm).
"""

from __future__ import annotations

from pathlib import Path

import pyogrio

from geo.crs import WGS84, reproject
from geo.formats import Table

DECIMALS = 8


def write_geojson(table: Table, path: Path, description: str = "") -> None:
    """Write the spatial `table` as an RFC 7946 FeatureCollection."""
    options = {"RFC7946": "YES", "COORDINATE_PRECISION": str(DECIMALS), "WRITE_NAME": "YES"}
    if description:
        options["DESCRIPTION"] = description
    pyogrio.write_dataframe(reproject(table.frame, WGS84), path, layer=table.name,
                            driver="GeoJSON", layer_options=options)
