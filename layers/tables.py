"""Documents, units and links as the store's attribute tables, for a build or one document.

The full build and the incremental add (layers.userdocs) both make their rows here, so a
document added at run time has exactly the rows a rebuild would give it.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers.documents.model import Document, Unit
from layers.gazetteer import LANGS, Gazetteer
from layers.geometry import column_suffix
from layers.linking import Linker, link_table, roll_up
from layers.store import LINK_COLUMNS, MENTION_COLUMNS

# Where a document comes from: shipped in data/, or added to the instance folder.
SHIPPED, ADDED = "shipped", "added"


def documents_table(documents: list[Document], origin: str = SHIPPED) -> pd.DataFrame:
    """One row per document: id, date, title and publisher per language, language versions,
    source file per language, document number, URL and origin."""
    rows = []
    for doc in documents:
        row = {"id": doc.id, "date": doc.date}
        for lang in LANGS:
            row[f"title_{column_suffix(lang)}"] = doc.title.get(lang)
        for lang in LANGS:
            row[f"publisher_{column_suffix(lang)}"] = doc.publisher.get(lang)
        row["langs"] = ", ".join(lang for lang in LANGS if lang in doc.versions)
        for lang in LANGS:
            row[f"file_{column_suffix(lang)}"] = doc.versions.get(lang)
        row["number"] = doc.number
        row["url"] = doc.url
        row["origin"] = origin
        rows.append(row)
    return pd.DataFrame(rows)


def units_table(units: list[Unit]) -> pd.DataFrame:
    """Every field of every unit; per-language fields as `<field>_<lang>` columns."""
    rows = []
    for unit in units:
        row = {"id": unit.id, "document": unit.document, "key": unit.key, "kind": unit.kind,
               "order": unit.order, "chapter_number": unit.chapter_number}
        for name in ("chapter_title", "title", "text"):
            values = getattr(unit, name) or {}
            for lang in LANGS:
                row[f"{name}_{column_suffix(lang)}"] = values.get(lang)
        row["langs"] = ", ".join(lang for lang in LANGS if (unit.text or {}).get(lang))
        rows.append(row)
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["chapter_number"] = frame["chapter_number"].astype("Int64")
    return frame


def link_frames(units: list[Unit], gazetteer: Gazetteer, layers: dict[str, gpd.GeoDataFrame],
                linking_dir: Path, linker: Linker | None = None) -> tuple[pd.DataFrame,
                                                                      pd.DataFrame]:
    """The `mentions` and `links` tables (named, via roll-up, general), from layers.linking
    (`linker`: one already loaded for this gazetteer and linking_dir, to reuse)."""
    found = (linker or Linker.load(gazetteer, linking_dir)).link(units)
    mentions = found.mentions.reindex(columns=list(MENTION_COLUMNS))
    rolled = roll_up(found.unit_places, layers, linking_dir)
    new_areas = list(layers["new-areas"].index) if "new-areas" in layers else []
    links = link_table(found, rolled, new_areas).reindex(columns=list(LINK_COLUMNS))
    return mentions, links
