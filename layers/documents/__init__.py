"""The document layer: policy texts parsed into units, the passages the map links to.

`load_units()` reads every source in data/sources/ named by data/documents.yaml, removes
what the web capture added, recognises the numbering and aligns the language versions.
The build stores the result, so the service never parses again.
"""

from layers.documents.errors import SourceError
from layers.documents.ingest import ID_PATTERN, make_document_id, read_document
from layers.documents.loading import document_units, load_units
from layers.documents.model import KINDS, LANGS, Document, Unit
from layers.documents.registry import load_documents

__all__ = ["ID_PATTERN", "KINDS", "LANGS", "Document", "SourceError", "Unit", "document_units",
           "load_documents", "load_units", "make_document_id", "read_document"]
