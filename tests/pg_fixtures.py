"""Fixtures of the PostGIS tests: the project's cluster, a scratch database, the real built
store loaded into it, and that store opened for reading.

Test modules load them with `pytest_plugins = ["pg_fixtures"]`. The session fixture starts
the project's cluster with `scripts/db.sh start` (a failure to start fails the tests, with
the script's output) and stops it at the end if it started it. Loads go into a scratch
database `xinqu_test`, so a developer's `xinqu` database is left alone.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from layers.pgstore.connection import DEFAULT_URL, fresh_database
from layers.pgstore.load import load

REPO = Path(__file__).resolve().parent.parent


def cluster_url() -> str:
    """The URL of the project's cluster, on the port scripts/db.sh uses ($XINQU_PGPORT)."""
    return DEFAULT_URL
TEST_DB = "xinqu_test"
READ_DB = "xinqu_read"


@pytest.fixture(scope="session")
def pg_cluster():
    """The project's cluster, running (started here, and stopped after, if it was not)."""
    db = ["bash", str(REPO / "scripts" / "db.sh")]
    status = subprocess.run([*db, "status"], capture_output=True, text=True)
    started = status.returncode != 0
    if started:
        result = subprocess.run([*db, "start"], capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            pytest.fail(f"the project's PostgreSQL cluster did not start:\n{result.stdout}"
                        f"{result.stderr}")
    yield cluster_url()
    if started:
        subprocess.run([*db, "stop"], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def pg_url(pg_cluster):
    """A fresh scratch database with PostGIS and pg_trgm, on the project's cluster."""
    return fresh_database(TEST_DB, pg_cluster)


@pytest.fixture(scope="session")
def loaded(pg_url, store_path):
    """The real built store, loaded into the scratch database once."""
    return load(store_path, pg_url)


@pytest.fixture(scope="session")
def pg_read_url(pg_cluster, store_path):
    """A scratch database of its own holding the real built store, which no test reloads
    (the load tests replace what `xinqu_test` holds)."""
    url = fresh_database(READ_DB, pg_cluster)
    load(store_path, url)
    return url


@pytest.fixture(scope="session")
def pg_store(pg_read_url):
    """The real built store, opened as the PostGIS store the service reads."""
    from layers.pgstore.reader import PgStore

    store = PgStore.open(pg_read_url)
    yield store
    store.close()
