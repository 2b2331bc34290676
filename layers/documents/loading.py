"""Every registered document parsed into units, its language versions aligned by key."""

from __future__ import annotations

from pathlib import Path

from layers.documents.cleaning import clean_capture
from layers.documents.errors import SourceError
from layers.documents.model import LANGS, Document, Unit
from layers.documents.reading import read_source
from layers.documents.registry import load_documents
from layers.documents.structure import VersionUnit, parse_version
from layers.paths import SOURCES_DIR
from layers.textnorm import convert, normalize

# How to carry a chapter title over from another Chinese version when a capture lost it.
_SCRIPT_CONVERSION = {("zh-Hans", "zh-Hant"): "s2t", ("zh-Hant", "zh-Hans"): "t2s"}


def parse_source(path: Path, lang: str, closing: int = 0) -> list[VersionUnit]:
    """The units of one source file; a body captured twice is kept once.

    Every unit of a later copy must equal the same unit of the first copy: a capture
    whose copies differ cannot say which one is right, so it is rejected.
    """
    copies = [parse_version(copy, lang, path, closing)
              for copy in clean_capture(read_source(path), path, lang)]
    first = {unit.key: unit for unit in copies[0]}
    for copy in copies[1:]:
        for unit in copy:
            kept = first.get(unit.key)
            if kept is None:
                raise SourceError(path, f"the body appears again at line {unit.line} with a "
                                        f"unit {unit.key} the first copy lacks")
            if normalize(kept.text, lang) != normalize(unit.text, lang):
                raise SourceError(path, f"the body appears twice and the copies of unit "
                                        f"{unit.key} differ (lines {kept.line} and {unit.line})")
    return copies[0]


def _chapter_titles(document: Document, versions: dict[str, list[VersionUnit]],
                    index: int) -> dict[str, str]:
    """The chapter title of unit `index` in every version, a lost one filled from another."""
    titles = {lang: units[index].chapter_title for lang, units in versions.items()}
    for lang, title in titles.items():
        if title is not None:
            continue
        for (source, target), config in _SCRIPT_CONVERSION.items():
            if target == lang and titles.get(source):
                titles[lang] = convert(titles[source], config)
                break
        else:
            unit = versions[lang][index]
            raise SourceError(document.versions[lang],
                              f"chapter {unit.chapter_number} has no heading (line "
                              f"{unit.line}) and no other Chinese version supplies one")
    return {lang: title for lang, title in titles.items() if title}


def document_units(document: Document, sources_dir: Path = SOURCES_DIR) -> list[Unit]:
    """The units of one document, each with the texts of all its language versions."""
    versions = {
        lang: parse_source(sources_dir / document.versions[lang], lang, document.closing)
        for lang in LANGS if lang in document.versions
    }
    reference_lang, reference = next(iter(versions.items()))
    keys = [unit.key for unit in reference]
    for lang, units in versions.items():
        other = [unit.key for unit in units]
        if other != keys:
            missing = [k for k in keys if k not in other]
            extra = [k for k in other if k not in keys]
            raise SourceError(
                document.versions[lang],
                f"units do not line up with the {reference_lang} version "
                f"(missing {missing or 'none'}, extra {extra or 'none'}, or out of order)")
    for lang, units in versions.items():
        for unit, other in zip(reference, units, strict=True):
            if unit.chapter_number != other.chapter_number:
                raise SourceError(
                    document.versions[lang],
                    f"unit {unit.key} is in chapter {other.chapter_number} (line {other.line}) "
                    f"but in chapter {unit.chapter_number} in the {reference_lang} version")
    out = []
    for index, unit in enumerate(reference):
        out.append(Unit(
            id=f"{document.id}:{unit.key}",
            document=document.id,
            key=unit.key,
            kind=unit.kind,
            order=index,
            chapter_number=unit.chapter_number,
            chapter_title=(_chapter_titles(document, versions, index)
                           if unit.chapter_number is not None else {}),
            title={lang: units[index].title for lang, units in versions.items()},
            text={lang: units[index].text for lang, units in versions.items()},
        ))
    return out


def load_units(sources_dir: Path = SOURCES_DIR) -> list[Unit]:
    """All units of all registered documents, in registry order then document order."""
    return [unit for document in load_documents()
            for unit in document_units(document, sources_dir)]
