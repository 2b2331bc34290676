"""Errors: the one renderer of an error answer, and errors meant for the user.

Every error the service answers has the same JSON body, `{code, description, status}`,
plus `parameter` when a request parameter was at fault (and `valid` when the choices are
few). `answer(error)` turns any exception into (status, headers, body) without Flask, so the
request-free API core and the Flask handlers render errors alike.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

ERROR_HEADERS = {"Cache-Control": "no-store"}
RETRY_AFTER_S = 5  # what a 503 asks clients to wait while the database is away


class UsageError(Exception):
    """A problem with what the user asked for: the CLI prints it as one line and exits 2."""


def body(status: int, code: str, description: str, **extra: Any) -> dict[str, Any]:
    """The JSON body of an error (extra keys with None values are left out)."""
    return {"code": code, "description": description, "status": status,
            **{k: v for k, v in extra.items() if v is not None}}


def answer(error: Exception) -> tuple[int, dict[str, str], dict[str, Any]]:
    """(status, headers, body) of the error answer to `error`; unexpected errors are logged
    and answer a 500 that names nothing of the server's inside."""
    # Imported here, not at the top: the CLI imports UsageError from this module and must
    # start without loading pandas, geopandas and PROJ (nor werkzeug, a tenth of a second).
    from werkzeug.exceptions import HTTPException

    from geo.crs import CRSError
    from layers.export_settings import ExportError, ExportNotFound
    from layers.pgstore.errors import StoreUnavailable
    from layers.query import NotFound, QueryError

    headers = dict(ERROR_HEADERS)
    if isinstance(error, StoreUnavailable):  # the database is away: come back shortly
        log.warning("%s", error)
        return 503, {**headers, "Retry-After": str(RETRY_AFTER_S)}, body(
            503, "ServiceUnavailable", "the store's database cannot be reached right now; "
                                       "try again shortly")
    if isinstance(error, QueryError):
        return 400, headers, body(400, "InvalidParameterValue",
                                  f"{error.param}: {error.message}", parameter=error.param)
    if isinstance(error, NotFound):
        return 404, headers, body(404, "NotFound", str(error), kind=error.kind, id=error.id)
    if isinstance(error, ExportError):
        status = 404 if isinstance(error, ExportNotFound) else 400
        valid = f" (valid: {', '.join(error.valid)})" if error.valid else ""
        return status, headers, body(
            status, "NotFound" if status == 404 else "InvalidParameterValue",
            f"{error.param}: {error.message}{valid}", parameter=error.param,
            valid=list(error.valid) or None)
    if isinstance(error, CRSError):
        return 400, headers, body(400, "InvalidParameterValue", f"crs: {error}",
                                  parameter="crs")
    if isinstance(error, HTTPException):
        for name, value in error.get_headers():  # e.g. Allow on a 405
            if name.lower() != "content-type":
                headers[name] = value
        status = error.code or 500
        return status, headers, body(status, error.name.replace(" ", ""),
                                     error.description or "")
    log.error("unexpected error", exc_info=error)
    return 500, headers, body(500, "ServerError", "the server could not answer this request")
