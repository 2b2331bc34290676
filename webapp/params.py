"""Reading request parameters: strings in, checked values out, QueryError naming the bad one.

Range checks that mean the same for every caller (bbox, limit, offset) live in
layers.query; this module only turns query-string text into values and negotiates the
output format and the interface language. Every reader takes the query parameters as a
mapping (a Flask request is accepted too and read through its `args`), so the
request-free API core (webapp.core) and the Flask views check parameters in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import LanguageAccept, MIMEAccept
from werkzeug.http import parse_accept_header

from geo.crs import DEFAULT_CRS, CRSError, bbox_to_lonlat, crs_of, ogc_code, ogc_uri
from layers.cql import DRAFT_LANGS as DRAFT_FILTER_LANGS
from layers.cql import LANGS as FILTER_LANGS
from layers.query import LIMIT_DEFAULT, LIMIT_MAX, QueryError, check_bbox, check_page
from webapp import i18n

JSON_TYPES = ("application/json", "application/geo+json", "application/vnd.oai.openapi+json")
HTML_TYPE = "text/html"
FILTER_MAX = 4000  # characters of a filter, sortby or properties parameter


def _args(source: Any) -> Mapping[str, str]:
    """The query parameters of `source`: a mapping, or a Flask request (its args)."""
    return getattr(source, "args", source)


def _header(source: Any, name: str, headers: Mapping[str, str] | None) -> str | None:
    if headers is not None:
        return headers.get(name)
    found = getattr(source, "headers", None)
    return found.get(name) if found is not None else None


def negotiate(args: Mapping[str, str], accept: str | None,
              allowed: tuple[str, ...] = ("html", "json")) -> str:
    """The output format, as pygeoapi chooses it: `f` when given (else 400); otherwise HTML
    only when the client prefers `text/html` (browsers name it first), and JSON for every
    other client, including `*/*` and no Accept header at all (curl, OWSLib, GDAL)."""
    f = args.get("f")
    if f is not None:
        if f not in allowed:
            raise QueryError("f", f"must be one of {', '.join(allowed)}")
        return f
    if "json" not in allowed:
        return allowed[0]
    if "html" not in allowed:
        return "json"
    parsed = parse_accept_header(accept or "", MIMEAccept)
    # Only explicit types count: a wildcard says the client takes anything, not that it
    # prefers a page.
    html = max((q for value, q in parsed if value == HTML_TYPE), default=0)
    data = max((q for value, q in parsed if value in JSON_TYPES), default=0)
    return "html" if html > 0 and html >= data else "json"


def media_type(accept: str | None, offered: tuple[str, ...]) -> str:
    """Which of the `offered` JSON media types the Accept header prefers (the first when it
    names none of them: a JSON Schema is also plain JSON to a client that asks for that)."""
    parsed = parse_accept_header(accept or "", MIMEAccept)
    return parsed.best_match(offered) or offered[0]


def output_format(source: Any, allowed: tuple[str, ...] = ("html", "json"),
                  headers: Mapping[str, str] | None = None) -> str:
    """negotiate() for a request (or query parameters with `headers`)."""
    return negotiate(_args(source), _header(source, "Accept", headers), allowed)


def language(source: Any, languages: tuple[str, ...],
             headers: Mapping[str, str] | None = None) -> str:
    """`lang` when given (else 400; `zh` is read as zh-Hans), otherwise the best match of
    Accept-Language (zh-TW -> zh-Hant, en-GB -> en), else the first language."""
    lang = _args(source).get("lang")
    if lang is not None:
        code = i18n.canonical(lang)
        if code not in languages:
            raise QueryError("lang", f"must be one of {', '.join(languages)}")
        return code
    accepted = parse_accept_header(_header(source, "Accept-Language", headers) or "",
                                   LanguageAccept)
    return i18n.negotiate(accepted, languages) or languages[0]


def _integer(source: Any, name: str, default: int) -> int:
    raw = _args(source).get(name)
    if raw is None:
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise QueryError(name, f"must be a whole number, not {raw[:40]!r}") from None


def page(source: Any, most: int = LIMIT_MAX) -> tuple[int, int]:
    """limit (default 100, 1..most, 10000 unless said) and offset (>= 0)."""
    return check_page(_integer(source, "limit", LIMIT_DEFAULT), _integer(source, "offset", 0),
                      most)


def bbox(source: Any, offered: list[str] | None = None) -> tuple[float, ...] | None:
    """bbox=minlon,minlat,maxlon,maxlat in CRS84, or in `bbox-crs` (one of the `offered`
    CRS codes; its own axis order), returned as CRS84."""
    args = _args(source)
    raw = args.get("bbox")
    named = args.get("bbox-crs")
    code = _crs_param(named, offered or [DEFAULT_CRS], "bbox-crs") if named else DEFAULT_CRS
    if raw is None:
        return None
    values = []
    for p in (part.strip() for part in raw.split(",")):
        try:
            values.append(float(p))
        except ValueError:
            raise QueryError("bbox", f"{p[:40]!r} is not a number") from None
    if code != DEFAULT_CRS:
        if len(values) != 4:
            raise QueryError("bbox", "has 4 numbers in a bbox-crs other than CRS84")
        try:
            values = list(bbox_to_lonlat(values, crs_of(code)))
        except CRSError as error:
            raise QueryError("bbox", str(error)) from None
    return check_bbox(values)


def _crs_param(value: str, offered: list[str], name: str) -> str:
    """The CRS code of a `crs`/`bbox-crs` value, if it is one of `offered` (else 400)."""
    code = ogc_code(value)
    if code is None or code not in offered:
        listed = ", ".join(ogc_uri(c) for c in offered)
        raise QueryError(name, f"{value[:100]!r} is not a CRS this collection is served in "
                               f"({listed})")
    return code


def output_crs(source: Any, offered: list[str]) -> str:
    """The CRS code of `crs` (one of `offered`, named by its OGC URI), CRS84 by default."""
    value = _args(source).get("crs")
    return _crs_param(value, offered, "crs") if value else DEFAULT_CRS


def filter_lang(source: Any) -> str:
    """`filter-lang`: cql2-text (the default) or cql2-json (or their draft names)."""
    value = _args(source).get("filter-lang") or "cql2-text"
    if value not in FILTER_LANGS and value not in DRAFT_FILTER_LANGS:
        raise QueryError("filter-lang", f"must be one of {', '.join(FILTER_LANGS)}")
    return value


def filter_crs(source: Any) -> str:
    """`filter-crs`: the CRS of geometries in a filter; only CRS84 is read."""
    value = _args(source).get("filter-crs")
    return _crs_param(value, [DEFAULT_CRS], "filter-crs") if value else DEFAULT_CRS


def check_display(display: bool, crs: str, properties) -> None:
    """The map's simplified copy has its own properties and is only served in CRS84."""
    if display and (crs != DEFAULT_CRS or properties is not None):
        raise QueryError("display", "the map's copy (display=1) comes in CRS84 with its own "
                                    "properties: leave out crs and properties")


def flag(source: Any, name: str) -> bool:
    """A yes/no parameter: 1/true/yes or 0/false/no (absent = no)."""
    raw = _args(source).get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no", ""):
        return False
    raise QueryError(name, "must be 1/true or 0/false")


def text(source: Any, name: str, max_length: int = 200) -> str | None:
    """An optional free-text parameter; empty counts as absent."""
    raw = _args(source).get(name)
    if raw is None or not raw.strip():
        return None
    if len(raw) > max_length:
        raise QueryError(name, f"is longer than {max_length} characters")
    return raw.strip()



