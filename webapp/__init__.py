"""The Flask service: map, pages, OGC API - Features and exports over the built store."""


def create_app(config: dict | None = None):
    """The Flask app factory (see webapp.app); imported lazily so the CLI starts fast."""
    from webapp.app import create_app as factory

    return factory(config)
