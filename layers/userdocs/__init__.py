"""Documents a user adds at run time: kept in the instance folder, linked one at a time.

`layers.userdocs.registry` keeps the originals and the registry (XINQU_HOME/documents/,
XINQU_HOME/documents.yaml); `layers.userdocs.intake` parses, links and adds or removes a
document, updating the store atomically without a rebuild.

The package itself holds only the size bound, so that a service names it (in its upload
form and its OpenAPI document) without loading the readers and the linker, which only an
upload needs.
"""

MAX_BYTES = 20 * 1024 * 1024  # an upload or a file to add may be this large at most
