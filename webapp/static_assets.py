"""Static files, read once into memory and fingerprinted by their content.

`url_for("static", filename=...)` adds `?v=<hash of the file>`, so a page always names
the exact bytes it was written for; a request carrying the current hash may be cached
for a year as immutable, one without it (a stylesheet's relative font URL) for a day.
Every file's ETag is its hash, and warm() compresses each one once at start-up.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, abort, request

CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
CACHE_UNVERSIONED = "public, max-age=86400"
# Types Python's table lacks or names differently across versions.
TYPES = {".js": "text/javascript", ".woff2": "font/woff2", ".ttf": "font/ttf"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    mimetype: str
    hash: str


class StaticAssets:
    """Every file under a folder, by its path relative to the folder (with "/")."""

    def __init__(self, folder: Path):
        self.files: dict[str, Asset] = {}
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                body = path.read_bytes()
                name = path.relative_to(folder).as_posix()
                mimetype = (TYPES.get(path.suffix) or mimetypes.guess_type(name)[0]
                            or "application/octet-stream")
                self.files[name] = Asset(body, mimetype, hashlib.sha256(body).hexdigest()[:16])

    def install(self, app: Flask) -> None:
        """Serve them as the app's `static` endpoint, and version every URL to them."""
        app.add_url_rule(f"{app.static_url_path}/<path:filename>", endpoint="static",
                         view_func=self.serve)

        @app.url_defaults
        def _version(endpoint: str, values: dict) -> None:
            if endpoint == "static" and "v" not in values:
                asset = self.files.get(values.get("filename", ""))
                if asset is not None:
                    values["v"] = asset.hash

    def serve(self, filename: str) -> Response:
        asset = self.files.get(filename)
        if asset is None:
            abort(404)
        response = Response(asset.body, mimetype=asset.mimetype)
        response.set_etag(asset.hash)
        response.headers["Cache-Control"] = (
            CACHE_IMMUTABLE if request.args.get("v") == asset.hash else CACHE_UNVERSIONED)
        return response
