"""Pages for planners: the table of the new areas, places side by side, and about/help.

- `/new-areas` (`sort`, `q`, `f=html|json|csv|xlsx`): the 19 with their facts and the
  approvals timeline; sorted and filtered on the server, so it works without script
  (webapp/static/xinqu/new_areas.js sorts and filters in the page as well);
- `/compare?places=a,b` (`f=html|json`): facts side by side, units naming each and all;
- `/about` (`/help` redirects there): sources, what extent and precision mean, how links
  are made, how to cite a unit, the boundary data's licence (texts in data/about.yaml).

The tables and comparisons are assembled in layers (new_areas_table, compare); this module
reads parameters and renders. It also gives every template `admin_name` (a code's name in
the interface language) and `place_name` (a place id's name), so facts read 浙江省, not
330000.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import metadata
from typing import Any

from flask import Blueprint, Response, redirect, request, url_for

from geo import boundaries
from layers import compare as comparing
from layers import new_areas_table as table
from layers import query, yamlio
from layers.admin_names import admin_names
from layers.paths import DATA_DIR
from webapp import params
from webapp.i18n import ALIASES, complete, load_strings
from webapp.ogcapi import HTML, JSON, LANG_PARAM, content, operation, param
from webapp.timeline import layout
from webapp.views.common import html_reply, json_reply, lang, pick, render, service, text

blueprint = Blueprint("planning", __name__)

ABOUT_PATH = DATA_DIR / "about.yaml"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABLE_FORMATS = ("html", "json", "csv", "xlsx")
PLACES_MAX_LENGTH = 400


@blueprint.before_request
def _check_common_parameters() -> None:
    lang()


def _admin() -> dict[str, dict[str, str]]:
    """Administrative names of the store's codes, resolved once per service."""
    cache_ = service().cache
    if "admin-names" not in cache_:
        cache_["admin-names"] = admin_names(service().store)
    return cache_["admin-names"]


def admin_name(code: Any) -> str:
    """The name of an administrative code in the interface language; English pages show
    a district's Chinese name with its code (there is no English name to give)."""
    code = str(code).strip()
    names = _admin().get(code)
    if not names:
        return code
    if lang() == "en" and not names.get("en"):
        return f"{pick(names)} ({code})"
    return pick(names)


def place_name(place_id: str) -> str:
    """A place's name in the interface language (its id if the store lacks it)."""
    return pick(query.place_ref(service().store, place_id)["names"]) or place_id


def unit_label(unit: dict[str, Any]) -> str:
    """How a list under its document's title shows a unit: its number there (13, 2.4),
    or its kind (preamble, closing …) in the interface language."""
    if unit.get("kind") in ("measure", "section") and unit.get("key"):
        return str(unit["key"])
    return text("kind_" + str(unit.get("kind")))


@blueprint.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"admin_name": admin_name, "place_name": place_name, "id_list": query.id_list,
            "unit_label": unit_label}


# --- /new-areas ---------------------------------------------------------------------------

def _rows() -> list[dict[str, Any]]:
    cache_ = service().cache
    if "new-areas-table" not in cache_:
        cache_["new-areas-table"] = table.rows(service().store, _admin())
    return cache_["new-areas-table"]


