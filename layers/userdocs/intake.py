"""Adding, replacing and removing a document at run time, without a rebuild.

Only the new document is parsed and linked (with the gazetteer, and the store's layers for
the roll-up); its rows go into a copy of the store that then replaces it (os.replace),
with the registry and the original put in place alongside. A document that cannot be
read, an id that exists or is unsafe, a file too large: an IntakeError naming the file
and the problem, and the store, the registry and the originals stay as they were.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from layers import tempfiles
from layers.documents.errors import SourceError
from layers.documents.ingest import ID_PATTERN, read_document
from layers.documents.model import Document, Unit
from layers.documents.registry import load_documents
from layers.linking import LinkingError
from layers.paths import DATA_DIR, HOME_DIR
from layers.store import next_generation, updated_copy
from layers.store_place import file_stamp
from layers.tables import ADDED, documents_table, link_frames, units_table
from layers.userdocs import MAX_BYTES
from layers.userdocs.context import LinkingContextError, linking_context
from layers.userdocs.registry import (
    Entry,
    load_registry,
    originals_dir,
    registry_path,
    staged_registry,
)

STORE_NAME = "xinqu.gpkg"
# Puts an updated store copy (a GeoPackage) into a database store, all or nothing.
Publish = Callable[[Path], None]


class IntakeError(RuntimeError):
    """Why a document was not added or removed, in one line naming the file or id."""


@dataclass(frozen=True)
class Options:
    """What the user says about a document; None: detect it from the text."""

    id: str | None = None
    lang: str | None = None
    title: str | None = None
    date: str | None = None
    publisher: str | None = None
    url: str | None = None
    number: str | None = None


@dataclass
class Prepared:
    """One document parsed and linked, ready to be saved (or shown by a dry run)."""

    source: Path
    file_name: str
    document: Document
    units: list[Unit]
    mentions: pd.DataFrame
    links: pd.DataFrame
    replaces: bool = False

    def places(self, unit_id: str) -> list[str]:
        """The places a unit is linked to (named or via), in id order."""
        rows = self.links[(self.links["unit_id"] == unit_id)
                          & self.links["relation"].isin(("named", "via"))]
        return sorted(set(rows["place_id"]))


def check_file_name(name: str, where: str) -> str:
    """A file name safe to keep under the instance folder (no folders, no hidden files)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if (not base or base.startswith(".") or len(base.encode("utf-8")) > 200
            or any(ord(c) < 32 for c in base)):
        raise IntakeError(f"{where}: unsafe file name {name!r}")
    return base


# Ids the web pages use as path segments under /documents/.
RESERVED_IDS = ("new",)


def _check_id(doc_id: str, where: str) -> None:
    if not ID_PATTERN.match(doc_id) or doc_id in RESERVED_IDS:
        raise IntakeError(f"{where}: unsafe document id {doc_id!r}: use lower-case letters, "
                          "digits and inner hyphens")


def _prepare(path: Path, name: str, options: Options, shipped: set[str], added: set[str],
             replace_: bool, data_dir: Path, store: Path) -> Prepared:
    if options.id is not None:
        _check_id(options.id, name)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise IntakeError(f"{name}: cannot read the file ({error.strerror})") from None
    if not path.is_file():
        raise IntakeError(f"{name}: not a file")
    if size > MAX_BYTES:
        raise IntakeError(f"{name}: {size} bytes, over the limit of {MAX_BYTES} bytes")
    if size == 0:
        raise IntakeError(f"{name}: empty file: no text to add")
    try:
        document, units = read_document(
            path, doc_id=options.id, lang=options.lang, title=options.title, date=options.date,
            publisher=options.publisher, url=options.url, number=options.number)
    except SourceError as error:
        raise IntakeError(f"{name}: {error.problem}") from None
    _check_id(document.id, name)
    if document.id in shipped:
        raise IntakeError(f"{name}: id {document.id!r} is a document shipped with the data; "
                          "give another --id")
    if document.id in added and not replace_:
        raise IntakeError(f"{name}: a document with id {document.id!r} exists; "
                          "add it with --replace to replace it")
    document = replace(document, versions=dict.fromkeys(document.versions, name))
    try:
        loaded = linking_context(data_dir, store)
    except LinkingContextError as error:
        raise IntakeError(str(error)) from None
    try:
        mentions, links = link_frames(units, loaded.gazetteer, loaded.layers,
                                      data_dir / "linking", loaded.linker)
    except LinkingError as error:
        raise IntakeError(f"{name}: {' '.join(str(error).split())}") from None
    return Prepared(path, name, document, units, mentions, links,
                    replaces=document.id in added)


