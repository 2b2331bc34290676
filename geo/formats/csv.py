"""CSV for spreadsheets and scripts: attributes, and the geometry as WKT when asked.

Written in UTF-8 with a byte-order mark and CRLF line ends (RFC 4180). The BOM is for
Excel, the tool most planners open a CSV with: without it Excel on a Chinese Windows
decodes the file as GBK and garbles every name. GDAL, QGIS, pandas (utf-8-sig) and
LibreOffice all recognise and skip the BOM. A CSV cannot carry its CRS: the caller says
which it is (a response header, a file name).

Excel holds at most 32,767 characters in a cell and breaks a row with a longer one across
cells; `cut` and `long_cells` let the caller keep every cell within that (what to cut or
refuse is the caller's policy).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pandas as pd
import pyogrio
from pyproj import CRS

from geo.crs import reproject
from geo.formats import CELL_MAX, Table

OPTIONS = {"WRITE_BOM": "YES", "LINEFORMAT": "CRLF"}
WKT_COLUMN = "WKT"  # the column GDAL writes the geometry in


def write_csv(table: Table, path: Path, crs: CRS | None = None, wkt: bool = True) -> None:
    """Write `table` as CSV; a spatial table gets a leading `WKT` column in `crs`, or no
    geometry at all when `wkt` is false."""
    if table.spatial and wkt:
        frame = reproject(table.frame, crs) if crs is not None else table.frame
        pyogrio.write_dataframe(frame, path, driver="CSV",
                                layer_options={**OPTIONS, "GEOMETRY": "AS_WKT"})
        return
    frame = table.frame
    if table.spatial:
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    pyogrio.write_dataframe(frame, path, driver="CSV", layer_options=OPTIONS)


def cut(value: str, limit: int = CELL_MAX) -> str:
    """`value` cut to `limit` characters, ending in a marker that says how long it was."""
    if len(value) <= limit:
        return value
    marker = f" …[cut: {len(value):,} characters]"
    return value[:limit - len(marker)] + marker


def long_cells(path: Path, limit: int = CELL_MAX) -> list[tuple[int, str, int]]:
    """(row number from 1, column, characters) of every cell of a written CSV over `limit`."""
    # The csv module refuses fields over its limit (128 KiB by default); a file's size
    # bounds every field in it. Only ever raised, so other readers are unaffected.
    csv.field_size_limit(max(csv.field_size_limit(), min(path.stat().st_size, sys.maxsize)))
    found = []
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        header = next(reader, [])
        for number, row in enumerate(reader, start=1):
            found += [(number, header[i], len(cell)) for i, cell in enumerate(row)
                      if len(cell) > limit]
    return found
