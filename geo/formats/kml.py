"""KML for Google Earth: always WGS 84, as the KML standard (OGC 07-147r2) requires.

Each feature is a Placemark whose <name> and <description> come from the columns the
caller names; the other columns are kept as ExtendedData. The description is shown as
HTML in Google Earth's balloon, so the caller escapes any text in it.
"""

from __future__ import annotations

from pathlib import Path

import pyogrio

from geo.crs import WGS84, reproject
from geo.formats import FormatError, Table


def write_kml(table: Table, path: Path, name_field: str, description_field: str) -> None:
    """Write the spatial `table` as one KML folder of placemarks."""
    for field in (name_field, description_field):
        if field not in table.frame.columns:
            raise FormatError(f"{table.name}: no column {field!r} for the KML placemarks")
    pyogrio.write_dataframe(reproject(table.frame, WGS84), path, layer=table.name,
                            driver="KML",
                            dataset_options={"NameField": name_field,
                                             "DescriptionField": description_field})
