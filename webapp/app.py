"""The Flask app factory: load the built store once, serialise it, register the blueprints."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from flask import Flask, g, jsonify, request
from flask_compress import Compress

from layers import paths
from webapp import errors, exports, planner, planner_map
from webapp.errors import UsageError
from webapp.geojson import build_catalogue
from webapp.i18n import load_strings
from webapp.map import load_style
from webapp.service import OPENAPI_PATHS, Service, current_service  # noqa: F401 (re-exported)
from webapp.views import ogc, pages

# Dynamic responses may be reused for a few minutes and are then revalidated by ETag;
# vendored assets do not change between releases.
CACHE_DYNAMIC = "public, max-age=300"
CACHE_STATIC = "public, max-age=86400"

# The modules that serve the endpoints: each has a `blueprint`, and an `openapi_paths`
# (a dict, or a function giving one) for the endpoints it adds to the OGC API's own.
BLUEPRINT_MODULES = (ogc, pages, exports, planner, planner_map)


def open_store(path: Path):
    """Open the built store, or explain in one line how to make it."""
    if not Path(path).exists():
        shown = os.path.relpath(path) if Path(path).is_absolute() else str(path)
        raise UsageError(f"no built data at {shown}: run `xinqu build`")
    from layers.store import Store, StoreError

    try:
        return Store.open(path)
    except StoreError as error:
        raise UsageError(f"{error}; run `xinqu build`") from None


def create_app(config: dict | None = None) -> Flask:
    """Build the app. config may set STORE (an opened Store) or STORE_PATH, and Flask keys."""
    app = Flask(__name__)
    app.config.update(
        STORE_PATH=paths.STORE_PATH,
        JSON_SORT_KEYS=False,
        COMPRESS_MIMETYPES=[
            "text/html", "text/css", "text/javascript", "application/javascript",
            "application/json", "application/geo+json", "application/vnd.oai.openapi+json",
            "image/svg+xml", "font/ttf",
        ],
        COMPRESS_MIN_SIZE=1024,
        # Bodies are fixed from start, so each is compressed once per encoding (cached by
        # ETag) and can afford zstd's strongest level: the map's layers shrink by half.
        COMPRESS_ZSTD_LEVEL=19,
        COMPRESS_BR_LEVEL=9,
        COMPRESS_CACHE_KEY=_compress_key,
        COMPRESS_CACHE_BACKEND=lambda: CompressedBodies(),
        SEND_FILE_MAX_AGE_DEFAULT=86400,
    )
    app.config.update(config or {})
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    store = app.config.get("STORE") or open_store(app.config["STORE_PATH"])
    web = load_style().get("web", {})
    app.extensions["xinqu"] = Service(
        store=store,
        catalogue=build_catalogue(store, web.get("min_part_factor", 0),
                                  web.get("basemap_tolerance_deg", {})),
        strings=load_strings(),
        loaded_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )

    Compress(app)  # registered first, so it runs after the ETag hook below
    app.after_request(_cache_headers)
    _register_errors(app)

    extra_paths: dict[str, Any] = {}
    for module in BLUEPRINT_MODULES:
        app.register_blueprint(module.blueprint)
        contributed = getattr(module, "openapi_paths", {})
        extra_paths.update(contributed() if callable(contributed) else contributed)
    app.extensions[OPENAPI_PATHS] = extra_paths
    return app


class CompressedBodies:
    """Compressed bodies by ETag and encoding, for flask-compress (bounded, oldest out)."""

    def __init__(self, limit: int = 512):
        self.limit = limit
        self.bodies: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.bodies.get(key)

    def set(self, key: str, value: bytes) -> None:
        if key.endswith(";"):  # a response without an ETag: never reuse its body
            return
        if key not in self.bodies and len(self.bodies) >= self.limit:
            self.bodies.pop(next(iter(self.bodies)))
        self.bodies[key] = value


def _compress_key(_request) -> str:
    """The ETag _cache_headers gave the response (it runs before flask-compress)."""
    return g.get("xinqu_etag") or ""


def warm(app: Flask) -> None:
    """Render the map once per language and compress its data once per encoding, so the
    first visitor does not wait for it (call before a server forks its workers)."""
    client = app.test_client()
    for lang in app.extensions["xinqu"].strings.languages:
        page = client.get(f"/?lang={lang}&f=html").get_data(as_text=True)
        urls = {u.replace("\\u0026", "&") for u in re.findall(r'"(/collections/[^"]+)"', page)}
        for url in sorted(urls | {"/basemap"}):
            for encoding in ("zstd", "br", "gzip"):
                client.get(url, headers={"Accept-Encoding": encoding})


def _cache_headers(response):
    """ETag and Cache-Control on successful GETs; If-None-Match answers 304."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    static = request.endpoint == "static"
    response.headers.setdefault("Cache-Control", CACHE_STATIC if static else CACHE_DYNAMIC)
    if not static and not response.is_streamed and not response.direct_passthrough:
        response.vary.update(("Accept", "Accept-Language"))
        if not response.get_etag()[0]:
            response.add_etag()
        g.xinqu_etag = response.get_etag()[0]
        response.make_conditional(request)
    return response


def _register_errors(app: Flask) -> None:
    """Every error answers JSON naming what was wrong (webapp.errors.answer); never a
    traceback."""

    @app.errorhandler(Exception)
    def any_error(error: Exception):
        status, headers, body = errors.answer(error)
        response = jsonify(body)
        response.status_code = status
        response.headers.update(headers)
        return response
