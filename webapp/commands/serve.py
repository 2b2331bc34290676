"""`xinqu serve`: run the web service under gunicorn, the production WSGI server.

The app (and so the built store) is loaded once in the master process before the
workers fork, so a missing store is reported as one line before anything listens, and
the workers share the loaded data. The map pages and the strong compressions of the fixed
bodies are made after that (webapp.app.warm_elsewhere, and warm() in a thread of each
worker), so the first answer waits for neither. The master loads with the garbage
collector off, and freezes what it loaded out of it before the workers fork
(`loading_without_gc`).

Workers are gunicorn's `gthread` with request heads read in the worker's event loop
(webapp.serve_worker): each runs a pool of threads, and a connection gets a thread only
once its request head has arrived, so connections that are idle (new or between
keep-alive requests) or half-way through their head wait in the loop, not in threads, and
cannot take every thread of a worker. Responses carry no `Server` header.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import socket
import threading
import time
from collections.abc import Iterator

from layers import tempfiles
from webapp.commands import store_option
from webapp.errors import UsageError

DEFAULT_WORKERS = 2
DEFAULT_THREADS = 8
KEEPALIVE = 5  # seconds an idle keep-alive connection is kept open
TIMEOUT = 60  # seconds without a heartbeat before the master restarts a worker
GRACEFUL_TIMEOUT = 20  # seconds a stopping worker gets to finish its requests
# A worker warms (renders the map pages, reads the kept compressions) this long after it
# starts, in a thread: its first answers do not share the interpreter with that work, and
# a map page asked for sooner is rendered for that request (the same body and ETag). The
# background process that keeps the store's snapshot and the strong compressions waits
# as long.
WARM_AFTER_S = 1.0


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve the map, pages and OGC API over the built store")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=_bounded("workers", 1, 64), default=DEFAULT_WORKERS,
                   help=f"worker processes (default {DEFAULT_WORKERS})")
    p.add_argument("--threads", type=_bounded("threads", 1, 64), default=DEFAULT_THREADS,
                   help=f"request threads per worker (default {DEFAULT_THREADS})")
    p.add_argument("--cache-mb", type=_bounded("cache size in MB", 1, 4096), default=None,
                   help="compressed bodies kept per worker, in MB (default: data/http.yaml)")
    p.add_argument("--access-log", action="store_true", help="log every request to stderr")
    store_option.add(p)
    p.set_defaults(func=run)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"port must lie within 1..65535, not {value}")
    return value


def _bounded(what: str, low: int, high: int):
    """An argparse type: a whole number within low..high."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of {what}: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must lie within {low}..{high}, not {value}")
        return value
    return parse


@contextlib.contextmanager
def loading_without_gc() -> Iterator[None]:
    """Load (libraries, the store, the app) with the cyclic garbage collector off, then
    freeze what was loaded out of it and turn it back on.

    A start allocates a great many objects that live as long as the server: the collector
    would scan the growing heap again and again (~80 ms of a 0.6 s start). Frozen, they are
    not scanned by the workers either, whose collections then walk only what requests
    make, nor written to by those scans (their pages stay shared after the fork)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def run(args) -> int:
    with loading_without_gc():
        app, address = _load(args)
    return _serve(args, app, address)


def _load(args):
    """The app over the store (the master's part before the workers fork), and the address
    its layers' links name."""
    from layers.stores import location
    from webapp import create_app  # Flask and the store: off the CLI's start-up path
    from webapp.limits import WorkerTokens

    # Half the threads of a worker, and one worker, stay free of exports and map images
    # (webapp.limits). The lock files live in this process's temporary folder: removed at
    # exit, or by the next process's sweep when this one is killed.
    locks = tempfiles.process_dir() / "serve-locks"
    locks.mkdir(exist_ok=True)
    config: dict = {"STORE_PATH": location(args.store),
                    "XINQU_HEAVY_SLOTS": max(1, args.threads // 2),
                    "XINQU_HEAVY_WORKERS": WorkerTokens(locks, max(1, args.workers - 1))}
    if args.cache_mb is not None:
        config["XINQU_CACHE_BYTES"] = args.cache_mb << 20
    app = create_app(config)  # raises UsageError when there is no built store
    _check_free(args.host, args.port)
    address = f"http://{_bind_host(args.host)}:{args.port}"  # the one its layers' links name
    close = getattr(app.extensions["xinqu"].store, "close", None)
    if close is not None:  # the workers make their own database connections after the fork
        close()
    return app, address


def _serve(args, app, address: str) -> int:
    """Run gunicorn's master over the loaded app until it is stopped."""
    from gunicorn.app.base import BaseApplication
    from gunicorn.http import wsgi

    from webapp.app import warm, warm_elsewhere
    from webapp.serve_worker import HeadFirstWorker

    # The map pages and their compressions are not needed for the first answer: one
    # low-priority process (forked here, with the collector on again) writes the strong
    # compressions no earlier start kept, and each worker renders the pages and takes up
    # the kept compressions in a thread of its own while it already answers (a request
    # meanwhile renders or compresses for itself: the same bodies, the same ETags).
    warm_elsewhere(app, address, after=WARM_AFTER_S)

    def warm_worker(worker) -> None:
        def later() -> None:
            time.sleep(WARM_AFTER_S)  # the first requests first: warm() would share the GIL
            try:
                warm(app, address, wait=False, later=False)
            except Exception:  # the pages are then rendered when first asked for
                worker.log.exception("warming the map pages failed")

        threading.Thread(target=later, name="xinqu-warm", daemon=True).start()

    _drop_server_header(wsgi.Response)  # before the workers fork: they all answer without it

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{_bind_host(args.host)}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("worker_class", HeadFirstWorker)
            self.cfg.set("threads", args.threads)
            self.cfg.set("keepalive", KEEPALIVE)
            self.cfg.set("timeout", TIMEOUT)
            self.cfg.set("graceful_timeout", GRACEFUL_TIMEOUT)
            self.cfg.set("preload_app", True)
            self.cfg.set("post_worker_init", warm_worker)
            self.cfg.set("proc_name", "xinqu")
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


def _drop_server_header(response_class: type) -> None:
    """gunicorn writes `Server: gunicorn` on every response, its own errors included: leave
    that line out (gunicorn is imported by run(), off the CLI's start-up path)."""
    if getattr(response_class, "xinqu_quiet", False):
        return
    default_headers = response_class.default_headers

    def quiet_headers(self) -> list[str]:
        return [line for line in default_headers(self)
                if not line.lower().startswith("server:")]

    response_class.default_headers = quiet_headers
    response_class.xinqu_quiet = True


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
