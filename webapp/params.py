"""Reading request parameters: strings in, checked values out, QueryError naming the bad one.

Range checks that mean the same for every caller (bbox, limit, offset) live in
layers.query; this module only turns query-string text into values and negotiates the
output format and the interface language.
"""

from __future__ import annotations

from flask import Request

from layers.query import LIMIT_DEFAULT, QueryError, check_bbox, check_page
from webapp import i18n

JSON_TYPES = ("application/json", "application/geo+json", "application/vnd.oai.openapi+json")
HTML_TYPE = "text/html"


def output_format(request: Request, allowed: tuple[str, ...] = ("html", "json")) -> str:
    """`f` when given (else 400), otherwise what the Accept header prefers; HTML by default."""
    f = request.args.get("f")
    if f is not None:
        if f not in allowed:
            raise QueryError("f", f"must be one of {', '.join(allowed)}")
        return f
    accept = request.accept_mimetypes
    if not accept:
        return "html" if "html" in allowed else allowed[0]
    best = accept.best_match([HTML_TYPE, *JSON_TYPES])
    if best in JSON_TYPES and accept[best] > accept[HTML_TYPE] and "json" in allowed:
        return "json"
    return "html" if "html" in allowed else allowed[0]


def language(request: Request, languages: tuple[str, ...]) -> str:
    """`lang` when given (else 400; `zh` is read as zh-Hans), otherwise the best match of
    Accept-Language (zh-TW -> zh-Hant, en-GB -> en), else the first language."""
    lang = request.args.get("lang")
    if lang is not None:
        code = i18n.canonical(lang)
        if code not in languages:
            raise QueryError("lang", f"must be one of {', '.join(languages)}")
        return code
    return i18n.negotiate(request.accept_languages, languages) or languages[0]


def _integer(request: Request, name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise QueryError(name, f"must be a whole number, not {raw[:40]!r}") from None


def page(request: Request) -> tuple[int, int]:
    """limit (default 100, 1..10000) and offset (>= 0)."""
    return check_page(_integer(request, "limit", LIMIT_DEFAULT), _integer(request, "offset", 0))


def bbox(request: Request) -> tuple[float, float, float, float] | None:
    """bbox=minlon,minlat,maxlon,maxlat in CRS84 (the only bbox-crs served)."""
    crs = request.args.get("bbox-crs")
    if crs is not None and crs not in CRS84_URIS:
        raise QueryError("bbox-crs", f"only {CRS84_URIS[0]} is supported")
    raw = request.args.get("bbox")
    if raw is None:
        return None
    parts = [p.strip() for p in raw.split(",")]
    values = []
    for p in parts:
        try:
            values.append(float(p))
        except ValueError:
            raise QueryError("bbox", f"{p[:40]!r} is not a number") from None
    return check_bbox(values)


def flag(request: Request, name: str) -> bool:
    """A yes/no parameter: 1/true/yes or 0/false/no (absent = no)."""
    raw = request.args.get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no", ""):
        return False
    raise QueryError(name, "must be 1/true or 0/false")


def text(request: Request, name: str, max_length: int = 200) -> str | None:
    """An optional free-text parameter; empty counts as absent."""
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return None
    if len(raw) > max_length:
        raise QueryError(name, f"is longer than {max_length} characters")
    return raw.strip()


CRS84_URIS = (
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
)
