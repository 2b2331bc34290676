"""The one error of reading or applying a CQL2 filter (apart from pygeofilter, so that
code that only names it, or only lists queryables, loads no parser)."""


class FilterError(ValueError):
    """A filter that cannot be read or applied; the message says where and why."""
