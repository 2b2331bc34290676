"""The gazetteer: every place on the map, read and checked from `data/places/<layer>.yaml`.

Places are facts kept as reviewable text. Each file holds the places of one layer (the
file name is the layer id, which must be one of `data/layers.yaml`); each place has an
`id`, `names` in zh-Hans, zh-Hant and en, optional `short_names` (in any of the three,
where a name is too long for a map label: `{en: Pudong}`), `attributes`, a `geometry`
recipe and, for points, a `source`. The recipe is one of:

- `units: [adcode, …]` and/or `countries: [ISO3, …]`, with `extent: exact|approximate`
  and an optional `anchor: [lon, lat]` (required for approximate new areas): a polygon;
- `point: [lon, lat]`, `district: adcode`, `precision: site|district|city`: a point;
- `joins: [place id, …]`, optional `via: [place id, …]` and `layout: path|star`: a line.

Loading checks everything that can be checked without drawing: known layer, unique ids,
names in every language, a recipe that fits the layer's geometry type, administrative
and country codes that exist in the boundary data, corridor ends that are known places.
A bad entry raises GazetteerError naming the file and the entry. Whether a point lies in
its district is checked when the geometry is drawn (layers.geometry).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from geo import boundaries
from layers.paths import PLACES_DIR

LANGS = ("zh-Hans", "zh-Hant", "en")
GEOMETRY_TYPES = ("polygon", "point", "line")
EXTENTS = ("exact", "approximate")
POINT_PRECISIONS = ("site", "district", "city")
LAYOUTS = ("path", "star")
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

_RECIPE_KEYS = {
    "polygon": {"units", "countries", "extent", "anchor"},
    "point": {"point", "district", "precision"},
    "line": {"joins", "via", "layout"},
}
_PLACE_KEYS = {"id", "names", "short_names", "attributes", "geometry", "source"}


class GazetteerError(ValueError):
    """A gazetteer file or entry that cannot be used; the message names file and entry."""

    def __init__(self, message: str, file: str | None = None, entry: str | None = None):
        where = ": ".join(part for part in (file, f"entry {entry!r}" if entry else None) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.entry = entry


@dataclass(frozen=True)
class LayerMeta:
    """One map layer as declared in data/layers.yaml."""

    id: str
    geometry: str  # polygon | point | line
    title: dict[str, str]
    description: dict[str, str]
    display_tolerance_deg: float = 0.0
    order: int = 0
    extent_notes: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Place:
    """One place: its canonical id, layer, names, attributes and geometry recipe."""

    id: str
    layer: str
    names: dict[str, str]
    attributes: dict[str, Any]
    geometry: dict[str, Any]
    source: str | None = None
    file: str = field(default="", compare=False)
    short_names: dict[str, str] = field(default_factory=dict)  # label forms, by language

    @property
    def where(self) -> str:
        """File and entry, for messages."""
        return f"{self.file}: entry {self.id!r}"


@dataclass(frozen=True)
class Gazetteer:
    """All places by id, and the layers they belong to (in drawing order)."""

    places: dict[str, Place]
    layers: dict[str, LayerMeta]

    def in_layer(self, layer: str) -> list[Place]:
        """The places of one layer, in file order."""
        return [p for p in self.places.values() if p.layer == layer]

    def __getitem__(self, place_id: str) -> Place:
        return self.places[place_id]

    def __contains__(self, place_id: object) -> bool:
        return place_id in self.places

    def __len__(self) -> int:
        return len(self.places)


def load_layers(path: Path) -> dict[str, LayerMeta]:
    """The layers declared in data/layers.yaml, in file order."""
    name = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GazetteerError("layer list not found", file=str(path)) from None
    except yaml.YAMLError as error:
        raise GazetteerError(f"not valid YAML ({_first_line(error)})", file=name) from None
    if not isinstance(raw, list):
        raise GazetteerError("expected a list of layers", file=name)
    layers: dict[str, LayerMeta] = {}
    for order, item in enumerate(raw):
        lid = item.get("id") if isinstance(item, dict) else None
        if not isinstance(lid, str) or not ID_PATTERN.match(lid):
            raise GazetteerError(f"layer {order + 1} has no valid id", file=name)
        if lid in layers:
            raise GazetteerError("duplicate layer id", file=name, entry=lid)
        if item.get("geometry") not in GEOMETRY_TYPES:
            raise GazetteerError(f"geometry must be one of {', '.join(GEOMETRY_TYPES)}",
                                 file=name, entry=lid)
        layers[lid] = LayerMeta(
            id=lid,
            geometry=item["geometry"],
            title=_names(item.get("title"), name, lid, "title"),
            description=_names(item.get("description"), name, lid, "description"),
            display_tolerance_deg=float(item.get("display_tolerance_deg", 0.0)),
            order=order,
            extent_notes={extent: _names(notes, name, lid, f"extent_notes.{extent}")
                          for extent, notes in (item.get("extent_notes") or {}).items()},
        )
    return layers


def load_gazetteer(places_dir: Path = PLACES_DIR, layers_path: Path | None = None) -> Gazetteer:
    """Read and check every `<layer>.yaml` in places_dir; GazetteerError on any bad entry.

    `layers_path` defaults to `layers.yaml` in the folder above places_dir (data/).
    """
    places_dir = Path(places_dir)
    if layers_path is None:
        layers_path = places_dir.parent / "layers.yaml"
    layers = load_layers(Path(layers_path))
    files = sorted(places_dir.glob("*.yaml"), key=lambda f: _layer_order(f, layers))
    if not files:
        raise GazetteerError(f"no place files (*.yaml) in {places_dir}")
    places: dict[str, Place] = {}
    for file in files:
        layer = file.stem
        if layer not in layers:
            raise GazetteerError(
                f"unknown layer {layer!r} (the file name must be a layer id of "
                f"layers.yaml: {', '.join(layers)})", file=file.name)
        for place in _read_file(file, layers[layer]):
            if place.id in places:
                raise GazetteerError(f"duplicate id (already in {places[place.id].file})",
                                     file=file.name, entry=place.id)
            places[place.id] = place
    _check_references(places)
    return Gazetteer(places=places, layers=layers)


def _layer_order(file: Path, layers: dict[str, LayerMeta]) -> tuple[int, str]:
    meta = layers.get(file.stem)
    return (meta.order if meta else len(layers), file.stem)


def _read_file(file: Path, layer: LayerMeta) -> list[Place]:
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise GazetteerError(f"not valid YAML ({_first_line(error)})", file=file.name) from None
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise GazetteerError("expected a list of places", file=file.name)
    return [_place(item, n, file.name, layer) for n, item in enumerate(raw, 1)]


def _place(item: Any, n: int, file: str, layer: LayerMeta) -> Place:
    if not isinstance(item, dict):
        raise GazetteerError(f"entry {n} is not a mapping", file=file)
    pid = item.get("id")
    if not isinstance(pid, str) or not ID_PATTERN.match(pid):
        raise GazetteerError(
            f"entry {n}: id {pid!r} must be lower-case ASCII words joined by hyphens", file=file)
    unknown = set(item) - _PLACE_KEYS
    if unknown:
        raise GazetteerError(f"unknown keys {sorted(unknown)}", file=file, entry=pid)
    attributes = item.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise GazetteerError("attributes must be a mapping", file=file, entry=pid)
    source = item.get("source")
    if source is not None and not isinstance(source, str):
        raise GazetteerError("source must be text", file=file, entry=pid)
    recipe = _recipe(item.get("geometry"), layer, file, pid)
    if layer.geometry == "point" and not source:
        raise GazetteerError("a point needs a source (where its coordinates come from)",
                             file=file, entry=pid)
    names = _names(item.get("names"), file, pid, "names")
    return Place(
        id=pid,
        layer=layer.id,
        names=names,
        short_names=_short_names(item.get("short_names"), names, file, pid),
        attributes={k: _plain(v) for k, v in attributes.items()},
        geometry=recipe,
        source=source,
        file=file,
    )


def _names(value: Any, file: str, entry: str, what: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise GazetteerError(f"{what} must map {', '.join(LANGS)} to text", file=file,
                             entry=entry)
    missing = [lang for lang in LANGS if not isinstance(value.get(lang), str)
               or not value[lang].strip()]
    if missing:
        raise GazetteerError(f"{what} missing in {', '.join(missing)}", file=file, entry=entry)
    return {lang: value[lang].strip() for lang in LANGS}


def _short_names(value: Any, names: dict[str, str], file: str, entry: str) -> dict[str, str]:
    """The short forms a map label uses where the name is long: some of the languages,
    each text shorter than the name it stands for."""
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) - set(LANGS):
        raise GazetteerError(f"short_names must map some of {', '.join(LANGS)} to text",
                             file=file, entry=entry)
    out = {}
    for lang in LANGS:
        if lang not in value:
            continue
        text = value[lang].strip() if isinstance(value[lang], str) else ""
        if not text or len(text) >= len(names[lang]):
            raise GazetteerError(f"short_names.{lang} must be text shorter than the name",
                                 file=file, entry=entry)
        out[lang] = text
    return out


def _recipe(value: Any, layer: LayerMeta, file: str, pid: str) -> dict[str, Any]:
    def fail(message: str) -> GazetteerError:
        return GazetteerError(message, file=file, entry=pid)

    if not isinstance(value, dict):
        raise fail("geometry recipe missing")
    allowed = _RECIPE_KEYS[layer.geometry]
    unknown = set(value) - allowed
    if unknown:
        raise fail(f"geometry keys {sorted(unknown)} do not fit a {layer.geometry} layer "
                   f"(allowed: {', '.join(sorted(allowed))})")
    recipe = dict(value)
    if layer.geometry == "polygon":
        units = [_adcode(c, fail) for c in _list(recipe.get("units"), "units", fail)]
        countries = [_iso3(c, fail) for c in _list(recipe.get("countries"), "countries", fail)]
        if not units and not countries:
            raise fail("a polygon needs units (adcodes) or countries (ISO3 codes)")
        recipe["units"], recipe["countries"] = units, countries
        extent = recipe.get("extent", "exact")
        if extent not in EXTENTS:
            raise fail(f"extent must be one of {', '.join(EXTENTS)}")
        recipe["extent"] = extent
        if "anchor" in recipe:
            recipe["anchor"] = _lonlat(recipe["anchor"], "anchor", fail)
        elif extent == "approximate" and layer.id == "new-areas":
            raise fail("an approximate new area needs an anchor [lon, lat] at its core")
    elif layer.geometry == "point":
        recipe["point"] = _lonlat(recipe.get("point"), "point", fail)
        if "district" not in recipe:
            raise fail("a point needs the district (adcode) it lies in")
        recipe["district"] = _adcode(recipe["district"], fail)
        if recipe.get("precision") not in POINT_PRECISIONS:
            raise fail(f"precision must be one of {', '.join(POINT_PRECISIONS)}")
    else:
        joins = _list(recipe.get("joins"), "joins", fail)
        if len(joins) < 2:
            raise fail("a corridor joins at least two places")
        recipe["joins"] = [str(j) for j in joins]
        recipe["via"] = [str(v) for v in _list(recipe.get("via"), "via", fail)]
        recipe["layout"] = recipe.get("layout", "path")
        if recipe["layout"] not in LAYOUTS:
            raise fail(f"layout must be one of {', '.join(LAYOUTS)}")
    return recipe


def _list(value: Any, what: str, fail) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(f"{what} must be a list")
    return value


def _adcode(value: Any, fail) -> str:
    code = str(value).strip()
    if not (code.isdigit() and len(code) == 6):
        raise fail(f"administrative code {code!r} is not 6 digits")
    if not boundaries.exists(code) or boundaries.unit(code).datum != "GCJ-02":
        raise fail(f"administrative code {code} does not exist in "
                   f"{boundaries.PACKAGE} {boundaries.VERSION}")
    return code


def _iso3(value: Any, fail) -> str:
    code = str(value).strip().upper()
    if not (len(code) == 3 and code.isalpha()) or not boundaries.exists(code):
        raise fail(f"country code {code!r} does not exist in "
                   f"{boundaries.PACKAGE} {boundaries.VERSION}")
    return code


def _lonlat(value: Any, what: str, fail) -> tuple[float, float]:
    if not (isinstance(value, list | tuple) and len(value) == 2
            and all(isinstance(v, int | float) for v in value)):
        raise fail(f"{what} must be [lon, lat] in degrees")
    lon, lat = float(value[0]), float(value[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise fail(f"{what} [{lon}, {lat}] is not a WGS84 lon/lat")
    return (lon, lat)


def _plain(value: Any) -> Any:
    """YAML dates become ISO strings, so attributes are plain JSON-able values."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _check_references(places: dict[str, Place]) -> None:
    for place in places.values():
        for key in ("joins", "via"):
            for ref in place.geometry.get(key, []):
                if ref not in places:
                    raise GazetteerError(f"{key} names unknown place {ref!r}",
                                         file=place.file, entry=place.id)
                if ref == place.id:
                    raise GazetteerError(f"{key} names the corridor itself",
                                         file=place.file, entry=place.id)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
