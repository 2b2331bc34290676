"""Where the project's data lives; XINQU_DATA points the whole service at another data folder."""

import os
from pathlib import Path

DATA_DIR = Path(os.environ.get("XINQU_DATA", Path(__file__).resolve().parent.parent / "data"))
SOURCES_DIR = DATA_DIR / "sources"
PLACES_DIR = DATA_DIR / "places"
LINKING_DIR = DATA_DIR / "linking"
BUILD_DIR = DATA_DIR / "build"
STORE_PATH = BUILD_DIR / "xinqu.gpkg"
