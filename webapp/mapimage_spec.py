"""What one map image shows: the request read into a `MapSpec`, checked before any drawing.

The filters are the interactive map's (`unit`, `document`, `chapter`, `kind`, the
strategy-region overlay `region`, the choropleth `mode`, `layers`, `lang`, `bbox`) and
they are checked by the code that applies them everywhere else (`layers.query`,
`layers.choropleth`), so one bad value answers the same 400 on items, the pages, the
map's JSON and the images. `width` or `dpi` size the page within the bounds of
data/planner.yaml (`map_image.size`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from layers import query, yamlio
from layers.choropleth import check_mode
from layers.paths import DATA_DIR
from webapp import params

FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
MM_PER_INCH = 25.4
STRATEGY_REGIONS = "strategy-regions"


@cache
def settings() -> dict:
    """The `map_image` section of data/planner.yaml."""
    return yamlio.read(DATA_DIR / "planner.yaml")["map_image"]


@dataclass(frozen=True)
class MapSpec:
    """One image request, normalised: the cache key.

    `layers` None means the default: new areas plus every layer holding a place the filter
    selects (`()`: no overlay). `lang` is an interface language; `names` the language
    version of place names. `bbox` (CRS84) is the part of the world shown; without it, the
    places selected (or China). `region` is `all` or a strategy region id; `mode` a
    choropleth mode. `dpi` None is the default resolution.
    """

    unit: str | None = None
    document: str | None = None
    layers: tuple[str, ...] | None = None
    lang: str = "en"
    names: str = "en"
    bbox: tuple[float, float, float, float] | None = None
    chapter: int | None = None
    kind: str | None = None
    region: str | None = None
    mode: str | None = None
    dpi: float | None = None

    @property
    def filtered(self) -> bool:
        """Whether a unit filter is set (places are then linked or not)."""
        return any(v is not None for v in (self.unit, self.document, self.chapter, self.kind))


def parse_layers(raw: str | None, known: list[str]) -> tuple[str, ...] | None:
    """`layers=a,b` as a tuple in drawing order (`none`: no overlay, as the map's
    permalink says it), or QueryError naming the unknown one."""
    if raw is None or not raw.strip():
        return None
    if raw.strip() == "none":
        return ()
    wanted = [part.strip() for part in raw.split(",") if part.strip()]
    for layer in wanted:
        if layer not in known:
            raise query.QueryError(
                "layers", f"unknown layer {layer[:60]!r}: use any of {', '.join(known)}")
    return tuple(layer for layer in known if layer in wanted)


def check_region(store, region: str | None) -> str | None:
    """`all`, a strategy region id, or QueryError naming `region`."""
    if region is None or region == "all":
        return region
    regions = store.layers.get(STRATEGY_REGIONS)
    known = [] if regions is None else [str(i) for i in regions.index]
    if region not in known:
        raise query.QueryError("region", f"no strategy region {region[:60]!r}: use all or one "
                                         f"of {', '.join(known)}")
    return region


def check_filters(store, unit: str | None, document: str | None, chapter: Any,
                  kind: str | None) -> int | None:
    """The filters checked by the code that applies them (`layers.query`); the chapter
    number."""
    query.filtered_units(store, unit, document, chapter)
    if kind is not None:
        query.check_kind(store, kind)
    return query.check_chapter(store, document, chapter)


def page_dpi(source: Any, config: dict) -> float | None:
    """`dpi`, or `width` (pixels of the PNG page) as a resolution, within the bounds of
    `config["size"]`; None for the default. QueryError naming the parameter otherwise."""
    size = config["size"]
    given = {name: params.text(source, name, max_length=20) for name in ("width", "dpi")}
    given = {name: raw for name, raw in given.items() if raw is not None}
    if len(given) > 1:
        raise query.QueryError("width", "give width or dpi, not both")
    if not given:
        return None
    ((name, raw),) = given.items()
    try:
        value = int(raw)
    except ValueError:
        raise query.QueryError(name, f"must be a whole number, not {raw[:40]!r}") from None
    low, high = size[f"{name}_range"]
    if not low <= value <= high:
        unit = "pixels" if name == "width" else "dots per inch"
        raise query.QueryError(name, f"must be {low}–{high} {unit}, not {value}")
    if name == "width":
        return round(value / (config["width_mm"] / MM_PER_INCH), 3)  # the width asked for
    return float(value)


def read_spec(source: Any, store, strings, config: dict) -> MapSpec:
    """The normalised image request from a request's query string (QueryError if bad)."""
    unit = params.text(source, "unit")
    document = params.text(source, "document")
    kind = params.text(source, "kind")
    chapter = check_filters(store, unit, document, params.text(source, "chapter"), kind)
    region = check_region(store, params.text(source, "region"))
    mode = params.text(source, "mode")
    if mode is not None:
        mode = check_mode(mode)
    layers = parse_layers(params.text(source, "layers", max_length=500), list(store.layers))
    lang = params.language(source, strings.languages)
    dpi = page_dpi(source, config)
    return MapSpec(unit=unit, document=document, chapter=chapter, kind=kind, region=region,
                   mode=mode, layers=layers, lang=lang, names=strings.name_order(lang)[0],
                   bbox=params.bbox(source), dpi=None if dpi == config["dpi"] else dpi)
