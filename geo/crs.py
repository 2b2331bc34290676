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


# --- OGC API - Features Part 2 -------------------------------------------------------------

OGC_CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
DEFAULT_CRS = "OGC:CRS84"  # what coordinates are in unless a request names another
CGCS2000 = 4490
# CGCS2000 Gauss-Krüger zones with the zone number in the false easting: 3° zones 25-45
# (EPSG:4513-4533) and 6° zones 13-23 (EPSG:4491-4501).
GK_3_DEGREE = range(4513, 4534)
GK_6_DEGREE = range(4491, 4502)
_OGC_URI = re.compile(r"^https?://www\.opengis\.net/def/crs/(?P<auth>[A-Za-z]+)/[^/]+/"
                      r"(?P<code>[A-Za-z0-9_.]+)$")


def ogc_uri(code: str) -> str:
    """The OGC URI of `AUTH:CODE` (CRS84 with its version 1.3, as OGC API writes it)."""
    auth, _, number = code.partition(":")
    if (auth.upper(), number.upper()) == ("OGC", "CRS84"):
        return OGC_CRS84
    return f"http://www.opengis.net/def/crs/{auth.upper()}/0/{number}"


def ogc_code(value: str) -> str | None:
    """`AUTH:CODE` of an OGC CRS URI or of a code (`EPSG:4490`, `4490`); None if neither."""
    text = (value or "").strip()
    found = _OGC_URI.match(text)
    if found:
        return f"{found['auth'].upper()}:{found['code'].upper()}"
    if text.isdigit():
        return f"EPSG:{text}"
    if _CODE.match(text):
        auth, _, code = text.partition(":")
        return f"{auth.upper()}:{code.upper()}"
    return None


@functools.lru_cache(maxsize=64)
def crs_of(code: str) -> CRS:
    """The pyproj CRS of an `AUTH:CODE` from ogc_code()."""
    return CRS.from_user_input(code)


def _bounds_meet(a, b) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


@functools.lru_cache(maxsize=64)
def offered_crs(bounds: tuple[float, ...] | None) -> list[str]:
    """The CRS codes a layer with these lon/lat bounds is served in: CRS84, EPSG:4326,
    CGCS2000 (EPSG:4490), the CGCS2000 Gauss-Krüger zones whose area of use meets the
    layer when the layer lies within China's (where the zones are meant for), and Web
    Mercator."""
    codes = [DEFAULT_CRS, "EPSG:4326", f"EPSG:{CGCS2000}"]
    china = crs_of(f"EPSG:{CGCS2000}").area_of_use.bounds
    if bounds is not None and len(bounds) == 4 and china[0] <= bounds[0] and \
            china[1] <= bounds[1] and bounds[2] <= china[2] and bounds[3] <= china[3]:
        for epsg in (*GK_3_DEGREE, *GK_6_DEGREE):
            if _bounds_meet(crs_of(f"EPSG:{epsg}").area_of_use.bounds, bounds):
                codes.append(f"EPSG:{epsg}")
    codes.append("EPSG:3857")
    return codes


def northing_first(crs: CRS) -> bool:
    """Whether the CRS's first axis points north or south (EPSG:4326 and 4490: latitude,
    longitude; the Gauss-Krüger zones: northing, easting), as OGC API writes coordinates."""
    return bool(crs.axis_info) and crs.axis_info[0].direction.lower() in ("north", "south")


def in_axis_order(frame, crs: CRS):
    """`frame` (lon/lat, EPSG:4326 or CRS84) moved into `crs`, coordinates in the CRS's own
    axis order (CRSError when the features cannot be held in it faithfully)."""
    moved = reproject(frame, crs)
    if not northing_first(crs):
        return moved
    geometry = moved.geometry.name
    swapped = shapely.transform(moved.geometry.values, lambda xy: xy[:, ::-1])
    return moved.assign(**{geometry: swapped})


def bbox_to_lonlat(bbox, crs: CRS) -> tuple[float, float, float, float]:
    """A bbox given in `crs` (in its axis order) as minlon, minlat, maxlon, maxlat."""
    values = list(bbox)
    if len(values) != 4:
        raise CRSError(str(bbox), "a bbox in another CRS has 4 numbers")
    if northing_first(crs):
        values = [values[1], values[0], values[3], values[2]]
    if crs.is_geographic:
        return tuple(values)
    to_lonlat = transformer(crs, WGS84)
    box = to_lonlat.transform_bounds(*values, densify_pts=21)
    if not np.isfinite(box).all():
        raise CRSError(str(bbox), "the bbox lies where the CRS has no coordinates")
    return tuple(float(v) for v in box)
