"""`xinqu serve`: run the web service under gunicorn, the production WSGI server.

The app (and so the built store) is loaded once in the master process before the
workers fork, so a missing store is reported as one line before anything listens, and
the workers share the loaded data.
"""

from __future__ import annotations

import argparse
import socket

from webapp.errors import UsageError

DEFAULT_WORKERS = 2


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve the map, pages and OGC API over the built store")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=_workers, default=DEFAULT_WORKERS,
                   help=f"worker processes (default {DEFAULT_WORKERS})")
    p.add_argument("--access-log", action="store_true", help="log every request to stderr")
    p.set_defaults(func=run)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"port must lie within 1..65535, not {value}")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of workers: {text!r}") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"workers must lie within 1..64, not {value}")
    return value


def run(args) -> int:
    from gunicorn.app.base import BaseApplication

    from webapp import create_app
    from webapp.app import warm

    app = create_app()  # raises UsageError when there is no built store
    _check_free(args.host, args.port)
    warm(app)

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{_bind_host(args.host)}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("preload_app", True)
            self.cfg.set("proc_name", "xinqu")
            self.cfg.set("timeout", 60)
            if "control_socket_disable" in self.cfg.settings:  # no admin socket in $HOME
                self.cfg.set("control_socket_disable", True)
            if args.access_log:
                self.cfg.set("accesslog", "-")

        def load(self):
            return app

    try:
        Server().run()
    except SystemExit as stop:
        if stop.code not in (0, None):
            raise UsageError(f"the server stopped (exit {stop.code}); is port {args.port} free?"
                             ) from None
    return 0


def _check_free(host: str, port: int) -> None:
    """Say at once, in one line, when the address cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def _bind_host(host: str) -> str:
    """IPv6 literals need brackets in a bind address."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
