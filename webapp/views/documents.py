"""Documents as pages and JSON: the list, one document with its units and places and map,
its original file; and, when an admin token is configured, adding documents by upload.

`POST /documents` takes the CLI's options as form fields (multipart, files in `file`),
with `dry_run=1` for a preview that saves nothing. It needs XINQU_ADMIN_TOKEN set, and the
token in the `X-Admin-Token` header or the `token` form field (never a cookie: a page on
another site cannot send it), else 403; bodies over the size limit answer 413.
"""

from __future__ import annotations

import hmac
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, current_app, request, send_file, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from layers import paths, stores
from layers.document_queries import document_detail, document_list
from layers.documents.model import LANGS
from layers.query import FULL_PAGE_MAX
from layers.userdocs import MAX_BYTES
from webapp import params
from webapp.ogcapi import (
    F_PARAM,
    FULL_PAGE_LIMIT_PARAM,
    HTML,
    JSON,
    LANG_PARAM,
    OFFSET_PARAM,
    content,
    operation,
    page_links,
    param,
)
from webapp.views.common import base_url, html_reply, json_reply, lang, render, service
from webapp.views.pages import _map_layers, _small_map

if TYPE_CHECKING:
    from layers.userdocs.intake import Options

# The readers, the linker and the registry (layers.userdocs.intake and .registry, with
# what they import) are imported by the handlers that use them, when first used: a
# starting service (and the most of its requests) does without them.

blueprint = Blueprint("documents", __name__)

TOKEN_HEADER = "X-Admin-Token"
TOKEN_CONFIG = "XINQU_ADMIN_TOKEN"
# Multipart framing around the files: the whole body may exceed the file limit by this.
FORM_OVERHEAD = 64 * 1024
MAX_FILES = 20
OPTION_FIELDS = ("id", "lang", "title", "date", "publisher", "url", "number")
FIELD_MAX = 500


@blueprint.record_once
def _setup(state) -> None:
    state.app.config.setdefault(TOKEN_CONFIG, os.environ.get(TOKEN_CONFIG) or None)


@blueprint.before_request
def _check_common_parameters() -> None:
    lang()


def _fresh(response: Response) -> Response:
    """Documents change at run time: caches must ask again each time (the ETag still saves
    the body)."""
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/documents")
def documents():
    store = service().store
    f = params.output_format(request)
    limit, offset = params.page(request, FULL_PAGE_MAX)  # a desk of thousands: a page
    found = document_list(store, limit, offset)
    matched = len(store.document_rows().index)
    links = page_links(base_url(), "/documents", {"lang": request.args.get("lang")},
                              matched, limit, offset, f)
    if f == "json":
        return _fresh(json_reply({"documents": found, "numberMatched": matched,
                                  "numberReturned": len(found), "links": links}))
    return _fresh(html_reply(render("documents.html", documents=found, links=links,
                                    number_matched=matched,
                                    uploads=bool(current_app.config.get(TOKEN_CONFIG)))))


@blueprint.get("/documents/<id>")
def document(id: str):
    store = service().store
    data = document_detail(store, id)
    data["original"] = url_for("documents.original", id=id, _external=True)
    if params.output_format(request) == "json":
        return _fresh(json_reply(data))
    layers = {p["layer"] for p in data["places"]}
    parts = None
    if layers:
        parts = _small_map(("document", id), lambda: [
            ml for ml in _map_layers(store, document=id) if ml.id in layers])
    return _fresh(html_reply(render("document.html", document=data, parts=parts)))


