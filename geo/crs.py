"""Coordinate reference systems from user input, and moving features into them.

Users name a CRS by code (`EPSG:4490`, `ESRI:102025`, an OGC URN or URI, or a bare EPSG
number). Whatever pyproj knows by code is accepted, as long as it can place 2-D features:
a vertical-only, geocentric, temporal or engineering CRS cannot, and neither can one on
another celestial body. A compound CRS (horizontal + height) is reduced to its horizontal
part: the features have no heights, so the vertical half would describe nothing, and
neither ESRI WKT1 nor most GIS readers carry a compound CRS in a .prj.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError
from pyproj.exceptions import ProjError

WGS84 = CRS.from_epsg(4326)

# Longest input worth handing to PROJ: codes and URIs are short.
_MAX_INPUT = 200
_CODE = re.compile(r"^(?P<auth>[A-Za-z][A-Za-z0-9_]*):(?P<code>[A-Za-z0-9_.+]+)$")
_URN = re.compile(r"^urn:ogc:def:crs:[A-Za-z0-9_]+:[^:]*:[A-Za-z0-9_.]+$", re.IGNORECASE)
_URI = re.compile(r"^https?://www\.opengis\.net/def/crs/[A-Za-z0-9_]+/[^/]+/[A-Za-z0-9_.]+$")

# How far a vertex may move when transformed into the target CRS and back (metres). Exact
# projections move it by nanometres; more means the features lie outside the CRS's area
# of use, or PROJ picks different datum shifts there and back (Beijing 1954 does), and a
# file in that CRS would not put them where they are.
ROUND_TRIP_METRES = 0.001
_METRES_PER_DEGREE = 111_320.0


class CRSError(ValueError):
    """A CRS the user named that cannot be used; `value` is what they wrote."""

    def __init__(self, value: str, message: str):
        super().__init__(message)
        self.value = value


def parse_crs(value: str) -> CRS:
    """The horizontal CRS the user means by `value`, or CRSError saying why not."""
    text = (value or "").strip()
    if not text:
        raise CRSError(value, "no CRS given: name one by code, e.g. EPSG:4490")
    if len(text) > _MAX_INPUT:
        raise CRSError(value, "CRS is too long: name one by code, e.g. EPSG:4490")
    if text.isdigit():
        text = f"EPSG:{text}"
    if not (_CODE.match(text) or _URN.match(text) or _URI.match(text)):
        raise CRSError(value, f"{value!r} is not a CRS code: give one like EPSG:4490 or "
                              "ESRI:102025")
    try:
        crs = CRS.from_user_input(text)
    except PyprojCRSError:
        raise CRSError(value, f"unknown CRS {value!r}: pyproj has no such code") from None
    return _horizontal(value, crs)


def _horizontal(value: str, crs: CRS) -> CRS:
    if crs.is_compound:
        parts = [part for part in crs.sub_crs_list if part.is_geographic or part.is_projected]
        if not parts:
            raise CRSError(value, f"CRS {value!r} ({crs.name}) has no horizontal part")
        crs = parts[0]
    if crs.is_geocentric:
        raise CRSError(value, f"CRS {value!r} ({crs.name}) is geocentric (X, Y, Z from the "
                              "Earth's centre): it cannot hold 2-D map features")
    if not (crs.is_geographic or crs.is_projected):
        raise CRSError(value, f"CRS {value!r} ({crs.name}) is a {crs.type_name}, not a "
                              "horizontal CRS: it cannot hold 2-D map features")
    if len(crs.axis_info) == 3:
        crs = crs.to_2d()
    try:
        transformer(WGS84, crs)
    except ProjError as error:
        reason = re.search(r"proj_create_operations: ([^.]*)", str(error))
        why = reason.group(1) if reason else "PROJ knows no transformation"
        raise CRSError(value, f"CRS {value!r} ({crs.name}) cannot be reached from WGS 84: "
                              f"{why}") from None
    return crs


@functools.lru_cache(maxsize=128)
def transformer(source: CRS, target: CRS) -> Transformer:
    """The (x, y) = (lon, lat) or (easting, northing) transformer from source to target.

    Cached: PROJ takes about 0.3 s to choose the operations between WGS 84 and CGCS2000,
    which would otherwise be paid on every layer of every export.
    """
    return Transformer.from_crs(source, target, always_xy=True)


def crs_code(crs: CRS) -> str:
    """`AUTHORITY:CODE` for a CRS (e.g. "EPSG:4490"), or its name when it has no code."""
    found = crs.to_authority(min_confidence=90)
    return f"{found[0]}:{found[1]}" if found else crs.name


def crs_uri(crs: CRS) -> str:
    """The OGC URI of a CRS, as OGC API - Features writes it in a Content-Crs header."""
    found = crs.to_authority(min_confidence=90)
    if not found:
        return crs.name
    return f"http://www.opengis.net/def/crs/{found[0]}/0/{found[1]}"


def reproject(frame, crs: CRS):
    """`frame` (a GeoDataFrame with a CRS) moved into `crs`; CRSError if it cannot hold it.

    The features must come back to where they were: a projection used far outside its
    zone gives infinite or wrong coordinates, and a file of those must not be written.
    """
    if frame.crs is None:
        raise ValueError("the features have no CRS to transform from")
    if frame.crs.equals(crs):
        return frame
    forward = transformer(frame.crs, crs)
    if forward.definition.split()[0] == "proj=noop":
        # PROJ's operation is the identity (WGS 84 to CGCS2000 is a null "ballpark" shift at
        # this accuracy): the coordinates stand as they are, only the CRS changes.
        return frame.set_crs(crs, allow_override=True)
    geometry = frame.geometry.name
    values = shapely.transform(frame.geometry.values, forward.transform, interleaved=False)
    moved = frame.assign(**{geometry: values}).set_crs(crs, allow_override=True)
    coordinates = shapely.get_coordinates(values)
    if not np.isfinite(coordinates).all():
        raise CRSError(crs_code(crs), f"CRS {crs_code(crs)} ({crs.name}) cannot hold these "
                                      "features: some fall where it has no coordinates")
    if frame.crs.is_geographic and len(coordinates):
        drift = round_trip_metres(coordinates, crs, frame.crs,
                                  shapely.get_coordinates(frame.geometry.values))
        if not drift <= ROUND_TRIP_METRES:
            raise CRSError(crs_code(crs), f"CRS {crs_code(crs)} ({crs.name}) cannot hold these "
                                          "features faithfully: transformed there and back, "
                                          f"vertices move by up to {drift:.3g} m (they lie "
                                          "outside its area of use, or PROJ has no consistent "
                                          "transformation to it there)")
    return moved


def round_trip_metres(moved, crs: CRS, source: CRS, original) -> float:
    """The largest distance (metres, approximately) between `original` lon/lat vertices and
    the same vertices `moved` into `crs` and transformed back."""
    back = np.column_stack(transformer(crs, source).transform(moved[:, 0], moved[:, 1]))
    dlon = np.abs(back[:, 0] - original[:, 0])
    dlon = np.minimum(dlon, 360.0 - dlon)  # -180 and 180 are the same meridian
    dlat = np.abs(back[:, 1] - original[:, 1])
    east = dlon * np.cos(np.radians(original[:, 1]))
    return float(np.nanmax(np.hypot(east, dlat)) * _METRES_PER_DEGREE)
