"""Flask blueprints: thin adapters from requests to layers.query and webapp.ogcapi."""
