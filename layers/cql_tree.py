"""CQL2 text and JSON read into pygeofilter's syntax tree (`layers.cql.parse` checks the
text's language and size first; this module is imported when a first filter is read)."""

from __future__ import annotations

import json
from typing import Any

import shapely
from pygeofilter import ast

from layers.cql_error import FilterError


def read_tree(text: str, lang: str) -> Any:
    """The syntax tree of `text` in `lang` (cql2-text or cql2-json), or FilterError saying
    where it cannot be read."""
    try:
        tree = _parse_text(text) if lang == "cql2-text" else _parse_json(text)
    except FilterError:
        raise
    except RecursionError:
        raise FilterError("the filter is nested too deeply") from None
    if not isinstance(tree, ast.Node):
        raise FilterError("the filter is not a condition")
    return tree


def _parse_text(text: str) -> Any:
    # Imported here: the CQL2 text grammar takes ~0.3 s to build, which no start should pay.
    from pygeofilter.parsers.cql2_text import parse as parse_text

    try:
        return parse_text(text)
    except Exception as error:  # lark's errors, and pygeofilter's on odd literals
        where = _position(error)
        token = getattr(error, "token", None) or getattr(error, "char", None)
        found = f" at {str(token)[:30]!r}" if token else ""
        raise FilterError(f"cannot read the CQL2 text{where}{found}") from None


def _position(error: Exception) -> str:
    column = getattr(error, "column", None)
    if isinstance(column, int) and column > 0:
        return f" at character {column}"
    return ""


def _parse_json(text: str) -> Any:
    from pygeofilter.parsers.cql2_json import parse as parse_json  # with the text grammar

    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise FilterError(f"not JSON: {error.msg} at character {error.pos + 1}") from None
    if not isinstance(document, dict):
        raise FilterError("a CQL2 JSON filter is an object with `op` and `args`")
    try:
        return parse_json(_bbox_as_polygon(document))
    except RecursionError:
        raise
    except Exception as error:  # pygeofilter raises KeyError, TypeError... on bad trees
        raise FilterError(f"not a CQL2 JSON filter: {type(error).__name__} {error}"[:200]) \
            from None


def _bbox_as_polygon(node: Any) -> Any:
    """CQL2 JSON `{"bbox": [minx, miny, maxx, maxy]}` as a GeoJSON polygon (pygeofilter 0.4
    reads a JSON bbox's numbers in the wrong order)."""
    if isinstance(node, list):
        return [_bbox_as_polygon(item) for item in node]
    if not isinstance(node, dict):
        return node
    box = node.get("bbox")
    if len(node) == 1 and isinstance(box, list) and len(box) == 4 and \
            all(isinstance(v, (int, float)) for v in box):
        return shapely.geometry.mapping(shapely.box(*box))
    return {key: _bbox_as_polygon(value) for key, value in node.items()}
