"""The Flask app factory: load the built store once, serialise it, register the blueprints.

Every response passes one hook (`_finish`): ETag, Cache-Control and Vary, the conditional
304, compression (webapp.compression) and the security headers (webapp.security), in that
order. Static files are served from memory by webapp.static_assets.
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from jinja2 import FileSystemBytecodeCache
from werkzeug.http import parse_etags

from layers import paths, stores, yamlio
from webapp import background, compression, errors, exports, planner, planner_map
from webapp.built import data_time, open_store
from webapp.compression import Compressor
from webapp.geojson import build_catalogue
from webapp.i18n import load_strings
from webapp.limits import HeavyRequests
from webapp.map_style import PAGE_LIMIT_ENV, load_style, page_limit
from webapp.security import SecurityHeaders
from webapp.service import OPENAPI_PATHS, Service, current_service
from webapp.static_assets import StaticAssets
from webapp.views import documents, ogc, pages, planning

# Dynamic responses may be reused for a few minutes and are then revalidated by ETag.
# Static files set their own (webapp.static_assets: a year when the URL has their hash).
CACHE_DYNAMIC = "public, max-age=300"
STATIC_DIR = Path(__file__).parent / "static"
HTTP_SETTINGS = paths.DATA_DIR / "http.yaml"
# warm() asks as a browser does, so the map page it compresses is the very body (and ETag)
# browsers get for `/?lang=…` (the layers' URLs in it carry f=json).
AS_BROWSER = {"Accept": "text/html"}

# The modules that serve the endpoints: each has a `blueprint`, and an `openapi_paths`
# (a dict, or a function giving one) for the endpoints it adds to the OGC API's own.
BLUEPRINT_MODULES = (ogc, pages, exports, planner, planner_map, documents, planning)


def create_app(config: dict | None = None) -> Flask:
    """Build the app. config may set STORE (an opened store) or STORE_PATH (a GeoPackage path
    or a postgresql:// URL; default: layers.stores.location()), Flask keys, and
    XINQU_CACHE_BYTES (the compressed-body cache's bound), XINQU_HEAVY_SLOTS (how many
    exports or map images run at once; both default to data/http.yaml),
    XINQU_HEAVY_WORKERS (webapp.limits.WorkerTokens shared by a server's workers),
    XINQU_COMPRESSED_DIR (where warm() keeps its compressions between starts; None: nowhere),
    XINQU_TEMPLATE_CACHE_DIR (where the compiled page templates are kept between starts;
    None: nowhere) and XINQU_MAP_PAGE_LIMIT (features per map request; else
    $XINQU_MAP_PAGE_LIMIT, else data/map_style.yaml `web.map_page_limit`)."""
    app = Flask(__name__, static_folder=None)
    app.config.update(STORE_PATH=stores.location(), JSON_SORT_KEYS=False)
    app.config.update(config or {})
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    _keep_compiled_templates(app, app.config.get("XINQU_TEMPLATE_CACHE_DIR",
                                                 paths.HOME_DIR / "cache" / "templates"))

    store = app.config.get("STORE") or open_store(app.config["STORE_PATH"])
    web = load_style().get("web", {})
    app.config["XINQU_MAP_PAGE_LIMIT"] = page_limit(
        web, app.config.get("XINQU_MAP_PAGE_LIMIT", os.environ.get(PAGE_LIMIT_ENV)))
    settings = yamlio.read(HTTP_SETTINGS)
    assets = StaticAssets(STATIC_DIR)
    app.extensions["xinqu"] = Service(
        store=store,
        catalogue=build_catalogue(store, web.get("min_part_factor", 0),
                                  web.get("basemap_tolerance_deg", {})),
        strings=load_strings(),
        loaded_at=data_time(store),
        compressor=Compressor.from_settings(
            settings["compression"], app.config.get("XINQU_CACHE_BYTES"),
            app.config.get("XINQU_COMPRESSED_DIR", paths.HOME_DIR / "cache" / "compressed")),
        security=SecurityHeaders(settings["security"]),
        assets=assets,
    )
    app.static_url_path = "/static"
    assets.install(app)
    HeavyRequests(settings["limits"], app.config.get("XINQU_HEAVY_SLOTS"),
                  app.config.get("XINQU_HEAVY_WORKERS")).install(app)
    app.extensions["xinqu"].security.install(app)
    app.after_request(_finish)
    _register_errors(app)

    extra_paths: dict[str, Any] = {}
    for module in BLUEPRINT_MODULES:
        app.register_blueprint(module.blueprint)
        contributed = getattr(module, "openapi_paths", {})
        extra_paths.update(contributed() if callable(contributed) else contributed)
    app.extensions[OPENAPI_PATHS] = extra_paths
    return app


def _keep_compiled_templates(app: Flask, folder: Path | None) -> None:
    """Keep the page templates compiled in `folder` from one start to the next (Jinja's
    bytecode cache: each file is checked against its template's source and Python), so a
    restart does not parse and compile them again (~0.1 s before the first answer)."""
    if folder is None:
        return
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError:  # a folder that cannot be made only costs the compiling
        return
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(folder))


def warm(app: Flask, base_url: str = "http://localhost", wait: bool = True,
         later: bool = True) -> None:
    """Render the map once per language and compress, once per encoding and at the strong
    levels, what stays fixed: the map pages, the static files they name, their layers and
    /basemap. Call it before a server forks its workers, so they share the result and no
    visitor waits. Each body is asked for once; its compressions come from the files an
    earlier start kept when they are there (webapp.compressed_files). (Other static files,
    e.g. the fonts' TrueType fallbacks, which browsers that read woff2 never ask for, are
    compressed at the cheap levels when first asked.) `base_url`: where clients reach the
    server (`xinqu serve` gives its address): the layers' bodies carry absolute links, so
    only a body asked for at the same address is the one compressed here. `wait` False
    (`xinqu serve`): a body whose strong compressions no earlier start kept (the layers'
    after a build) is kept at the cheap levels for now, and a background process makes the
    strong ones, which the workers take up as they land (webapp.compression); `later`
    False: another process makes those (`warm_elsewhere`), this one only takes them up
    (a worker of `xinqu serve` warming while it serves, in one thread)."""
    service = app.extensions["xinqu"]
    compressor = service.compressor
    client = app.test_client()
    urls: list[str] = []
    for lang in service.strings.languages:
        page = client.get(f"/?lang={lang}", headers=AS_BROWSER,
                          base_url=base_url).get_data(as_text=True)
        urls.append(f"/?lang={lang}")
        urls.extend(sorted(f"/static/{name}" for name in re.findall(r'"/static/([^"?]+)', page)))
        if service.store.holds_features:  # a database's layers are read per request
            urls.extend(sorted({u.replace("\\u0026", "&")
                                for u in re.findall(r'"(/collections/[^"]+)"', page)}))
    urls.append("/basemap")
    fixed = []
    for url in dict.fromkeys(urls):
        response = client.get(url, headers={**AS_BROWSER, "Accept-Encoding": "identity"},
                              base_url=base_url)
        if compressor.fixable(response):
            fixed.append((response.get_data(), response.get_etag()[0]))
    # Largest first, so that the threads finish together.
    jobs = [(data, etag, encoding) for data, etag in sorted(fixed, key=lambda f: -len(f[0]))
            for encoding in compression.ENCODINGS]
    threads = min(4, os.cpu_count() or 1) if later else 1  # a serving worker: one
    with ThreadPoolExecutor(max_workers=threads) as pool:
        # The compressors release the GIL: use the cores while nothing is served yet.
        jobs_later = [job for job in pool.map(
            lambda job: compressor.keep_fixed(*job, wait=wait), jobs) if job is not None]
    if not later:
        return
    if jobs_later:  # the pool's threads are gone: a fork copies this one thread only
        compressor.compress_later(jobs_later)
    elif compressor.files is not None:
        compressor.files.prune()


def warm_elsewhere(app: Flask, base_url: str, after: float = 0.0) -> int | None:
    """In a child process at low priority: keep a snapshot of the opened store for the
    next start (layers.stores.keep), then warm(), waiting for the strong levels, so that
    what no earlier start kept lands in the compressed files while the server already
    answers (its workers warm with `later=False` and take the files up). Call it before
    the server forks its workers, with no other thread running; `after`: seconds the child
    waits first (the server's first answers first); the child's pid (None: no fork here)."""
    if not background.can_fork():
        return None

    def keep_and_warm() -> None:
        time.sleep(after)
        stores.keep(app.extensions["xinqu"].store)  # the next start reads one file
        if app.extensions["xinqu"].compressor.files is not None:  # else no folder to fill
            warm(app, base_url, wait=True)

    return background.in_child(keep_and_warm, "warming")


def _finish(response: Response) -> Response:
    """Every response: caching headers and 304, then compression, then security headers."""
    service = current_service()
    response = _cache_headers(response)
    response = compression.apply(service.compressor, request, response)
    return service.security.apply(response)


def _cache_headers(response: Response) -> Response:
    """ETag and Cache-Control on successful GETs; If-None-Match answers 304."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    response.headers.setdefault("Cache-Control", CACHE_DYNAMIC)
    if response.is_streamed or response.direct_passthrough:
        return response
    if request.endpoint != "static":
        response.vary.update(("Accept", "Accept-Language"))
    if not response.get_etag()[0]:
        response.add_etag()
    return _not_modified(response)


def _not_modified(response: Response) -> Response:
    """304 when If-None-Match names this body in any content coding (weak comparison)."""
    header = request.headers.get("If-None-Match")
    if not header:
        return response
    etag = response.get_etag()[0]
    tags = parse_etags(header)
    if tags.star_tag or any(compression.base_etag(tag) == etag
                            for tag in tags.as_set(include_weak=True)):
        response.status_code = 304  # werkzeug sends no body and no entity headers with it
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