@blueprint.get("/documents/<id>/original")
def original(id: str):
    """The file the document was read from, byte for byte, as a download (never rendered
    here: an uploaded web page must not run as this site)."""
    from layers.userdocs.registry import load_registry, original_path

    store = service().store
    if id not in store.documents.index:
        abort(404, description=f"no document {id!r}")
    entry = next((e for e in load_registry(_home()) if e.id == id), None)
    if entry is not None:
        path, name = original_path(entry, _home()), entry.file
    else:
        row = store.documents.loc[id]
        names = [row.get(f"file_{lang_.replace('-', '_').lower()}") for lang_ in LANGS]
        name = next((str(n) for n in names if isinstance(n, str) and n), None)
        if name is None:
            abort(404, description=f"document {id!r} has no original file")
        path = paths.SOURCES_DIR / Path(name).name
    if not path.is_file():
        abort(404, description=f"the original of document {id!r} is missing")
    response = send_file(path, as_attachment=True, download_name=name,
                         mimetype="application/octet-stream")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    return _fresh(response)


# --- adding -------------------------------------------------------------------------------

def _home() -> Path:
    return Path(current_app.config.get("XINQU_HOME") or paths.HOME_DIR)


def _configured_token() -> str:
    token = current_app.config.get(TOKEN_CONFIG)
    if not token:
        abort(403, description="adding documents is disabled: no XINQU_ADMIN_TOKEN is "
                               "configured on the server")
    return token


def _check_token(token: str) -> None:
    given = request.headers.get(TOKEN_HEADER) or request.form.get("token") or ""
    if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
        abort(403, description=f"a valid admin token is needed (header {TOKEN_HEADER} or "
                               "form field token)")


@blueprint.get("/documents/new")
def upload_form():
    _configured_token()
    return _fresh(html_reply(render("documents_new.html", max_mb=MAX_BYTES // (1024 * 1024),
                                    langs=LANGS, form={}, results=None)))


def _options() -> Options:
    values = {}
    for name in OPTION_FIELDS:
        value = (request.form.get(name) or "").strip()
        if len(value) > FIELD_MAX:
            abort(400, description=f"{name}: longer than {FIELD_MAX} characters")
        values[name] = value or None
    if values["lang"] is not None and values["lang"] not in LANGS:
        abort(400, description=f"lang: must be one of {', '.join(LANGS)}")
    from layers.userdocs.intake import Options

    return Options(**values)


def _flag(name: str) -> bool:
    return (request.form.get(name) or "").lower() in ("1", "true", "on", "yes")


def _result(item, saved: bool) -> dict:
    doc = item.document
    return {
        "id": doc.id, "file": item.file_name, "title": doc.title, "date": doc.date,
        "publisher": doc.publisher, "number": doc.number, "url": doc.url,
        "langs": list(doc.versions), "replaced": item.replaces and saved, "saved": saved,
        "units": [{"id": u.id, "key": u.key, "kind": u.kind, "title": u.title,
                   "chapter_title": u.chapter_title, "places": item.places(u.id)}
                  for u in item.units],
        "places": sorted(set(item.links.loc[item.links["relation"].isin(("named", "via")),
                                            "place_id"])),
        "href": url_for("documents.document", id=doc.id, _external=True) if saved else None,
    }


