"""The document registry and the capture rules, both read from data/ YAML."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from layers.documents.errors import SourceError
from layers.documents.model import LANGS, Document
from layers.paths import DATA_DIR

REGISTRY_PATH = DATA_DIR / "documents.yaml"
CAPTURE_PATH = DATA_DIR / "capture.yaml"


def _read_yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise SourceError(path, f"cannot read: {error}") from error


def load_documents(path: Path = REGISTRY_PATH) -> list[Document]:
    """Every registered document, in registry order."""
    entries = _read_yaml(path)
    if not isinstance(entries, list):
        raise SourceError(path, "expected a list of documents")
    documents = []
    for entry in entries:
        try:
            document = Document(
                id=str(entry["id"]),
                title=dict(entry["title"]),
                date=str(entry["date"]),
                publisher=dict(entry["publisher"]),
                versions=dict(entry["versions"]),
                closing=int(entry.get("closing", 0)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise SourceError(path, f"bad entry {entry!r}: {error}") from error
        unknown = set(document.versions) - set(LANGS)
        if unknown:
            raise SourceError(path, f"{document.id}: unknown language {sorted(unknown)}")
        documents.append(document)
    return documents


@cache
def capture_rules(path: Path = CAPTURE_PATH) -> dict:
    """The facts about web captures the parser needs (chrome, punctuation, numbering)."""
    return _read_yaml(path)
