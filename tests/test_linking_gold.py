"""The linker against gold annotations written by reading the documents (tests/gold/links.yaml).

Precision and recall of (unit, place) pairs in every language version, agreement of the
three ndrc-2024 versions, the units addressed to all new areas, and the roll-up.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from layers.documents.loading import load_units
from layers.gazetteer import load_gazetteer
from layers.geometry import build_layer_frames
from layers.linking import link_units, roll_up

GOLD = yaml.safe_load((Path(__file__).parent / "gold" / "links.yaml").read_text("utf-8"))
THRESHOLD = 0.97


@pytest.fixture(scope="module")
def units():
    return load_units()


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


@pytest.fixture(scope="module")
def links(units, gazetteer):
    return link_units(units, gazetteer)


def gold_pairs(units, lang: str) -> set[tuple[str, str]]:
    """(unit, place) pairs the gold says the `lang` version names."""
    pairs = set()
    for unit in units:
        if lang not in unit.text:
            continue
        entry = GOLD["units"].get(unit.id, {})
        for place in entry.get(lang, entry.get("all", [])):
            pairs.add((unit.id, place))
    return pairs


def found_pairs(links, lang: str) -> set[tuple[str, str]]:
    rows = links.mentions[links.mentions["lang"] == lang]
    return set(zip(rows["unit_id"], rows["place_id"], strict=True))


def test_gold_names_only_known_units_and_places(units, gazetteer):
    ids = {u.id for u in units}
    assert set(GOLD["units"]) <= ids
    for entry in GOLD["units"].values():
        for places in entry.values():
            assert set(places) <= set(gazetteer.places), set(places) - set(gazetteer.places)


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
def test_precision_and_recall_per_language_version(units, links, lang):
    gold = gold_pairs(units, lang)
    found = found_pairs(links, lang)
    assert gold, f"no gold pairs for {lang}"
    true = gold & found
    precision = len(true) / len(found) if found else 0.0
    recall = len(true) / len(gold)
    extra, missing = sorted(found - gold), sorted(gold - found)
    assert precision >= THRESHOLD, f"{lang} precision {precision:.3f}; extra: {extra}"
    assert recall >= THRESHOLD, f"{lang} recall {recall:.3f}; missing: {missing}"


def test_unit_places_lists_each_pair_once_with_its_versions(units, links):
    up = links.unit_places
    assert not up.duplicated(["unit_id", "place_id"]).any()
    for lang in ("zh-Hans", "zh-Hant", "en"):
        from_rows = {(u, p) for u, p, langs in up.itertuples(index=False)
                     if lang in langs.split(",")}
        assert from_rows == found_pairs(links, lang)


def test_ndrc_versions_name_the_same_places(units, links):
    """The three ndrc-2024 versions agree unit by unit, except the listed differences."""
    differences = GOLD["version_differences"] or {}
    for unit in units:
        if unit.document != "ndrc-2024":
            continue
        rows = links.mentions[links.mentions["unit_id"] == unit.id]
        sets = {lang: set(rows.loc[rows["lang"] == lang, "place_id"]) for lang in unit.text}
        assert set(sets) == {"zh-Hans", "zh-Hant", "en"}
        agree = sets["zh-Hans"] == sets["zh-Hant"] == sets["en"]
        if unit.id in differences:
            assert not agree, f"{unit.id} is listed as differing but the versions agree"
        else:
            assert agree, f"{unit.id}: {sets}"


def test_general_units_match_the_reading(links):
    assert links.general_units == GOLD["general"]


def test_no_mofcom_or_xixian_unit_is_general(links):
    assert not [u for u in links.general_units if not u.startswith("ndrc-2024:")]


def test_ndrc_9_is_general_although_zh_hans_reads_gaoxinqu(units, links):
    unit = next(u for u in units if u.id == "ndrc-2024:9")
    assert "高新区" in unit.text["zh-Hans"] and "新区" not in unit.text["zh-Hans"].replace(
        "高新区", "")
    assert "ndrc-2024:9" in links.general_units


@pytest.fixture(scope="module")
def layer_frames(gazetteer):
    return build_layer_frames(gazetteer)


def test_roll_up_by_spatial_join_matches_gold(links, layer_frames):
    rolled = roll_up(links.unit_places, layer_frames)
    assert list(rolled.columns) == ["unit_id", "place_id", "via_place_id"]
    got = set(map(tuple, rolled.itertuples(index=False)))
    assert got == {tuple(row) for row in GOLD["roll_up"]}


def test_roll_up_skips_new_areas_a_unit_already_names(links, layer_frames):
    rolled = roll_up(links.unit_places, layer_frames)
    named = set(zip(links.unit_places["unit_id"], links.unit_places["place_id"], strict=True))
    assert not [r for r in rolled.itertuples(index=False) if (r.unit_id, r.place_id) in named]
    # xixian-2023:1.4 names Lijia Smart Park (a site point in Liangjiang) and Liangjiang
    # itself: no via row for it.
    assert ("xixian-2023:1.4", "liangjiang") in named
