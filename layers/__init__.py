"""The domain: documents and units, the gazetteer, place linking, layers and the built store."""
