"""data/map_style.yaml and the map's page size, without folium: the app reads them at start
(`create_app`, webapp.reload), and folium (webapp.map) is imported only when a map is
rendered, off the path to the server's first answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layers import yamlio
from layers.paths import DATA_DIR
from layers.query import LIMIT_MAX
from webapp.errors import UsageError

STYLE_PATH = DATA_DIR / "map_style.yaml"
# Overrides data/map_style.yaml `web.map_page_limit` (tests lower it to page a small layer).
PAGE_LIMIT_ENV = "XINQU_MAP_PAGE_LIMIT"


def load_style(path: Path = STYLE_PATH) -> dict[str, Any]:
    """data/map_style.yaml: how each layer is drawn."""
    return yamlio.read(path)


def page_limit(web: dict[str, Any], override: str | int | None = None) -> int:
    """Features per map request: `override` (an app config key or $XINQU_MAP_PAGE_LIMIT)
    or `web.map_page_limit`, within 1..the API's LIMIT_MAX, else a UsageError."""
    value = web.get("map_page_limit", LIMIT_MAX) if override in (None, "") else override
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"map page limit: not a whole number: {value!r}") from None
    if not 1 <= limit <= LIMIT_MAX:
        raise UsageError(f"map page limit must lie within 1..{LIMIT_MAX}, not {limit}")
    return limit
