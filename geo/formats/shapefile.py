"""ESRI shapefiles that open right the first time in QGIS and ArcGIS, and zips of them.

A shapefile is a set of files with hard limits; this module enforces them instead of
letting GDAL truncate or launder silently:

- one geometry type per file (see geo.formats.geometry);
- field names of at most 10 ASCII bytes, unique regardless of case: the caller chooses
  them (GDAL would launder `name_zh_hans` and `name_zh_hant` into `name_zh_ha` and
  `name_zh__1`, which nobody can read back);
- text values of at most 254 bytes in UTF-8 (a .dbf field's width): longer values are
  refused, never cut; `fits()` lets the caller find them first;
- a `.cpg` declaring UTF-8, so Chinese text is decoded right;
- a `.prj` in ESRI's WKT1 dialect, written by pyproj, which ArcGIS recognises by name.

A .dbf header and every zip entry carry a date, today's by default; given a `timestamp`,
they carry that one, so the same tables give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
import pyogrio
from pyproj import CRS
from pyproj.enums import WktVersion

from geo.crs import reproject
from geo.formats import FormatError, Table
from geo.formats.geometry import declared_type

MAX_FIELD_NAME = 10
MAX_TEXT_BYTES = 254
SIDE_CAR_SUFFIXES = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def is_text(values: pd.Series) -> bool:
    """Whether a column holds text (pandas' str dtype or Python objects)."""
    return pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values)


def fits(values: pd.Series) -> pd.Series:
    """Whether each value of a column fits a .dbf text field (nulls and non-text fit)."""
    def ok(value) -> bool:
        return not isinstance(value, str) or len(value.encode("utf-8")) <= MAX_TEXT_BYTES
    return values.map(ok).astype(bool)


def check_fields(table: Table) -> None:
    """FormatError unless every column of `table` can be written to a .dbf unchanged."""
    columns = [c for c in table.frame.columns if not table.spatial
               or c != table.frame.geometry.name]
    seen: dict[str, str] = {}
    for column in columns:
        if not column.isascii() or not 0 < len(column) <= MAX_FIELD_NAME:
            raise FormatError(f"{table.name}: field name {column!r} is not 1 to "
                              f"{MAX_FIELD_NAME} ASCII characters")
        if column.lower() in seen:
            raise FormatError(f"{table.name}: field names {seen[column.lower()]!r} and "
                              f"{column!r} differ only in case")
        seen[column.lower()] = column
        if is_text(table.frame[column]):
            long = ~fits(table.frame[column])
            if long.any():
                raise FormatError(f"{table.name}: {int(long.sum())} value(s) of {column!r} "
                                  f"exceed {MAX_TEXT_BYTES} bytes and would be truncated")


def write_shapefiles(tables: Iterable[Table], directory: Path, crs: CRS,
                     timestamp: dt.datetime | None = None) -> list[Path]:
    """Write each spatial table as `<name>.shp` and each attribute table as `<name>.dbf`.

    Spatial tables are moved into `crs`; the .dbf headers are dated `timestamp` (default
    today). Returns every file written, in a stable order.
    """
    directory = Path(directory)
    written: list[Path] = []
    options = {"ENCODING": "UTF-8"}
    if timestamp is not None:
        options["DBF_DATE_LAST_UPDATE"] = timestamp.strftime("%Y-%m-%d")
    for table in tables:
        check_fields(table)
        if table.spatial:
            frame = reproject(table.frame, crs)
            geometry_type = declared_type(frame, table.name, table.geometry_type)
            path = directory / f"{table.name}.shp"
            pyogrio.write_dataframe(frame, path, driver="ESRI Shapefile",
                                    geometry_type=geometry_type,
                                    promote_to_multi=geometry_type.startswith("Multi"),
                                    layer_options=options)
            esri_wkt = crs.to_wkt(WktVersion.WKT1_ESRI)
            if esri_wkt:  # else keep the .prj GDAL wrote: pyproj has no ESRI form of it
                path.with_suffix(".prj").write_text(esri_wkt, encoding="ascii")
        else:
            path = directory / f"{table.name}.dbf"
            pyogrio.write_dataframe(table.frame, path, driver="ESRI Shapefile",
                                    layer_options=options)
        cpg = path.with_suffix(".cpg")
        if not cpg.exists() or cpg.read_text(encoding="ascii").strip() != "UTF-8":
            raise FormatError(f"{table.name}: GDAL did not declare UTF-8 in {cpg.name}")
        written += [path.with_suffix(s) for s in SIDE_CAR_SUFFIXES
                    if path.with_suffix(s).exists()]
    return written


def write_zip(files: Sequence[Path], path: Path, timestamp: dt.datetime | None = None) -> None:
    """Zip `files` flat (no folders), so a GIS opens the archive as one set of layers.

    With `timestamp`, every entry is dated then (not after the files' mtimes) and has the
    same permissions, so the same files give the same archive bytes.
    """
    names = [Path(f).name for f in files]
    if len(set(names)) != len(names):
        raise FormatError("two files in the zip would have the same name")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            if timestamp is None:
                archive.write(file, arcname=Path(file).name)
                continue
            when = max(timestamp, dt.datetime(1980, 1, 1, tzinfo=timestamp.tzinfo))
            entry = zipfile.ZipInfo(Path(file).name, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            with open(file, "rb") as source, archive.open(entry, "w") as target:
                shutil.copyfileobj(source, target, 1 << 20)
