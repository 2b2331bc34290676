"""Checking the parameters every question shares: bbox, paging, unit/document/chapter, kind.

Each raises QueryError naming the parameter, so a bad value is the same 400 on items, the
pages, the map and its figures.
"""

from __future__ import annotations

import math

from layers.query.errors import QueryError
from layers.query.reader import LinkFilter

LIMIT_DEFAULT = 100
LIMIT_MAX = 10000
# /units and /documents answer each entry in full (a unit's places, links, chapter; a
# document's places): about 5 ms a unit on PostGIS at 1000x, so a page holds at most this
# many (2.5 s), not LIMIT_MAX.
FULL_PAGE_MAX = 500


def check_bbox(bbox) -> tuple[float, float, float, float] | None:
    """Validate a CRS84 bbox (minlon, minlat, maxlon, maxlat); 6 values drop the heights."""
    if bbox is None:
        return None
    values = list(bbox)
    if len(values) not in (4, 6):
        raise QueryError("bbox", "needs 4 numbers (minlon,minlat,maxlon,maxlat) or 6 with heights")
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        raise QueryError("bbox", "every value must be a number") from None
    if not all(math.isfinite(v) for v in numbers):
        raise QueryError("bbox", "every value must be a finite number")
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    minx, miny, maxx, maxy = numbers
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise QueryError("bbox", "longitudes must lie within -180..180")
    if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise QueryError("bbox", "latitudes must lie within -90..90")
    if miny > maxy:
        raise QueryError("bbox", "the lower latitude is above the upper one")
    return minx, miny, maxx, maxy


def bbox_parts(bbox: tuple[float, float, float, float]) -> list[tuple[float, ...]]:
    """The bbox as boxes; one crossing the antimeridian (minlon > maxlon) becomes two."""
    minx, miny, maxx, maxy = bbox
    if minx <= maxx:
        return [(minx, miny, maxx, maxy)]
    return [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]


def check_page(limit, offset, most: int = LIMIT_MAX) -> tuple[int, int]:
    """Validate limit (1..most) and offset (>= 0)."""
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise QueryError("limit", "must be a whole number")
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise QueryError("offset", "must be a whole number")
    if not 1 <= limit <= most:
        raise QueryError("limit", f"must lie within 1..{most}")
    if offset < 0:
        raise QueryError("offset", "must not be negative")
    return limit, offset


def check_unit(store, unit: str) -> None:
    if unit not in store.unit_rows(ids=[unit], columns=["document"]).index:
        raise QueryError("unit", f"no unit {unit!r}")


def check_document(store, document: str) -> None:
    if document not in store.unit_documents():
        raise QueryError("document", f"no document {document!r}")


def check_chapter(store, document: str | None, chapter) -> int | None:
    """A chapter number of `document` (chapters are numbered afresh in every document, so a
    chapter needs its document), or QueryError naming `chapter`."""
    if chapter is None:
        return None
    if isinstance(chapter, bool):
        raise QueryError("chapter", "must be a whole number")
    try:
        number = int(str(chapter).strip())
    except ValueError:
        raise QueryError("chapter", f"must be a whole number, not {str(chapter)[:40]!r}") from None
    if document is None:
        raise QueryError("chapter", "needs a document: chapters are numbered within one")
    check_document(store, document)
    numbers = store.chapter_numbers(document)
    if number not in numbers:
        have = ", ".join(map(str, numbers)) or "none"
        raise QueryError("chapter", f"document {document!r} has no chapter {number} "
                                    f"(its chapters: {have})")
    return number


def check_kind(store, kind: str) -> str:
    """A place kind (a layer id), or QueryError naming `kind`."""
    ids = store.layer_ids()
    if kind not in ids:
        raise QueryError("kind", f"no place kind {kind!r}: one of {', '.join(ids)}")
    return kind


def link_filter(store, unit: str | None = None, document: str | None = None,
                chapter=None) -> LinkFilter | None:
    """The unit/document/chapter filter checked (None when none is given)."""
    if unit is None and document is None and chapter is None:
        return None
    if unit is not None:
        check_unit(store, unit)
    if document is not None:
        check_document(store, document)
    return LinkFilter(unit, document, check_chapter(store, document, chapter))
