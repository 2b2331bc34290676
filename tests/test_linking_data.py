"""Stored spans are exact, and the linking data is checked against the gazetteer on load:
an unknown id, an unknown rule or an alias that names two places stops the build."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
import yaml

from layers.documents.loading import load_units
from layers.gazetteer import load_gazetteer
from layers.linking import AmbiguousAliasError, Linker, LinkingError, UnknownPlaceError, link_units
from layers.paths import LINKING_DIR


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


@pytest.fixture(scope="module")
def units():
    return load_units()


@pytest.fixture(scope="module")
def linker(gazetteer):
    return Linker.load(gazetteer)


@pytest.fixture(scope="module")
def links(linker, units):
    return linker.link(units)


def test_every_span_cut_from_its_display_text_is_the_surface(units, links):
    texts = {(u.id, lang): text for u in units for lang, text in u.text.items()}
    assert len(links.mentions) > 300
    for m in links.mentions.itertuples(index=False):
        assert 0 <= m.start < m.end <= len(texts[m.unit_id, m.lang])
        assert texts[m.unit_id, m.lang][m.start:m.end] == m.surface, m


def test_every_surface_normalises_to_an_alias_of_its_place(linker, links):
    for m in links.mentions.itertuples(index=False):
        assert m.place_id in linker.lexicon.places_named_by(m.surface, m.lang), m


def test_mentions_have_the_contract_columns(links):
    assert list(links.mentions.columns) == ["unit_id", "place_id", "lang", "start", "end",
                                            "surface"]
    assert list(links.unit_places.columns) == ["unit_id", "place_id", "langs"]
    assert str(links.mentions["start"].dtype) == "int64"


def test_mentions_of_one_place_never_overlap(links):
    for _, rows in links.mentions.groupby(["unit_id", "lang", "place_id"]):
        spans = sorted(zip(rows["start"], rows["end"], strict=True))
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))


def test_every_alias_id_is_a_gazetteer_place(gazetteer):
    data = yaml.safe_load((LINKING_DIR / "aliases.yaml").read_text("utf-8"))
    ids = set(data["places"]) | {p for g in data["groups"] for p in g["places"]}
    assert ids <= set(gazetteer.places)


def linking_dir_with(tmp_path: Path, aliases: dict) -> Path:
    """A linking folder with the real rules.yaml and the given aliases."""
    shutil.copy(LINKING_DIR / "rules.yaml", tmp_path / "rules.yaml")
    (tmp_path / "aliases.yaml").write_text(yaml.safe_dump(aliases, allow_unicode=True),
                                           encoding="utf-8")
    return tmp_path


def test_an_alias_for_two_places_fails_naming_both(tmp_path, gazetteer, units):
    folder = linking_dir_with(tmp_path, {"places": {"xian": {"zh": ["古都"]},
                                                    "xianyang": {"zh": ["古都"]}}})
    with pytest.raises(AmbiguousAliasError) as caught:
        link_units(units, gazetteer, linking_dir=folder)
    message = str(caught.value)
    assert "'xian'" in message and "'xianyang'" in message and "古都" in message


def test_an_alias_equal_to_another_places_name_fails_naming_both(tmp_path, gazetteer, units):
    folder = linking_dir_with(tmp_path, {"places": {"pudong": {"zh": ["天津港"]}}})
    with pytest.raises(AmbiguousAliasError, match=r"port-tianjin.*pudong|pudong.*port-tianjin"):
        link_units(units, gazetteer, linking_dir=folder)


def test_an_english_alias_for_two_places_fails_after_folding(tmp_path, gazetteer):
    folder = linking_dir_with(tmp_path, {"places": {"xian": {"en": ["Old Capital"]},
                                                    "xianyang": {"en": ["old-capital"]}}})
    with pytest.raises(AmbiguousAliasError, match="xianyang"):
        Linker.load(gazetteer, folder)


def test_a_context_rule_lets_one_form_name_two_places(tmp_path, gazetteer):
    folder = linking_dir_with(tmp_path, {"places": {
        "xian": {"zh": ["古都"]},
        "xianyang": {"zh": [{"form": "古都", "when": "xixian-report"}]}}})
    linker = Linker.load(gazetteer, folder)
    assert linker.lexicon.places_named_by("古都", "zh-Hans") == {"xian", "xianyang"}


def test_an_unknown_place_id_fails_naming_it(tmp_path, gazetteer):
    folder = linking_dir_with(tmp_path, {"places": {"atlantis": {"zh": ["亚特兰蒂斯"]}}})
    with pytest.raises(UnknownPlaceError, match="atlantis"):
        Linker.load(gazetteer, folder)


def test_an_unknown_group_member_fails_naming_it(tmp_path, gazetteer):
    folder = linking_dir_with(tmp_path, {"groups": [{"places": ["hong-kong", "taipei"],
                                                     "zh": ["港台"]}]})
    with pytest.raises(UnknownPlaceError, match="taipei"):
        Linker.load(gazetteer, folder)


def test_an_unknown_context_rule_fails_naming_it(tmp_path, gazetteer):
    folder = linking_dir_with(tmp_path, {"places": {"xian": {
        "zh": [{"form": "古都", "when": "no-such-rule"}]}}})
    with pytest.raises(LinkingError, match="no-such-rule"):
        Linker.load(gazetteer, folder)


def test_a_malformed_entry_fails_naming_it(tmp_path, gazetteer):
    folder = linking_dir_with(tmp_path, {"places": {"xian": {"fr": ["Xian"]}}})
    with pytest.raises(LinkingError, match="xian"):
        Linker.load(gazetteer, folder)


def test_an_ambiguous_alias_fails_the_build_naming_both_places(tmp_path, data_dir):
    """The build stops with one line naming both places, and writes no store."""
    from layers.build import BuildError, build

    data = tmp_path / "data"
    shutil.copytree(data_dir, data, ignore=shutil.ignore_patterns("build"))
    aliases = yaml.safe_load((data / "linking" / "aliases.yaml").read_text("utf-8"))
    aliases["places"]["xianyang"] = {"zh": ["西安"]}  # 西安 is the gazetteer name of xian
    (data / "linking" / "aliases.yaml").write_text(
        yaml.safe_dump(aliases, allow_unicode=True), encoding="utf-8")
    store = tmp_path / "out" / "xinqu.gpkg"
    with pytest.raises(BuildError) as caught:
        build(data_dir=data, store_path=store)
    message = str(caught.value)
    assert "'xian'" in message and "'xianyang'" in message and "西安" in message
    assert "\n" not in message
    assert not store.exists()
