"""KML for Google Earth: always WGS 84, as the KML standard (OGC 07-147r2) requires.

Written with GDAL's LIBKML driver: each feature becomes a Placemark whose id, <name> and
<description> come from the columns the caller names, with every other column (the id
column too, so GIS readers see it) kept as typed ExtendedData. The description is shown
as HTML in Google Earth's balloon, so the caller escapes any text that goes into it.
The document's own name and description (`title`, `description` of the table) say what
the file is, and are where the caller notes that a CRS asked for was not applied.
"""

from __future__ import annotations

from pathlib import Path

import pyogrio

from geo.crs import WGS84, reproject
from geo.formats import FormatError, Table

# LIBKML's default field names for a placemark's name and description, and the field it
# takes placemark ids from (set below: its default, `id`, would be taken out of the data).
_NAME, _DESCRIPTION, _ID = "name", "description", "kml_placemark_id"


def write_kml(table: Table, path: Path, name_field: str, description_field: str,
              id_field: str = "id") -> None:
    """Write the spatial `table` as one KML document of placemarks."""
    frame = table.frame
    for field in (name_field, description_field, id_field):
        if field not in frame.columns:
            raise FormatError(f"{table.name}: no column {field!r} for the KML placemarks")
    clash = {_NAME, _DESCRIPTION, _ID} & (set(frame.columns) - {name_field, description_field})
    if clash:
        raise FormatError(f"{table.name}: column(s) {sorted(clash)} would be taken for the "
                          "placemark name or description")
    frame = reproject(frame, WGS84).rename(
        columns={name_field: _NAME, description_field: _DESCRIPTION})
    frame[_ID] = frame[id_field]
    # A process-wide GDAL setting, but always this value: no other writer reads it.
    pyogrio.set_gdal_config_options({"LIBKML_ID_FIELD": _ID})
    pyogrio.write_dataframe(frame, path, layer=table.name, driver="LIBKML",
                            dataset_options={"NAME": table.title or table.name,
                                             "DESCRIPTION": table.description})
