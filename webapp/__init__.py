"""The Flask service: map, pages, OGC API - Features and exports over the built store."""