@blueprint.post("/documents")
def add():
    token = _configured_token()
    request.max_content_length = MAX_BYTES + FORM_OVERHEAD
    try:
        request.form  # noqa: B018 -- parse the body now, so its size is checked first
    except RequestEntityTooLarge:
        abort(413, description=f"the upload is over the limit of {MAX_BYTES} bytes per file")
    _check_token(token)
    from layers.userdocs.intake import IntakeError, add_documents, check_file_name

    uploads = [f for f in request.files.getlist("file") if f and f.filename]
    if not uploads:
        abort(400, description="file: no file uploaded (multipart field 'file')")
    if len(uploads) > MAX_FILES:
        abort(400, description=f"file: at most {MAX_FILES} files at once")
    options, dry_run, replace = _options(), _flag("dry_run"), _flag("replace")
    with tempfile.TemporaryDirectory(prefix="xinqu-upload-") as folder:
        files = []
        for i, upload in enumerate(uploads):
            try:
                name = check_file_name(upload.filename, upload.filename)
            except IntakeError as error:
                abort(400, description=str(error))
            target = Path(folder) / str(i) / name
            target.parent.mkdir()
            upload.save(target)
            if target.stat().st_size > MAX_BYTES:
                abort(413, description=f"{name}: over the limit of {MAX_BYTES} bytes")
            files.append((target, name))
        try:
            done = add_documents(files, options, replace=replace, dry_run=dry_run,
                                 home=_home(), data_dir=paths.DATA_DIR,
                                 store_path=service().store.path,
                                 publish=stores.publisher(  # a database away: 503
                                     getattr(service().store, "url", None),
                                     stores.StoreUnavailable))
        except IntakeError as error:
            abort(400, description=str(error))
    results = [_result(item, not dry_run) for item in done]
    if params.output_format(request) == "json":
        response = json_reply({"dry_run": dry_run, "documents": results})
    else:
        form = {name: request.form.get(name, "") for name in OPTION_FIELDS}
        response = html_reply(render("documents_new.html", max_mb=MAX_BYTES // (1024 * 1024),
                                     langs=LANGS, form=form, results=results,
                                     dry_run=dry_run))
    response.status_code = 200 if dry_run else 201
    response.headers["Cache-Control"] = "no-store"
    return response


# --- OpenAPI ------------------------------------------------------------------------------

DOCUMENT_ID = param("documentId", "path", "a document id", {"type": "string"}, True)
_UPLOAD_FORM = {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {
        "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                 "description": f"policy text files, at most {MAX_BYTES} bytes each"},
        **{name: {"type": "string"} for name in OPTION_FIELDS},
        "dry_run": {"type": "boolean", "description": "preview only: save nothing"},
        "replace": {"type": "boolean", "description": "replace an added document"},
        "token": {"type": "string", "description": f"the admin token (or {TOKEN_HEADER})"},
    }}}}


def _error_answer(text: str) -> dict:
    return {"description": text,
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}}


def _with_forbidden(get: dict) -> dict:
    """A GET that answers 403 too (the upload form without an admin token configured)."""
    get["get"]["responses"]["403"] = _error_answer("adding documents is disabled")
    return get


def _post_operation() -> dict:
    error = _error_answer

    return {"post": {
        "summary": "add documents (admin token needed); dry_run=1 previews",
        "operationId": "addDocuments", "tags": ["Documents"],
        "parameters": [param(TOKEN_HEADER, "header", "the admin token", {"type": "string"}),
                       F_PARAM, LANG_PARAM],
        "requestBody": {"required": True, "content": _UPLOAD_FORM},
        "responses": {"201": {"description": "added", "content": content(JSON, HTML)},
                      "200": {"description": "dry run: what would be added",
                              "content": content(JSON, HTML)},
                      "400": error("a file or an option was refused; the body says why"),
                      "403": error("adding is disabled, or the token is missing or wrong"),
                      "413": error("the upload is over the size limit")}}}


openapi_paths = {
    "/documents": {
        **operation("every document: title, date, publisher, number, languages, units, "
                    "places", [FULL_PAGE_LIMIT_PARAM, OFFSET_PARAM, F_PARAM, LANG_PARAM],
                    content(JSON, HTML), "getDocuments",
                    ["Documents"]),
        **_post_operation()},
    "/documents/new": _with_forbidden(operation(
        "the upload form (only when an admin token is configured)", [LANG_PARAM],
        content(HTML), "getUploadForm", ["Documents"])),
    "/documents/{documentId}": operation(
        "one document: its units with their places, and a map of them",
        [DOCUMENT_ID, F_PARAM, LANG_PARAM], content(JSON, HTML), "getDocument", ["Documents"]),
    "/documents/{documentId}/original": operation(
        "the original file the document was read from, as a download",
        [DOCUMENT_ID], content("application/octet-stream"), "getDocumentOriginal",
        ["Documents"]),
}

