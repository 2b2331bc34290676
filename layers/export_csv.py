"""CSV policy of the exports (layers.export): what a spreadsheet can open as it is.

Excel holds at most 32,767 characters in a cell (geo.formats.csv.CELL_MAX) and cannot hold
an outline as WKT (a new area's runs to 400,000 characters), so a CSV has a point per place
instead of a geometry column, and a text over the limit is cut with a marker and named in
a note. (Refusing WKT that is too long is layers.export's, since it raises ExportError.)
"""

from __future__ import annotations

import geopandas as gpd
from pyproj import CRS, Transformer

from geo.crs import WGS84
from geo.formats.csv import CELL_MAX, cut
from geo.formats.shapefile import is_text


def cut_note(cuts: list[tuple[str, str, int]]) -> str | None:
    """The note (an HTTP header, so ASCII) naming the cells `csv_frame` cut, if any."""
    if not cuts:
        return None
    listed = ", ".join(f"{place} {column} ({n:,} characters)" for place, column, n in cuts[:5])
    more = f" and {len(cuts) - 5} more" if len(cuts) > 5 else ""
    return (f"{len(cuts)} cell(s) over {CELL_MAX:,} characters (Excel's limit) were cut "
            f"and end in a [cut: N characters] marker: {listed}{more}; the GeoPackage and "
            "shapefile exports and the API hold the full values (units: the links table).")


def csv_frame(frame: gpd.GeoDataFrame, geometry_type: str | None,
              crs: CRS) -> tuple[gpd.GeoDataFrame, list[tuple[str, str, int]]]:
    """The places of a layer (its declared `geometry_type`, e.g. "Point") with a point
    per place added and long texts cut: (frame, cuts as (id, column, characters)).

    The point: a point layer's own lon/lat; a polygon's anchor_lon/anchor_lat (already
    stored: its core or label point); a line's representative point (a point on it), as
    anchor_lon/anchor_lat. All WGS 84 longitude/latitude as the API gives them; when
    another CRS is asked for, x/y (anchor_x/anchor_y) in it too.
    """
    frame = frame.copy()
    geometry = frame.geometry.to_crs(WGS84) if len(frame) else frame.geometry
    points = geometry_type == "Point"
    lon, lat = ("lon", "lat") if points else ("anchor_lon", "anchor_lat")
    if lon not in frame.columns:
        anchor = geometry if points else geometry.representative_point()
        frame[lon], frame[lat] = anchor.x.to_numpy(), anchor.y.to_numpy()
        if not points:
            frame["anchor_kind"] = "representative point"
    if not crs.equals(WGS84, ignore_axis_order=True):
        x, y = ("x", "y") if points else ("anchor_x", "anchor_y")
        to_crs = Transformer.from_crs(WGS84, crs, always_xy=True)
        frame[x], frame[y] = to_crs.transform(frame[lon].to_numpy(dtype=float),
                                              frame[lat].to_numpy(dtype=float))
    cuts = []
    for column in frame.columns:
        if column == frame.geometry.name or not is_text(frame[column]):
            continue
        for position, value in frame[column].items():
            if isinstance(value, str) and len(value) > CELL_MAX:
                cuts.append((str(frame.at[position, "id"]), column, len(value)))
                frame.at[position, column] = cut(value)
    return gpd.GeoDataFrame(frame, geometry=frame.geometry.name, crs=frame.crs), cuts
