"""The instance folder's document registry and originals.

XINQU_HOME/documents.yaml lists the added documents in the order they were added, with
the metadata they were added with; XINQU_HOME/documents/<id>/<file name> holds each
original byte for byte. A full build reads them back through the same reader as the add.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import yaml

from layers.documents.errors import SourceError
from layers.documents.ingest import read_document
from layers.documents.model import Document, Unit
from layers.paths import HOME_DIR

REGISTRY_NAME = "documents.yaml"
# libyaml's parser and emitter when present: the registry grows with every document added.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
ORIGINALS_NAME = "documents"


@dataclass(frozen=True)
class Entry:
    """One added document as the registry keeps it (empty string: not known)."""

    id: str
    file: str  # the original's file name, under documents/<id>/
    lang: str
    title: str = ""
    date: str = ""
    publisher: str = ""
    number: str = ""
    url: str = ""
    added: str = ""  # when it was added (UTC, ISO 8601)
    sha256: str = ""  # of the original


def registry_path(home: Path = HOME_DIR) -> Path:
    return Path(home) / REGISTRY_NAME


def originals_dir(home: Path = HOME_DIR) -> Path:
    return Path(home) / ORIGINALS_NAME


def original_path(entry: Entry, home: Path = HOME_DIR) -> Path:
    return originals_dir(home) / entry.id / entry.file


def load_registry(home: Path = HOME_DIR) -> list[Entry]:
    """The added documents; none when the instance folder or its registry does not exist."""
    path = registry_path(home)
    if not path.exists():
        return []
    try:
        entries = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise SourceError(path, f"cannot read: {' '.join(str(error).split())}") from error
    if not isinstance(entries, list):
        raise SourceError(path, "expected a list of documents")
    known = {f.name for f in fields(Entry)}
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or not {"id", "file", "lang"} <= set(entry):
            raise SourceError(path, f"entry {entry!r} lacks one of id, file, lang")
        out.append(Entry(**{k: "" if v is None else str(v) for k, v in entry.items()
                            if k in known}))
    return out


def registry_text(entries: list[Entry]) -> str:
    header = ("# Documents added to this instance (`xinqu documents add`); the originals are\n"
              "# under documents/<id>/. Edit through `xinqu documents`, not by hand.\n")
    body = [{k: v for k, v in asdict(e).items() if v != ""} for e in entries]
    return header + (yaml.dump(body, Dumper=_DUMPER, allow_unicode=True, sort_keys=False)
                     if body else "[]\n")


def staged_registry(entries: list[Entry], home: Path = HOME_DIR) -> Path:
    """The registry with `entries`, written next to the real one (put in place by the caller
    with os.replace)."""
    path = registry_path(home)
    fd, name = tempfile.mkstemp(prefix=".documents-", suffix=".yaml.tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(registry_text(entries))
        out.flush()
        os.fsync(out.fileno())
    return Path(name)


def read_entry(entry: Entry, home: Path = HOME_DIR) -> tuple[Document, list[Unit]]:
    """An added document read again from its original, with the metadata it was added with."""
    return read_document(original_path(entry, home), doc_id=entry.id, lang=entry.lang or None,
                         title=entry.title or None, date=entry.date or None,
                         publisher=entry.publisher or None, url=entry.url or None,
                         number=entry.number or None)


def added_documents(home: Path = HOME_DIR) -> list[tuple[Document, list[Unit]]]:
    """Every added document with its units, in registry order (for a full build)."""
    return [read_entry(entry, home) for entry in load_registry(home)]
