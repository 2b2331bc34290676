"""GeoPackage: every table in one file, with its title and description.

Written as GeoPackage 1.2, the version every current reader (QGIS, ArcGIS Pro, GDAL from
2.2 on) opens without a "partially supported" warning; nothing written here needs 1.3/1.4.

GDAL dates each table in `gpkg_contents.last_change`, and how many SQLite transactions a
write takes (which the file header counts) depends on whether that date changes while
it writes; with a fixed date (OGR_CURRENT_DATE) the same tables give the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import pyogrio
from pyproj import CRS

from geo.crs import reproject
from geo.formats import Table
from geo.formats.config import gdal_date, gdal_options
from geo.formats.geometry import declared_type

VERSION = "1.2"


def write_gpkg(tables: Iterable[Table], path: Path, crs: CRS,
               timestamp: dt.datetime | None = None) -> None:
    """Write every table into one new GeoPackage; spatial tables are moved into `crs`.

    Each table's title and description land in gpkg_contents (identifier, description),
    where QGIS and ArcGIS show them as the layer's title and abstract; their last change
    is `timestamp` (default: now).

    SQLite skips fsync while GDAL writes: the file is new and private to the caller, who
    reads or copies it at once, so a crash loses nothing that matters; each table written
    would otherwise wait for the disk.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(path)
    options = {"OGR_SQLITE_SYNCHRONOUS": "OFF"}
    if timestamp is not None:
        options["OGR_CURRENT_DATE"] = gdal_date(timestamp)
    with gdal_options(options):
        _write_tables(tables, path, crs)


def _write_tables(tables: Iterable[Table], path: Path, crs: CRS) -> None:
    for table in tables:
        options = {"IDENTIFIER": table.title or table.name, "DESCRIPTION": table.description}
        if table.spatial:
            frame = reproject(table.frame, crs)
            geometry_type = declared_type(frame, table.name, table.geometry_type)
            pyogrio.write_dataframe(frame, path, layer=table.name, driver="GPKG",
                                    geometry_type=geometry_type,
                                    promote_to_multi=geometry_type.startswith("Multi"),
                                    layer_options=options,
                                    dataset_options={"VERSION": VERSION})
        else:
            pyogrio.write_dataframe(table.frame, path, layer=table.name, driver="GPKG",
                                    layer_options=options,
                                    dataset_options={"VERSION": VERSION})
