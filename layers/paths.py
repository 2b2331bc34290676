"""Where the project's data lives.

XINQU_DATA points the whole service at another (read-only) data folder; XINQU_HOME is the
instance folder that holds what a user adds at run time: the documents they add (their
originals and a registry) and the store built from the shipped and the added documents.
"""

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("XINQU_DATA", PROJECT_DIR / "data"))
SOURCES_DIR = DATA_DIR / "sources"
PLACES_DIR = DATA_DIR / "places"
LINKING_DIR = DATA_DIR / "linking"
BUILD_DIR = DATA_DIR / "build"

HOME_DIR = Path(os.environ.get("XINQU_HOME") or PROJECT_DIR / "instance")
STORE_PATH = HOME_DIR / "xinqu.gpkg"