def _download(body: bytes, mimetype: str, ext: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="xinqu-new-areas.{ext}"'
    return response


def _csv(records: list[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel reads the Chinese names."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]) if records else ["id"],
                            lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(records)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx(records: list[dict[str, Any]]) -> bytes:
    # openpyxl is imported here, not at the top: only this download needs it, and it is
    # kept off the service's start-up path.
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "new-areas"
    columns = list(records[0]) if records else ["id"]
    sheet.append(columns)
    for record in records:
        sheet.append([record[c] for c in columns])
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@blueprint.get("/new-areas")
def new_areas():
    f = params.output_format(request, TABLE_FORMATS)
    sort = params.text(request, "sort", max_length=40)
    q = params.text(request, "q", max_length=table.Q_MAX)
    order = service().strings.name_order(lang())
    rows = table.sort_rows(table.filter_rows(_rows(), q), sort, order)
    if f == "json":
        return json_reply({"newAreas": rows, "numberMatched": len(rows),
                           "filters": {"sort": sort, "q": q}})
    if f == "csv":
        return _download(_csv(table.flat(rows)), CSV, "csv")
    if f == "xlsx":
        return _download(_xlsx(table.flat(rows)), XLSX, "xlsx")
    key, descending = table.check_sort(sort)
    return html_reply(render("new_areas.html", rows=rows, total=len(_rows()), q=q or "",
                             sort_key=key, descending=descending,
                             sort_keys=table.SORT_KEYS,
                             timeline=layout([(r["id"], pick(r["names"]), r["approved"])
                                              for r in _rows()]),
                             by_id={r["id"]: r for r in _rows()},
                             search_text={r["id"]: table.search_text(r) for r in rows}))


# --- /compare -----------------------------------------------------------------------------

def _place_choices() -> list[tuple[str, str, str]]:
    """(id, name, layer title) of every place, new areas first, for the compare form;
    made once per interface language."""
    cache_ = service().cache
    key = ("compare-choices", lang())
    if key not in cache_:
        store = service().store
        ids = query.layer_ids(store)
        layers = sorted(ids, key=lambda layer: (layer != table.LAYER, ids.index(layer)))
        cache_[key] = [(str(pid), pick(query.names(row)), title)
                       for layer in layers
                       for title in [pick(query.layer(store, layer)["title"])]
                       for pid, row in store.layers[layer].iterrows()]
    return cache_[key]


@blueprint.get("/compare")
def compare():
    f = params.output_format(request)
    # places=a,b as a link gives it, or places=a&places=b as the form (one select each)
    raw = ",".join(v.strip() for v in request.args.getlist("places") if v.strip()) or None
    if raw is not None and len(raw) > PLACES_MAX_LENGTH:
        raise query.QueryError("places", f"is longer than {PLACES_MAX_LENGTH} characters")
    if raw is None and f == "html":
        return html_reply(render("compare.html", result=None, chosen=[],
                                 choices=_place_choices()))
    store = service().store
    result = comparing.compare(store, comparing.parse_places(raw))
    if f == "json":
        return json_reply(result)
    infos = {p["layer"]: query.layer(store, p["layer"]) for p in result["places"]}
    documents = {d["id"]: d for d in query.documents(store)}
    return html_reply(render("compare.html", result=result, infos=infos, documents=documents,
                             chosen=[p["id"] for p in result["places"]],
                             choices=_place_choices()))


# --- /about -------------------------------------------------------------------------------

@cache
def _about_texts() -> dict[str, Any]:
    """data/about.yaml with every text completed to the three scripts."""
    data = yamlio.read(ABOUT_PATH)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if node and all(isinstance(v, str) for v in node.values()) and (
                    "en" in node and ("zh-Hans" in node or "zh" in node)):
                return complete(node)
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(data)


def boundary_licence() -> dict[str, str]:
    """The boundary data package, its version and licence, from its installed metadata."""
    meta = metadata.metadata(boundaries.PACKAGE)
    licence = meta.get("License-Expression") or meta.get("License") or ""
    return {"package": boundaries.PACKAGE, "version": meta.get("Version", ""),
            "licence": licence or "see the package"}


def _sources(store) -> list[dict[str, Any]]:
    """The documents with their dates, publishers and language versions, from the store."""
    frame = store.documents
    out = []
    for doc in query.documents(store):
        langs = str(frame.at[doc["id"], "langs"]) if "langs" in frame.columns else ""
        out.append({**doc, "langs": [v.strip() for v in langs.split(",") if v.strip()]})
    return out


@blueprint.get("/about")
def about():
    store = service().store
    texts = _about_texts()
    cite = next(s for s in texts["sections"] if s["id"] == "cite")
    example_id = cite["example_unit"]
    example = query.unit_summary(store, example_id)
    document = next(d for d in query.documents(store) if d["id"] == example["document"])
    citation = pick(cite["example"]).format(
        title=pick(document["title"]), publisher=pick(document["publisher"]),
        date=document["date"], unit=example_id,
        url=url_for("pages.unit", id=example_id, _external=True))
    if params.output_format(request) == "json":
        return json_reply({"sources": _sources(store), "boundaries": boundary_licence(),
                           "citation": citation})
    return html_reply(render("about.html", about=texts, sources=_sources(store),
                             licence=boundary_licence(), citation=citation))


@blueprint.get("/help")
def help_page():
    return redirect(url_for("planning.about", **request.args.to_dict()), code=302)


# --- OpenAPI ------------------------------------------------------------------------------

def openapi_paths() -> dict[str, Any]:
    languages = [*load_strings().languages, *ALIASES]
    lang_param = {**LANG_PARAM, "schema": {"type": "string", "enum": languages}}
    fmt = param("f", "query", "output format; default by the Accept header, else HTML",
                {"type": "string", "enum": list(TABLE_FORMATS)})
    return {
        "/new-areas": operation(
            "the table of the new areas with their facts (CSV and XLSX for spreadsheets)",
            [param("sort", "query", "a column to sort by, - in front for descending",
                   {"type": "string", "enum": [*table.SORT_KEYS,
                                               *(f"-{k}" for k in table.SORT_KEYS)]}),
             param("q", "query", "only areas whose names, province, regions or port contain "
                   "this text (any script)", {"type": "string", "maxLength": table.Q_MAX}),
             fmt, lang_param],
            content(JSON, HTML, CSV, XLSX), "getNewAreas", ["Planning"]),
        "/compare": operation(
            "places side by side: facts, the units naming each and those naming all",
            [param("places", "query", f"{comparing.MIN_PLACES} to {comparing.MAX_PLACES} "
                   "place ids, comma-separated", {"type": "string"}),
             param("f", "query", "output format", {"type": "string",
                                                   "enum": ["html", "json"]}), lang_param],
            content(JSON, HTML), "comparePlaces", ["Planning"]),
        "/about": operation(
            "sources, extent and precision, how links are made, how to cite, licences",
            [param("f", "query", "output format", {"type": "string",
                                                   "enum": ["html", "json"]}), lang_param],
            content(HTML, JSON), "getAbout", ["Planning"]),
        "/help": operation("the about page (redirect)", [lang_param], {}, "getHelp",
                           ["Planning"], success="302"),
    }

