"""The offline basemap: province outlines, China's outline, neighbouring countries and
the major cities' points.

Served with the map so it never needs a tile server; simplified, since it is background.
Provinces are simplified as a coverage so neighbouring outlines stay shared edges. Which
countries and cities to show and how coarsely is a fact in data/basemap.yaml.

The web map's copy is coarser still (data/map_style.yaml `web.basemap_tolerance_deg`, per
kind): `display_basemap` makes it at build time, so a starting service only reads it
(`display_geometries` uses it where it was made at the tolerances asked for).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import yaml
from shapely.geometry import Point
from shapely.ops import polylabel

from geo import boundaries
from geo.simplify import simplify_background, simplify_for_display
from layers import yamlio
from layers.admin_names import overrides, traditional
from layers.gazetteer import GazetteerError
from layers.paths import DATA_DIR

CRS = "EPSG:4326"
BASEMAP_PATH = DATA_DIR / "basemap.yaml"
STYLE_PATH = DATA_DIR / "map_style.yaml"
# The column of the web copy (`basemap-display`) that says at which tolerance each row
# was simplified.
TOLERANCE_COLUMN = "display_tolerance_deg"
KINDS = ("province", "country", "neighbour", "maritime-boundary", "city")
# A city with no point given: the pole of inaccessibility of its outline to this many
# degrees, rounded to the decimals that keep it.
CITY_POINT_TOLERANCE_DEG = 0.001
CITY_POINT_DECIMALS = 4


def basemap_frame(spec_path: Path = BASEMAP_PATH) -> gpd.GeoDataFrame:
    """Rows `code, name_zh_hans, name_zh_hant, name_en, kind, source, geometry`; kind is
    `province`, `country` (China), `neighbour` (another country), `maritime-boundary`
    (lines) or `city` (a major city's point, named in all three scripts)."""
    spec_path = Path(spec_path)
    try:
        spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
        province_tol = float(spec["province_tolerance_deg"])
        country_tol = float(spec["country_tolerance_deg"])
        neighbours = [str(code) for code in spec["neighbours"]]
        corrections, _ = overrides(spec_path.parent / "admin_names.yaml")
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as error:
        raise GazetteerError(f"cannot read the basemap spec ({type(error).__name__}: {error})",
                             file=spec_path.name) from None
    for code in neighbours:
        if not boundaries.exists(code) or boundaries.unit(code).level != "country":
            raise GazetteerError("not a country code of the boundary data",
                                 file=spec_path.name, entry=code)
    # the cities first: a bad entry fails before anything is drawn
    cities = [_city_row(code, name_en, point, spec_path.name)
              for code, name_en, point in _cities(spec, spec_path.name)]
    rows = []
    provinces = [u for u in boundaries.units("province") if u.datum == "GCJ-02"]
    outlines = simplify_for_display([boundaries.geometry(u.code) for u in provinces],
                                    province_tol, coverage=True)
    for unit, outline in zip(provinces, outlines, strict=True):
        rows.append(_row(unit, "province", outline))
    china = boundaries.unit("100000")
    rows.append(_row(china, "country",
                     simplify_background(boundaries.geometry_unrepaired("100000"),
                                         province_tol), "China"))
    for code in neighbours:
        unit = boundaries.unit(code)
        outline = simplify_background(boundaries.geometry_unrepaired(code), country_tol)
        rows.append(_row(unit, "neighbour", outline, _english_name(unit)))
    maritime = shapely.simplify(boundaries.maritime_boundary(), province_tol,
                                preserve_topology=True)
    rows.append({"code": "100000-maritime", "name_zh_hans": "海域界线",
                 "name_en": "Maritime boundary", "kind": "maritime-boundary",
                 "source": china.source, "geometry": maritime})
    rows += cities
    for row in rows:
        row["name_zh_hant"] = traditional(row["code"], row["name_zh_hans"], corrections)
    columns = ["code", "name_zh_hans", "name_zh_hant", "name_en", "kind", "source", "geometry"]
    return gpd.GeoDataFrame([{c: row[c] for c in columns} for row in rows],
                            geometry="geometry", crs=CRS)


def _row(unit: boundaries.Unit, kind: str, geometry, name_en: str | None = None) -> dict:
    return {"code": unit.code, "name_zh_hans": unit.name, "name_en": name_en, "kind": kind,
            "source": unit.source, "geometry": geometry}


def _cities(spec: dict, file: str) -> list[tuple[str, str, tuple[float, float] | None]]:
    """The listed cities `(code, English name, point or None)`, each a city of the
    boundary data with an English name; GazetteerError naming the entry otherwise."""
    out, seen = [], set()
    for entry in spec.get("cities") or []:
        if not isinstance(entry, dict) or "code" not in entry:
            raise GazetteerError("a city is a mapping with code, en and point", file=file)
        code, name_en = str(entry["code"]), str(entry.get("en") or "").strip()
        if code in seen:
            raise GazetteerError("city listed twice", file=file, entry=code)
        seen.add(code)
        if not boundaries.exists(code) or boundaries.unit(code).level != "city":
            raise GazetteerError("not a city's administrative code in the boundary data",
                                 file=file, entry=code)
        if not name_en:
            raise GazetteerError("a city needs its English name (en)", file=file, entry=code)
        point = entry.get("point")
        if point is not None:
            if not (isinstance(point, list) and len(point) == 2
                    and all(isinstance(v, int | float) for v in point)):
                raise GazetteerError("point must be [lon, lat] in degrees", file=file,
                                     entry=code)
            point = (float(point[0]), float(point[1]))
        out.append((code, name_en, point))
    return out


def _city_row(code: str, name_en: str, point: tuple[float, float] | None, file: str) -> dict:
    """A city as a point: the given centre, which must lie in the city's outline, else the
    pole of inaccessibility of the outline's largest part."""
    outline = boundaries.geometry(code)
    if point is None:
        part = max(getattr(outline, "geoms", [outline]), key=lambda g: g.area)
        found = polylabel(part, tolerance=CITY_POINT_TOLERANCE_DEG)
        point = (round(found.x, CITY_POINT_DECIMALS), round(found.y, CITY_POINT_DECIMALS))
    if not outline.contains(Point(point)):
        raise GazetteerError(f"point {list(point)} lies outside the city", file=file,
                             entry=code)
    return _row(boundaries.unit(code), "city", Point(point), name_en)


def _english_name(unit: boundaries.Unit) -> str | None:
    """The English name the World Bank file carries in its properties."""
    return boundaries.properties(unit.code).get("name_en")


def web_tolerances(style_path: Path = STYLE_PATH) -> dict[str, float]:
    """The web map's basemap tolerance per kind (data/map_style.yaml)."""
    web = (yamlio.read(style_path) or {}).get("web") or {}
    return {str(k): float(v or 0) for k, v in (web.get("basemap_tolerance_deg") or {}).items()}


def display_basemap(frame: gpd.GeoDataFrame,
                    tolerances: Mapping[str, float]) -> gpd.GeoDataFrame:
    """The basemap's rows with the web map's geometry: each kind simplified as a coverage
    (geo.simplify) to its tolerance, so province borders stay shared edges; the tolerance
    in TOLERANCE_COLUMN. Made by the build, read by the service (display_geometries)."""
    out = frame.copy()
    kinds = _kinds(frame)
    out["geometry"] = _simplified(list(frame.geometry), kinds, tolerances)
    out[TOLERANCE_COLUMN] = [float(tolerances.get(k, 0) or 0) for k in kinds]
    return out


def display_geometries(frame: gpd.GeoDataFrame, display: gpd.GeoDataFrame | None,
                       tolerances: Mapping[str, float]) -> np.ndarray:
    """The web map's geometry of each row of `frame` (the basemap): from `display` (the
    store's `basemap-display`) for every kind it holds at the tolerance asked for, else
    simplified now; the same geometries either way."""
    kinds = _kinds(frame)
    geometries = list(frame.geometry)
    usable = (display is not None and TOLERANCE_COLUMN in display.columns
              and len(display) == len(frame)
              and list(display["code"]) == list(frame["code"]))
    if usable:
        made = [float(t) for t in display[TOLERANCE_COLUMN]]
        stale = {k for k, m in zip(kinds, made, strict=True)
                 if m != float(tolerances.get(k, 0) or 0)}
        ready = set(kinds) - stale
        prebuilt = list(display.geometry)
        for i, kind in enumerate(kinds):
            if kind in ready:
                geometries[i] = prebuilt[i]
        kinds_left = [None if k in ready else k for k in kinds]
    else:
        kinds_left = kinds
    out = np.empty(len(geometries), dtype=object)
    out[:] = _simplified(geometries, kinds_left, tolerances)
    return out


def _kinds(frame: gpd.GeoDataFrame) -> list:
    return list(frame["kind"]) if "kind" in frame.columns else [None] * len(frame)


def _simplified(geometries: list, kinds: list, tolerances: Mapping[str, float]) -> list:
    """`geometries` with each kind's rows simplified together at its tolerance (rows of
    kind None are left as they are)."""
    geometries = list(geometries)
    for kind in dict.fromkeys(kinds):
        if kind is None:
            continue
        tolerance = float(tolerances.get(kind, 0) or 0)
        rows = [i for i, k in enumerate(kinds) if k == kind]
        simple = simplify_for_display([geometries[i] for i in rows], tolerance)
        for i, geometry in zip(rows, simple, strict=True):
            geometries[i] = geometry
    return geometries
