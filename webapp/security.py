"""Security headers on every response, and a CSP that allows only the service's own scripts.

Inline scripts are allowed by their sha256 hash, not by 'unsafe-inline' or a nonce: a
page's inline scripts are folium's map script, fixed once rendered, so hashes keep the
page's bytes (and its ETag and precompressed bodies) the same on every request. A
template that writes an inline script names it with `allow_scripts(parts)`; the hashes
are computed from the trusted rendering, never from the response body, so a script
smuggled into a page by text would still be refused. Settings: data/http.yaml `security`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, g

# The inline scripts of a rendered fragment (no src, no non-script type).
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def script_hash(source: str) -> str:
    """A CSP source expression for one inline script's exact text."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def inline_script_hashes(*fragments: str) -> tuple[str, ...]:
    """The hashes of the inline scripts inside HTML fragments the service rendered."""
    return tuple(script_hash(m.group(1)) for f in fragments for m in INLINE_SCRIPT.finditer(f))


def allow_scripts(hashes: Iterable[str]) -> str:
    """Let this response's page run these inline scripts (used from templates)."""
    allowed = g.setdefault("csp_script_hashes", [])
    allowed.extend(h for h in hashes if h not in allowed)
    return ""


class SecurityHeaders:
    """The headers of data/http.yaml `security`, with a CSP built per response."""

    def __init__(self, settings: dict[str, Any]):
        self.directives: dict[str, list[str]] = {
            name: list(values) for name, values in settings["content_security_policy"].items()}
        self.headers: dict[str, str] = dict(settings["headers"])

    def policy(self, script_hashes: Iterable[str] = ()) -> str:
        parts = []
        for name, values in self.directives.items():
            if name == "script-src":
                values = [*values, *script_hashes]
            parts.append(" ".join([name, *values]))
        return "; ".join(parts)

    def install(self, app: Flask) -> None:
        app.jinja_env.globals["allow_scripts"] = allow_scripts

    def apply(self, response: Response) -> Response:
        response.headers["Content-Security-Policy"] = self.policy(
            g.get("csp_script_hashes", ()))
        for name, value in self.headers.items():
            response.headers[name] = value
        return response
