"""GeoPackage: every table in one file, with its title and description.

Written as GeoPackage 1.2, the version every current reader (QGIS, ArcGIS Pro, GDAL from
2.2 on) opens without a "partially supported" warning; nothing written here needs 1.3/1.4.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyogrio
from pyproj import CRS

from geo.crs import reproject
from geo.formats import Table
from geo.formats.geometry import declared_type

VERSION = "1.2"

_sync_lock = threading.Lock()
_sync_off = 0  # writers running with SQLite's fsync off
_sync_off_previous: list[str | None] = [None]  # the setting to restore after the last one


def write_gpkg(tables: Iterable[Table], path: Path, crs: CRS) -> None:
    """Write every table into one new GeoPackage; spatial tables are moved into `crs`.

    Each table's title and description land in gpkg_contents (identifier, description),
    where QGIS and ArcGIS show them as the layer's title and abstract.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(path)
    with _without_fsync():
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


@contextlib.contextmanager
def _without_fsync() -> Iterator[None]:
    """Let SQLite skip fsync while GDAL writes: the file is new and private to the caller,
    who reads or copies it at once, so a crash loses nothing that matters; each table
    written would otherwise wait for the disk. The setting is process-wide in GDAL, so it
    is counted and restored when the last writer finishes."""
    global _sync_off
    with _sync_lock:
        if _sync_off == 0:
            _sync_off_previous[0] = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
            pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
        _sync_off += 1
    try:
        yield
    finally:
        with _sync_lock:
            _sync_off -= 1
            if _sync_off == 0:
                pyogrio.set_gdal_config_options(
                    {"OGR_SQLITE_SYNCHRONOUS": _sync_off_previous[0]})
