"""The document layer: policy texts parsed into units, the passages the map links to.

`loading.load_units()` reads every source in data/sources/ named by data/documents.yaml,
removes what the web capture added, recognises the numbering and aligns the language
versions. The build stores the result, so the service never parses again.

`ingest.read_document(path)` reads one file a user adds (txt, saved web page, Word, PDF,
in any script and the usual Chinese encodings) into its Document and Units.

The package itself imports nothing: a service that only needs the model (`model.LANGS`)
does not load the readers and their libraries. Import from the modules: `errors`,
`ingest`, `loading`, `model`, `registry`.
"""
