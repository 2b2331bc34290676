"""What a question asked of the store raises: a bad parameter or an unknown id."""

from __future__ import annotations


class QueryError(ValueError):
    """A parameter the caller gave is malformed or out of range."""

    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


class NotFound(LookupError):
    """An id (layer, place, unit, document) that the store does not hold."""

    def __init__(self, kind: str, id: str):
        super().__init__(f"no {kind} {id!r}")
        self.kind = kind
        self.id = id
