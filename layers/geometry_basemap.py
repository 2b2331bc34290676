"""The offline basemap: province outlines, China's outline and neighbouring countries.

Served with the map so it never needs a tile server; simplified, since it is background.
Provinces are simplified as a coverage so neighbouring outlines stay shared edges. Which
countries to show and how coarsely is a fact in data/basemap.yaml.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
import yaml

from geo import boundaries
from geo.simplify import simplify_background, simplify_for_display
from layers.gazetteer import GazetteerError
from layers.paths import DATA_DIR

CRS = "EPSG:4326"
BASEMAP_PATH = DATA_DIR / "basemap.yaml"
KINDS = ("province", "country", "neighbour", "maritime-boundary")


def basemap_frame(spec_path: Path = BASEMAP_PATH) -> gpd.GeoDataFrame:
    """Rows `code, name_zh_hans, name_en, kind, source, geometry`; kind is `province`,
    `country` (China), `neighbour` (another country) or `maritime-boundary` (lines)."""
    spec_path = Path(spec_path)
    try:
        spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
        province_tol = float(spec["province_tolerance_deg"])
        country_tol = float(spec["country_tolerance_deg"])
        neighbours = [str(code) for code in spec["neighbours"]]
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as error:
        raise GazetteerError(f"cannot read the basemap spec ({type(error).__name__}: {error})",
                             file=spec_path.name) from None
    for code in neighbours:
        if not boundaries.exists(code) or boundaries.unit(code).level != "country":
            raise GazetteerError("not a country code of the boundary data",
                                 file=spec_path.name, entry=code)
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
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


def _row(unit: boundaries.Unit, kind: str, geometry, name_en: str | None = None) -> dict:
    return {"code": unit.code, "name_zh_hans": unit.name, "name_en": name_en, "kind": kind,
            "source": unit.source, "geometry": geometry}


def _english_name(unit: boundaries.Unit) -> str | None:
    """The English name the World Bank file carries in its properties."""
    return boundaries.properties(unit.code).get("name_en")
