"""Documents a user adds at run time: kept in the instance folder, linked one at a time.

`layers.userdocs.registry` keeps the originals and the registry (XINQU_HOME/documents/,
XINQU_HOME/documents.yaml); `layers.userdocs.intake` parses, links and adds or removes a
document, updating the store atomically without a rebuild.
"""

from layers.userdocs.intake import (
    MAX_BYTES,
    IntakeError,
    Options,
    Prepared,
    add_documents,
    instance_lock,
    remove_document,
)
from layers.userdocs.registry import Entry, added_documents, load_registry, original_path

__all__ = ["MAX_BYTES", "Entry", "IntakeError", "Options", "Prepared", "add_documents",
           "added_documents", "instance_lock", "load_registry", "original_path",
           "remove_document"]
