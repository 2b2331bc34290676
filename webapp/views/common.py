"""What every view shares: the service, the interface language, rendering and JSON replies."""

from __future__ import annotations

from typing import Any

from flask import Response, g, render_template, request, url_for

from webapp import params
from webapp.geojson import dumps
from webapp.service import Service, current_service


def service() -> Service:
    return current_service()


def lang() -> str:
    """The interface language of this request (?lang= or Accept-Language)."""
    if "lang" not in g:
        g.lang = params.language(request, service().strings.languages)
    return g.lang


def version() -> str:
    """The language version read first in this interface language."""
    return service().strings.names.get(lang(), "en")


def text(key: str, **values) -> str:
    return service().strings.text(key, lang(), **values)


def pick(names: dict[str, str]) -> str:
    """A name or title in the interface language, falling back to the other versions."""
    for v in service().strings.name_order(lang()):
        if names.get(v):
            return names[v]
    return ""


def other_name(names: dict[str, str]) -> str:
    """The name in the other interface language (English beside Chinese and back)."""
    first = pick(names)
    for v in ("en", "zh-Hans", "zh-Hant") if lang() != "en" else ("zh-Hans", "zh-Hant"):
        if names.get(v) and names[v] != first:
            return names[v]
    return ""


def base_url() -> str:
    return request.host_url.rstrip("/")


def url_with(**changes) -> str:
    """This page's URL with some query parameters changed (None removes one); `lang`
    as the canonical code (zh -> zh-Hans)."""
    args = request.args.to_dict()
    if "lang" in args:
        args["lang"] = lang()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def render(template: str, **context) -> str:
    strings = service().strings
    current = lang()
    return render_template(
        template,
        lang=current,
        version=version(),
        t=text,
        pick=pick,
        other_name=other_name,
        url_with=url_with,
        languages=strings.languages,
        language_names=strings.language_names,
        **context,
    )


def json_reply(data: Any, mimetype: str = "application/json") -> Response:
    """JSON from plain data (readable UTF-8)."""
    return Response(dumps(data), mimetype=mimetype)


def text_reply(body: str, mimetype: str) -> Response:
    """A pre-serialised body."""
    return Response(body, mimetype=mimetype)


def html_reply(body: str) -> Response:
    return Response(body, mimetype="text/html")
