"""Writing GIS formats: one module per format, each taking `Table`s and a target CRS.

These modules know file formats and nothing of policy: which rows, columns, names and
notes go into a file is decided by the caller (layers.export). Every writer uses pyogrio
(GDAL), so what they write is what GDAL, QGIS and ArcGIS read.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

CELL_MAX = 32_767  # characters in one Excel cell (Excel specifications and limits)


@dataclass(frozen=True)
class Table:
    """One table to write: a layer (GeoDataFrame) or an attribute table (DataFrame).

    `name` is the file or table name; `title` and `description` go wherever the format
    keeps them (GeoPackage contents, a GeoJSON description member); `geometry_type` is the
    type to declare when the frame holds no feature to tell it (e.g. "MultiPolygon").
    """

    name: str
    frame: pd.DataFrame
    title: str = ""
    description: str = ""
    geometry_type: str | None = None

    @property
    def spatial(self) -> bool:
        return isinstance(self.frame, gpd.GeoDataFrame)


class FormatError(ValueError):
    """Data that the format cannot hold as it is (the caller must reshape it first)."""
