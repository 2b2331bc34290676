"""CSV with the geometry as WKT, for spreadsheets and scripts.

Written in UTF-8 with a byte-order mark and CRLF line ends (RFC 4180). The BOM is for
Excel, the tool most planners open a CSV with: without it Excel on a Chinese Windows
decodes the file as GBK and garbles every name. GDAL, QGIS, pandas (utf-8-sig) and
LibreOffice all recognise and skip the BOM. A CSV cannot carry its CRS: the caller says
which it is (a response header, a file name).
"""

from __future__ import annotations

from pathlib import Path

import pyogrio
from pyproj import CRS

from geo.crs import reproject
from geo.formats import Table

OPTIONS = {"WRITE_BOM": "YES", "LINEFORMAT": "CRLF"}


def write_csv(table: Table, path: Path, crs: CRS | None = None) -> None:
    """Write `table` as CSV; a spatial table gets a leading `WKT` column in `crs`."""
    if table.spatial:
        frame = reproject(table.frame, crs) if crs is not None else table.frame
        pyogrio.write_dataframe(frame, path, driver="CSV",
                                layer_options={**OPTIONS, "GEOMETRY": "AS_WKT"})
    else:
        pyogrio.write_dataframe(table.frame, path, driver="CSV", layer_options=OPTIONS)