@contextmanager
def instance_lock(home: Path) -> Iterator[None]:
    """One writer at a time per instance folder (adds, removes, web workers, `xinqu build`),
    so a rebuild and an add never replace the store from two different starting points."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _store_path(home: Path, store_path: Path | None) -> Path:
    path = Path(store_path) if store_path else home / STORE_NAME
    if file_stamp(path) is None:
        raise IntakeError(f"no built store at {path}: run `xinqu build` first")
    return path


def add_documents(files: list[tuple[Path, str]], options: Options = Options(), *,
                  replace: bool = False, dry_run: bool = False, home: Path = HOME_DIR,
                  data_dir: Path = DATA_DIR, store_path: Path | None = None,
                  publish: Publish | None = None) -> list[Prepared]:
    """Parse and link each (path, original file name); unless `dry_run`, save them all.

    All or nothing: any file that fails stops the add before anything is written.
    `publish` (for a database store) receives the updated GeoPackage before it is put in
    place; if it raises, nothing is changed.
    """
    home, data_dir = Path(home), Path(data_dir)
    if options.id is not None and len(files) > 1:
        raise IntakeError("--id names one document: give one file with it")
    with instance_lock(home):
        store = _store_path(home, store_path)
        try:
            shipped = {d.id for d in load_documents(data_dir / "documents.yaml")}
            entries = load_registry(home)
        except SourceError as error:
            raise IntakeError(str(error)) from None
        added = {e.id for e in entries}
        prepared: list[Prepared] = []
        for path, name in files:
            name = check_file_name(name, str(name))
            item = _prepare(Path(path), name, options, shipped, added, replace, data_dir, store)
            if any(p.document.id == item.document.id for p in prepared):
                raise IntakeError(f"{name}: id {item.document.id!r} is given twice in this add")
            prepared.append(item)
        if not dry_run:
            _save(home, store, entries, prepared, publish)
    return prepared


def _entry(item: Prepared) -> Entry:
    doc = item.document
    lang = next(iter(doc.versions))
    return Entry(id=doc.id, file=item.file_name, lang=lang, title=doc.title.get(lang, ""),
                 date=doc.date, publisher=doc.publisher.get(lang, ""), number=doc.number,
                 url=doc.url, added=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                 sha256=hashlib.sha256(item.source.read_bytes()).hexdigest())


STAGING_PREFIX = ".staging-"  # originals being added, beside the documents' folders


def _save(home: Path, store: Path, entries: list[Entry], prepared: list[Prepared],
          publish: Publish | None = None) -> None:
    """Stage the originals, the registry and the store; then put them in place."""
    new = {item.document.id: _entry(item) for item in prepared}
    kept = [new.pop(e.id, e) for e in entries]  # a replaced entry keeps its place
    registry = [*kept, *new.values()]
    tables = {
        "documents": documents_table([p.document for p in prepared], origin=ADDED),
        "units": units_table([u for p in prepared for u in p.units]),
        "mentions": pd.concat([p.mentions for p in prepared], ignore_index=True),
        "links": pd.concat([p.links for p in prepared], ignore_index=True),
    }
    originals = originals_dir(home)
    originals.mkdir(parents=True, exist_ok=True)
    for stale in originals.glob(STAGING_PREFIX + "*"):  # a killed add's (the lock is ours)
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=originals))
    staged_store = staged_list = None
    try:
        for item in prepared:
            (staging / item.document.id).mkdir()
            shutil.copyfile(item.source, staging / item.document.id / item.file_name)
        staged_list = staged_registry(registry, home)
        staged_store = updated_copy(store, [p.document.id for p in prepared if p.replaces],
                                    tables, next_generation(store))
        if publish is not None:
            publish(staged_store)
        _put_in_place(originals, staging, [p.document.id for p in prepared])
        os.replace(staged_list, registry_path(home))
        os.replace(staged_store, store)
    finally:
        _discard(staged_list, staged_store)
        shutil.rmtree(staging, ignore_errors=True)


def _discard(*staged: Path | None) -> None:
    """Remove staged files a failed update left (a store copy with its SQLite side files)."""
    for path in staged:
        if path is not None:
            tempfiles.release(path)


def _put_in_place(originals: Path, staging: Path, ids: list[str]) -> None:
    """Each staged originals folder replaces the document's folder (a replaced one goes)."""
    for doc_id in ids:
        target = originals / doc_id
        if target.exists():
            old = staging / f".old-{doc_id}"
            os.replace(target, old)
        os.replace(staging / doc_id, target)


def remove_document(doc_id: str, *, home: Path = HOME_DIR, data_dir: Path = DATA_DIR,
                    store_path: Path | None = None, publish: Publish | None = None) -> Entry:
    """Remove an added document: its rows from the store, its entry and its original
    (`publish` as for add_documents)."""
    home = Path(home)
    with instance_lock(home):
        store = _store_path(home, store_path)
        try:
            entries = load_registry(home)
            shipped = {d.id for d in load_documents(Path(data_dir) / "documents.yaml")}
        except SourceError as error:
            raise IntakeError(str(error)) from None
        found = next((e for e in entries if e.id == doc_id), None)
        if found is None:
            if doc_id in shipped:
                raise IntakeError(f"{doc_id}: shipped with the data; only added documents "
                                  "can be removed")
            raise IntakeError(f"{doc_id}: no such added document (see `xinqu documents list`)")
        staged_list = staged_registry([e for e in entries if e.id != doc_id], home)
        staged_store = None
        try:
            staged_store = updated_copy(store, [doc_id], {}, next_generation(store))
            if publish is not None:
                publish(staged_store)
            os.replace(staged_list, registry_path(home))
            os.replace(staged_store, store)
        finally:
            _discard(staged_list, staged_store)
        shutil.rmtree(originals_dir(home) / doc_id, ignore_errors=True)
    return found
