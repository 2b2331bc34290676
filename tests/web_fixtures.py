"""Fixtures of the web service tests: the app on the real built store, and the real server.

Test modules load them with `pytest_plugins = ["web_fixtures"]`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts"
# Debian's Chromium, headless, with nothing that would reach for the network by itself.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


STORE_BACKENDS = ("geopackage", "postgis")


@pytest.fixture(scope="session", params=STORE_BACKENDS)
def web_store(request, store_path):
    """The real built store (the tests' instance folder), as `xinqu build` writes it: the
    GeoPackage, and the same store loaded into PostGIS (pg_fixtures), so that every test of
    the app runs on both stores."""
    from layers.store import Store

    if request.param == "postgis":
        request.config.pluginmanager.import_plugin("pg_fixtures")
        return request.getfixturevalue("pg_store")
    return Store.open(store_path)


@pytest.fixture(scope="session")
def gpkg_store(store_path):
    """The real built store read into memory (the GeoPackage store): what tests copy and
    edit (dataclasses.replace) to make hostile or odd data. Escaping and rendering are the
    pages' work whichever store gives them the text (tests/test_store_parity.py shows both
    stores give the same), so these run once."""
    from layers.store import Store

    return Store.open(store_path)


@pytest.fixture(scope="session")
def app(web_store):
    from webapp import create_app

    return create_app({"STORE": web_store, "TESTING": True})


# What a browser sends: the pages answer HTML to it, JSON to clients that do not prefer it.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def browser_client(app):
    """A test client that asks as a browser does (Accept prefers text/html); `f=` or an
    Accept header of a request override it."""
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT"] = BROWSER_ACCEPT
    return browser


@pytest.fixture(scope="session")
def as_browser():
    """browser_client, for fixtures that make their own app."""
    return browser_client


@pytest.fixture()
def client(app):
    return browser_client(app)


@pytest.fixture()
def program_client(app):
    """A test client that sends no Accept header, as many programs do."""
    return app.test_client()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: "
                               f"{log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server at {url} not up after {timeout}s")


@contextlib.contextmanager
def serving(env: dict[str, str], log: Path, *args: str) -> Iterator[str]:
    """`xinqu serve --workers 2` (gunicorn) on a free loopback port with `env`, its output in
    `log`; yields its base URL and stops it after."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "webapp.cli", "serve", "--host", "127.0.0.1", "--port",
             str(port), "--workers", "2", *args],
            cwd=REPO, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=sink, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/conformance?f=json", process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def live_server(web_store, tmp_path_factory):
    """`xinqu serve` (gunicorn) on a free loopback port; yields its base URL."""
    with serving(dict(os.environ), tmp_path_factory.mktemp("server") / "serve.log") as base:
        yield base


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for every browser test (Playwright drives it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
