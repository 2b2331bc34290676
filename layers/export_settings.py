"""What the export offers, from data/export.yaml and data/export-fields.yaml: the formats,
the coordinate systems of the menu, the shapefile field names, and the errors a request
can meet. Apart from `layers.export` (which writes the files, with GDAL) so that the web
app names the formats, draws the menu and lists the endpoint without loading the writers:
they are imported by the first export.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from geo.formats import CELL_MAX
from layers import yamlio
from layers.paths import DATA_DIR

__all__ = ["ALL", "CELL_MAX", "CSV_GEOMETRIES", "FIELDS_PATH", "LANGS", "SETTINGS_PATH",
           "CRSChoice", "ExportError", "ExportNotFound", "Format", "Settings", "format_ids",
           "settings"]

SETTINGS_PATH = DATA_DIR / "export.yaml"
FIELDS_PATH = DATA_DIR / "export-fields.yaml"
ALL = "all"
LANGS = ("zh-Hans", "zh-Hant", "en")
# What a CSV holds of the geometry (`geometry=`): by default no geometry column, which
# Excel could not hold (an outline's WKT runs to 400,000 characters), but a point per
# place (anchor_lon/anchor_lat, or lon/lat for a point layer); WKT only when asked.
CSV_GEOMETRIES = ("none", "wkt")


# --- errors ---------------------------------------------------------------------------------

class ExportError(ValueError):
    """A request that cannot be exported: `param` names what was wrong, `valid` what would do."""

    def __init__(self, param: str, message: str, valid: tuple[str, ...] = ()):
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message
        self.valid = tuple(valid)


class ExportNotFound(ExportError):
    """The layer or format named does not exist (an HTTP 404, not a 400)."""


# --- settings (data/export.yaml, data/export-fields.yaml) --------------------------------

@dataclass(frozen=True)
class Format:
    id: str
    media_type: str
    all_layers: bool
    wgs84_only: bool
    title: dict[str, str]


@dataclass(frozen=True)
class CRSChoice:
    code: str
    label: dict[str, str]
    group: dict[str, str]


@dataclass(frozen=True)
class Settings:
    default_crs: str
    formats: dict[str, Format]
    crs_choices: tuple[CRSChoice, ...]
    fields: dict[str, tuple[str, str]]  # column -> (shapefile name, meaning)
    menu: dict[str, dict[str, str]]  # strings of the export menu per language
    cache_bytes: int  # the bound of the kept whole-layer exports (layers.export_cache)
    made_ahead: tuple[str, ...] = ()  # formats kept when the store changes (export_ahead)


@functools.cache
def settings() -> Settings:
    """The export settings from data/ (read once)."""
    data = yamlio.read(SETTINGS_PATH)
    formats = {
        f["id"]: Format(id=f["id"], media_type=f["media_type"], all_layers=bool(f["all_layers"]),
                        wgs84_only=bool(f.get("wgs84_only", False)), title=dict(f["title"]))
        for f in data["formats"]}
    choices = []
    for group in data["crs_choices"]:
        for entry in group["entries"]:
            values = {k: v for k, v in entry.items() if k != "code"}
            label = entry.get("label") or {lang: text.format(**values)
                                           for lang, text in group["label"].items()}
            choices.append(CRSChoice(code=entry["code"], label=dict(label),
                                     group=dict(group["group"])))
    fields = yamlio.read(FIELDS_PATH)["fields"]
    return Settings(default_crs=data["default_crs"], formats=formats,
                    crs_choices=tuple(choices),
                    fields={column: (names[0], names[1]) for column, names in fields.items()},
                    menu={key: dict(value) for key, value in data["menu"].items()},
                    cache_bytes=int(float(data["cache_mb"]) * 1024 * 1024),
                    made_ahead=tuple(data.get("made_ahead") or ()))


def format_ids() -> tuple[str, ...]:
    return tuple(settings().formats)
