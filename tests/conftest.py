"""Shared fixtures: the repository's data folder and the built store.

Tests never touch the user's instance folder (instance/, or $XINQU_HOME): before anything
reads layers.paths, XINQU_HOME is set to tests/.home, an instance folder of the tests' own
with no added documents, so the store holds exactly the shipped documents. Subprocesses
(the CLI, `xinqu serve`) inherit it.

- `data_dir`: the project's data folder (layers.paths.DATA_DIR, or $XINQU_DATA).
- `store`: the real built store, `layers.store.Store.open(STORE_PATH)`, opened once per
  test session. If tests/.home/xinqu.gpkg is missing or older than any of its inputs
  (data facts, sources, geo/ and layers/ code: layers.build.store_inputs), the fixture
  first builds it with layers.build.build(), exactly as `xinqu build` does. Tests must
  treat it as read-only (it is shared by the whole session).
- `store_path`: the path of that built store, for tests that read it with GDAL/pyogrio.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ["XINQU_HOME"] = str(Path(__file__).resolve().parent / ".home")

from layers.paths import DATA_DIR, HOME_DIR, STORE_PATH  # read after XINQU_HOME is set


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The project's data folder."""
    return DATA_DIR


@pytest.fixture()
def home(tmp_path, store_path) -> Path:
    """An instance folder of the test's own, holding a copy of the built store and no added
    documents (XINQU_HOME for the code under test)."""
    folder = tmp_path / "home"
    folder.mkdir()
    shutil.copyfile(store_path, folder / "xinqu.gpkg")
    return folder


@pytest.fixture(scope="session")
def store_path() -> Path:
    """The built store, built first if missing or stale."""
    from layers.build import build, store_is_stale

    if store_is_stale(STORE_PATH, DATA_DIR):
        build(data_dir=DATA_DIR, store_path=STORE_PATH, home=HOME_DIR)
    return STORE_PATH


@pytest.fixture(scope="session")
def store(store_path):
    """The real built store, opened once (read-only for tests)."""
    from layers.store import Store

    return Store.open(store_path)
