"""The loaded service every request reads, in its own module so that the blueprints can
import it without importing the app factory (which imports the blueprints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from webapp import reload
from webapp.compression import Compressor
from webapp.geojson import Catalogue
from webapp.i18n import Strings
from webapp.security import SecurityHeaders
from webapp.static_assets import StaticAssets

# app.extensions key of the OpenAPI paths the blueprints contribute.
OPENAPI_PATHS = "xinqu.openapi_paths"


@dataclass
class Service:
    """What every request reads: the store, its serialised layers and the interface strings,
    and how responses are compressed and secured."""

    store: Any
    catalogue: Catalogue
    strings: Strings
    loaded_at: str  # the items' timeStamp: webapp.built.data_time(store)
    compressor: Compressor
    security: SecurityHeaders
    assets: StaticAssets
    cache: dict = field(default_factory=dict)  # rendered pages that depend only on lang


def current_service() -> Service:
    """This request's service; reopened first when the store file changed (webapp.reload)."""
    return reload.service(current_app)


def extra_openapi_paths() -> dict[str, Any]:
    """OpenAPI paths the blueprints contributed when the app registered them."""
    return current_app.extensions.get(OPENAPI_PATHS, {})
