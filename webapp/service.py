"""The loaded service every request reads, in its own module so that the blueprints can
import it without importing the app factory (which imports the blueprints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from webapp.geojson import Catalogue
from webapp.i18n import Strings

# app.extensions key of the OpenAPI paths the blueprints contribute.
OPENAPI_PATHS = "xinqu.openapi_paths"


@dataclass
class Service:
    """What every request reads: the store, its serialised layers and the interface strings."""

    store: Any
    catalogue: Catalogue
    strings: Strings
    loaded_at: str
    cache: dict = field(default_factory=dict)  # rendered pages that depend only on lang


def current_service() -> Service:
    return current_app.extensions["xinqu"]


def extra_openapi_paths() -> dict[str, Any]:
    """OpenAPI paths the blueprints contributed when the app registered them."""
    return current_app.extensions.get(OPENAPI_PATHS, {})
