"""Plain values from the store's rows, whichever store read them.

A GeoPackage row comes from pandas (NaN for missing numbers, numpy scalars), a PostGIS row
from psycopg (None, Python scalars); these turn both into the same JSON-able values.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import pandas as pd

from layers.documents.model import LANGS


@cache
def suffix(lang: str) -> str:
    """Column suffix for a language code: zh-Hans -> zh_hans."""
    return lang.replace("-", "_").lower()


_PLAIN = (str, int, bool)  # exactly these types pass as they are (most cells: the fast path)


def scalar(value: Any) -> Any:
    """A plain JSON-able Python value from a cell (NaN/NA -> None)."""
    if type(value) in _PLAIN:
        return value
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value



def whole(value: Any) -> int | None:
    """An integer column that the GeoPackage round trip may have turned into floats."""
    value = scalar(value)
    return None if value is None else int(value)


def lang_fields(row, name: str) -> dict[str, str]:
    """`name_<lang>` columns of a row, per language code ("" where missing)."""
    return {lang: scalar(row.get(f"{name}_{suffix(lang)}")) or "" for lang in LANGS}


def names(row) -> dict[str, str]:
    """A row's names per language code."""
    return lang_fields(row, "name")


def id_list(value: Any) -> list[str]:
    """The place ids of a stored list column (comma-separated text; empty when missing)."""
    value = scalar(value)
    if not isinstance(value, str):
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


_NOT_ATTRIBUTES = frozenset({"geometry"} | {f"name_{suffix(lang)}" for lang in LANGS})


def place_attributes(row) -> dict[str, Any]:
    """Every non-geometry column of a place row except its names."""
    return {str(k): scalar(v) for k, v in row.items() if k not in _NOT_ATTRIBUTES}


def summary_of(id: str, row) -> dict[str, Any]:
    """A unit's id, document, key, kind, chapter and title (no text), from its row."""
    return {
        "id": id,
        "document": scalar(row.get("document")),
        "key": scalar(row.get("key")),
        "kind": scalar(row.get("kind")),
        "order": whole(row.get("order")),
        "chapter_number": whole(row.get("chapter_number")),
        "chapter_title": lang_fields(row, "chapter_title"),
        "title": lang_fields(row, "title"),
    }
