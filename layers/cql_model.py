"""The light part of CQL2 filters: the languages, the error and the parsed filter.

Apart from layers.cql_tree (pygeofilter, lark, dateparser: a large share of the start-up
of any command) so that layers.cql, which every query imports, loads that only when a
filter is actually parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LANGS = ("cql2-text", "cql2-json")
# Names older clients send for the same languages (the Part 3 drafts: GDAL 3.6, QGIS 3.22).
DRAFT_LANGS = {"cql-text": "cql2-text", "cql-json": "cql2-json"}
MAX_LENGTH = 4000  # characters of filter text: bounds the parse and the evaluation


class FilterError(ValueError):
    """A filter that cannot be read or applied; the message says where and why."""


@dataclass(frozen=True)
class Filter:
    """A parsed filter: its syntax tree and the text it came from."""

    tree: Any
    text: str
    lang: str
