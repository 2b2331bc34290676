"""One function per question asked of a store, one module per kind of question.

The API, the pages, the map and the exports all ask through these functions, so a filter
means the same everywhere. They return plain data (dicts, lists, GeoDataFrames) and know
nothing of HTTP: bad parameters raise `QueryError(param, message)`, unknown ids `NotFound`.
They read the store only through the calls of layers.query.reader.Reader, which the
GeoPackage store and the PostGIS store both answer.

This module gathers the questions under one name (`query.items`, `query.place`, …); each
is defined once, in its own module.
"""

from layers.query.errors import NotFound, QueryError
from layers.query.frames import apply_filter, apply_order, apply_sortby, parse_filter, parse_sortby
from layers.query.items import (
    FEATURE_EXTRAS,
    Items,
    check_layer,
    check_properties,
    feature,
    items,
    layer,
    layer_ids,
    queryables,
)
from layers.query.links import LINKED, RELATIONS, filtered_units, places_linked, units_of_places
from layers.query.params import (
    FULL_PAGE_MAX,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    check_bbox,
    check_chapter,
    check_kind,
    check_page,
    link_filter,
)
from layers.query.places import (
    FACT_LISTS,
    documents,
    find_place,
    place,
    place_ref,
    place_refs,
    spatial_facts,
)
from layers.query.reader import LinkFilter, Reader
from layers.query.search import SEARCH_LIMIT, search, search_key
from layers.query.selection import Selection, selection, strategy_regions
from layers.query.units import (
    chapters,
    summaries,
    unit,
    unit_ids,
    unit_summary,
    units,
    units_in_full,
)
from layers.query.values import (
    id_list,
    lang_fields,
    names,
    place_attributes,
    scalar,
    suffix,
)

__all__ = [
    "FACT_LISTS",
    "FEATURE_EXTRAS",
    "FULL_PAGE_MAX",
    "LIMIT_DEFAULT",
    "LIMIT_MAX",
    "LINKED",
    "RELATIONS",
    "SEARCH_LIMIT",
    "Items",
    "LinkFilter",
    "NotFound",
    "QueryError",
    "Reader",
    "Selection",
    "apply_filter",
    "apply_order",
    "apply_sortby",
    "chapters",
    "check_bbox",
    "check_chapter",
    "check_kind",
    "check_layer",
    "check_page",
    "check_properties",
    "documents",
    "feature",
    "filtered_units",
    "find_place",
    "id_list",
    "items",
    "lang_fields",
    "layer",
    "layer_ids",
    "link_filter",
    "names",
    "parse_filter",
    "parse_sortby",
    "place",
    "place_attributes",
    "place_ref",
    "place_refs",
    "places_linked",
    "queryables",
    "scalar",
    "search",
    "search_key",
    "selection",
    "spatial_facts",
    "strategy_regions",
    "suffix",
    "summaries",
    "unit",
    "unit_ids",
    "unit_summary",
    "units",
    "units_in_full",
    "units_of_places",
]
