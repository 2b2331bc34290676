"""A CQL2 filter tree evaluated over a table into a boolean mask: pandas comparisons for
values, shapely predicates for geometry (`layers.cql.mask`; imported when a first filter
is applied)."""

from __future__ import annotations

import operator
import re
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pygeofilter import ast
from pygeofilter.backends.evaluator import handle

from layers.cql_check import CheckedEvaluator, Column, FilterError, like_tokens

_COMPARE = {"=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}


def evaluate(frame: pd.DataFrame, tree: Any, types: dict[str, str], id_name: str) -> Any:
    """The tree evaluated over the rows of `frame`: a mask, or what the tree's top is."""
    return _Visitor(frame, types, id_name).run(tree)


def _mask(values: Any) -> np.ndarray:
    series = pd.Series(values)
    return series.fillna(False).to_numpy(dtype=bool)


class _Visitor(CheckedEvaluator):
    """Evaluates a pygeofilter tree over a table: masks, columns, literals and geometries."""

    def __init__(self, frame: pd.DataFrame, types: dict[str, str], id_name: str):
        super().__init__(types, id_name)
        self.frame = frame

    def column_values(self, name: str, kind: str) -> Any:
        if name == self.id_name and name not in self.frame.columns:
            series = pd.Series(self.frame.index.astype(str), index=self.frame.index)
        else:
            series = self.frame[name]
        if kind == "date":
            series = pd.to_datetime(series.where(series.astype(str) != ""), errors="coerce")
        return series

    def lower_values(self, values: Any) -> Any:
        return values.str.lower()

    @handle(ast.Include)
    def include(self, node):
        return np.full(len(self.frame), not node.not_)

    @handle(ast.Not)
    def not_(self, node, sub):
        return ~self._condition(sub)

    @handle(ast.And, ast.Or)
    def combination(self, node, lhs, rhs):
        lhs, rhs = self._condition(lhs), self._condition(rhs)
        return (lhs & rhs) if isinstance(node, ast.And) else (lhs | rhs)

    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node, lhs, rhs):
        lhs, rhs, op = self.swapped(lhs, rhs, node.op.value)
        column, value = self.column_and_value(lhs, rhs, op)
        return _mask(_COMPARE[op](column.values, value) & column.values.notna())

    @handle(ast.Between)
    def between(self, node, lhs, low, high):
        column, low = self.column_and_value(lhs, low, "BETWEEN")
        _, high = self.column_and_value(lhs, high, "BETWEEN")
        inside = _mask(column.values.between(low, high))
        return ~inside & column.values.notna().to_numpy() if node.not_ else inside

    @handle(ast.Like)
    def like(self, node, lhs):
        column, pattern = self.like_pattern(node, lhs)
        regex = _like_regex(pattern, node.wildcard, node.singlechar, node.escapechar)
        text = column.values.astype("string")
        found = _mask(text.str.fullmatch(regex, case=not node.nocase, flags=re.DOTALL))
        return ~found & text.notna().to_numpy() if node.not_ else found

    @handle(ast.In)
    def in_(self, node, lhs, *options):
        column = self.column(lhs, "IN", None)
        checked = [self.column_and_value(column, option, "IN")[1] for option in options]
        found = _mask(column.values.isin(checked))
        return ~found & column.values.notna().to_numpy() if node.not_ else found

    @handle(ast.IsNull)
    def null(self, node, lhs):
        column = self.column(lhs, "IS NULL", None)
        empty = column.values.isna()
        if column.type == "string":
            empty = empty | (column.values.astype(str) == "")
        found = _mask(empty)
        return ~found if node.not_ else found

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node, lhs, rhs):
        column, shape, method = self.spatial_operands(node, lhs, rhs)
        return _mask(getattr(column.values, method)(shape))

    @handle(ast.BBox)
    def bbox(self, node, lhs):
        column = self.column(lhs, "BBOX", ("geometry",))
        return _mask(column.values.intersects(
            shapely.box(node.minx, node.miny, node.maxx, node.maxy)))

    def _condition(self, value: Any) -> np.ndarray:
        if isinstance(value, Column) and value.type == "boolean":
            return value.values.fillna(False).to_numpy(dtype=bool)
        if not isinstance(value, np.ndarray):
            raise FilterError("AND, OR and NOT combine conditions, not values")
        return value


def _like_regex(pattern: str, wildcard: str, single: str, escape: str) -> str:
    """A LIKE pattern as a regular expression matching the whole value (with re.DOTALL, so
    that the wildcards match line breaks too, as SQL's do)."""
    parts = {"any": ".*", "one": "."}
    return "".join(parts.get(kind) or re.escape(char)
                   for kind, char in like_tokens(pattern, wildcard, single, escape))
