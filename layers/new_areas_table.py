"""The table of the 19 new areas for planners: one row per area with its facts, sorting,
filtering, and the flat form for CSV/XLSX (the approvals timeline is drawn from the same
rows by webapp.timeline).

Every fact comes from the store (the new-areas layer with its spatial facts, the links),
through layers.query, so the table says what the popups, the place pages and the API say.
"""

from __future__ import annotations

from typing import Any

from layers import query
from layers.choropleth import counts

LAYER = "new-areas"
LANGS = ("zh-Hans", "zh-Hant", "en")
# Sortable columns (`sort=` takes one, `-` in front for descending).
SORT_KEYS = ("name", "province", "approved", "official_area_km2", "geometry_area_km2",
             "area_ratio", "extent", "strategy_regions", "nearest_port", "nearest_port_km",
             "units_named")
DEFAULT_SORT = "approved"
Q_MAX = 100


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def rows(store, admin: dict[str, dict[str, str]] | None = None) -> list[dict[str, Any]]:
    """One dict per new area, in approval order: id, names, province (code, names),
    approved, official and geometry area (km²), their ratio, extent, strategy regions and
    nearest port (resolved place refs, the port with km and basis), units naming it."""
    admin = admin or {}
    frame = store.layers[LAYER]
    named = counts(store.links, frame.index, "named")
    out = []
    for area_id, row in frame.iterrows():
        facts = query.spatial_facts(store, row) or {}
        a = query.place_attributes(row)
        code = str(a.get("province_code") or "")
        province = dict(admin.get(code, {}))
        english = a.get("province")
        if english:
            province.setdefault("en", str(english))
        out.append({
            "id": str(area_id),
            "names": query.names(row),
            "province": {"code": code, "names": province},
            "approved": str(a.get("approved") or ""),
            "official_area_km2": _number(a.get("official_area_km2")),
            "official_area_note": a.get("official_area_note"),
            "geometry_area_km2": _number(a.get("geometry_area_km2")),
            "area_ratio": _number(a.get("area_ratio")),
            "extent": str(a.get("extent") or ""),
            "strategy_regions": facts.get("strategy_regions", []),
            "nearest_port": facts.get("nearest_port"),
            "units_named": int(named.get(str(area_id), 0)),
        })
    return sorted(out, key=lambda r: (r["approved"], r["id"]))


def pick(names: dict[str, str], order: tuple[str, ...]) -> str:
    """The first name present in reading order."""
    return next((names[v] for v in order if names.get(v)), "")


def _sort_value(row: dict[str, Any], key: str, order: tuple[str, ...]) -> Any:
    if key == "name":
        return pick(row["names"], order)
    if key == "province":
        return pick(row["province"]["names"], order) or row["province"]["code"]
    if key == "strategy_regions":
        return ", ".join(pick(r["names"], order) for r in row["strategy_regions"])
    if key == "nearest_port":
        port = row["nearest_port"]
        return pick(port["names"], order) if port else ""
    if key == "nearest_port_km":
        port = row["nearest_port"]
        return port["km"] if port else None
    return row[key]


def check_sort(sort: str | None) -> tuple[str, bool]:
    """(key, descending) of `sort=` (default: by approval date); QueryError if unknown."""
    if sort is None:
        return DEFAULT_SORT, False
    key, descending = (sort[1:], True) if sort.startswith("-") else (sort, False)
    if key not in SORT_KEYS:
        raise query.QueryError("sort", f"unknown column {sort[:40]!r}: use one of "
                                       f"{', '.join(SORT_KEYS)} (with - for descending)")
    return key, descending


def sort_rows(table: list[dict[str, Any]], sort: str | None,
              order: tuple[str, ...] = LANGS) -> list[dict[str, Any]]:
    """The rows sorted by a column in the reading order `order` of names; empty values
    last either way, ties in approval order."""
    key, descending = check_sort(sort)
    present = [r for r in table if _sort_value(r, key, order) not in (None, "")]
    missing = [r for r in table if _sort_value(r, key, order) in (None, "")]
    present.sort(key=lambda r: _sort_value(r, key, order), reverse=descending)
    return present + missing


def terms(row: dict[str, Any]) -> list[str]:
    """Everything a filter matches on: the area's, its province's, its regions' and its
    port's names in every script, and the approval date."""
    names = [*row["names"].values(), *row["province"]["names"].values(), row["approved"]]
    for ref in row["strategy_regions"]:
        names.extend(ref["names"].values())
    if row["nearest_port"]:
        names.extend(row["nearest_port"]["names"].values())
    return [n for n in names if n]


def search_text(row: dict[str, Any]) -> str:
    """The row's terms for a filter in the page: as written and as search keys (so the
    page's script, which has no script conversion, matches 浦東 and Gui'an too)."""
    words = terms(row)
    return " ".join(dict.fromkeys([*(w.casefold() for w in words),
                                   *(query.search_key(w) for w in words)]))


def filter_rows(table: list[dict[str, Any]], q: str | None) -> list[dict[str, Any]]:
    """The rows whose names (any script; 浦東 finds 浦东), province, regions, port or
    approval date contain `q`; all rows without one."""
    if q is None or not q.strip():
        return table
    if len(q) > Q_MAX:
        raise query.QueryError("q", f"is longer than {Q_MAX} characters")
    needle = query.search_key(q)
    if not needle:
        return table
    return [r for r in table
            if any(needle in query.search_key(term) for term in terms(r))]


def flat(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as flat records for CSV and XLSX: stable column names, names in every
    script, lists as text."""
    out = []
    for r in table:
        port = r["nearest_port"] or {"id": "", "names": {}, "km": None, "basis": None}
        record: dict[str, Any] = {"id": r["id"]}
        record.update({f"name_{query.suffix(v)}": r["names"].get(v, "") for v in LANGS})
        record["province_code"] = r["province"]["code"]
        record.update({f"province_{query.suffix(v)}": r["province"]["names"].get(v, "")
                       for v in LANGS})
        record.update({
            "approved": r["approved"],
            "official_area_km2": r["official_area_km2"],
            "official_area_note": r["official_area_note"] or "",
            "geometry_area_km2": r["geometry_area_km2"],
            "area_ratio": r["area_ratio"],
            "extent": r["extent"],
            "strategy_regions": ", ".join(ref["id"] for ref in r["strategy_regions"]),
        })
        record.update({f"strategy_regions_{query.suffix(v)}": ", ".join(
            ref["names"].get(v, "") for ref in r["strategy_regions"]) for v in LANGS})
        record["nearest_port"] = port["id"]
        record.update({f"nearest_port_{query.suffix(v)}": port["names"].get(v, "")
                       for v in LANGS})
        record["nearest_port_km"] = None if port["km"] is None else round(port["km"], 1)
        record["nearest_port_basis"] = port["basis"] or ""
        record["units_named"] = r["units_named"]
        out.append(record)
    return out
