"""WSGI entry point for any server: `gunicorn webapp.wsgi:app` (with --preload, the
fixed bodies are compressed once in the master; without it, once per worker).
`xinqu serve` adds what only it can: threads by default and no `Server` header."""

from webapp import create_app
from webapp.app import warm

app = create_app()
warm(app)
