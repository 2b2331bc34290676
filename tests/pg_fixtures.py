"""The project's PostgreSQL cluster for the tests (a pytest plugin: `pytest_plugins =
["pg_fixtures"]`).

`pg_cluster` starts the cluster with `scripts/db.sh start` (a failure to start fails the
tests, with the script's output) and stops it at the end if it started it. It yields the
URL of the cluster's `xinqu` database: `layers.pgstore.DEFAULT_URL`, on port
$XINQU_PGPORT when that is set (as scripts/db.sh reads it).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from layers.pgstore import DEFAULT_URL

REPO = Path(__file__).resolve().parent.parent


def cluster_url() -> str:
    """The URL of the project's cluster, on the port scripts/db.sh uses."""
    port = os.environ.get("XINQU_PGPORT")
    return DEFAULT_URL.replace(":55432/", f":{port}/") if port else DEFAULT_URL


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
