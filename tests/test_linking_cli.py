"""`xinqu links` on the real built store (the shared `store` fixture), and the store's link
tables as the build wrote them."""

from __future__ import annotations

import json

import pytest

from layers.documents.loading import load_units
from layers.gazetteer import load_gazetteer
from layers.linking import link_units
from webapp.cli import main

SUFFIX = {"zh-Hans": "zh_hans", "zh-Hant": "zh_hant", "en": "en"}


@pytest.fixture(autouse=True)
def built(store):
    """`xinqu links` reads the built store: the shared fixture builds it when stale."""
    return store


def run_json(capsys, *args) -> dict:
    assert main(["links", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_unit_lists_its_places_named_and_via(capsys):
    out = run_json(capsys, "--unit", "ndrc-2024:13")
    named = {r["place_id"] for r in out["links"] if r["relation"] == "named"}
    assert named == {"port-shanghai", "port-ningbo-zhoushan", "port-dalian", "port-tianjin",
                     "port-qingdao", "port-guangzhou"}
    via = {(r["place_id"], r["via_place_id"]) for r in out["links"] if r["relation"] == "via"}
    assert ("pudong", "port-shanghai") in via and ("binhai", "port-tianjin") in via
    assert {r["unit_id"] for r in out["links"] + out["mentions"]} == {"ndrc-2024:13"}


def test_unit_mentions_are_spans_of_the_stored_display_text(capsys, store):
    out = run_json(capsys, "--unit", "ndrc-2024:14")
    assert {m["lang"] for m in out["mentions"]} == {"zh-Hans", "zh-Hant", "en"}
    for m in out["mentions"]:
        text = store.units.loc[m["unit_id"], f"text_{SUFFIX[m['lang']]}"]
        assert text[m["start"]:m["end"]] == m["surface"]


def test_place_lists_units_that_name_it_reach_it_or_address_all(capsys):
    out = run_json(capsys, "--place", "harbin")
    by_relation: dict[str, set] = {}
    for r in out["links"]:
        by_relation.setdefault(r["relation"], set()).add(r["unit_id"])
    assert {"ndrc-2024:preamble", "ndrc-2024:6", "ndrc-2024:14"} <= by_relation["named"]
    assert "ndrc-2024:11" in by_relation["via"]
    assert "ndrc-2024:3" in by_relation["general"]
    via = [r for r in out["links"] if r["relation"] == "via"]
    assert {r["via_place_id"] for r in via} == {"harbin-ice-snow-festival"}


def test_one_relation_per_unit_and_place(store):
    assert not store.links.duplicated(["unit_id", "place_id"]).any()


def test_the_store_holds_what_the_linker_finds(store):
    found = link_units(load_units(), load_gazetteer())
    named = store.links[store.links["relation"] == "named"]
    assert set(zip(named["unit_id"], named["place_id"], strict=True)) == set(
        zip(found.unit_places["unit_id"], found.unit_places["place_id"], strict=True))
    # a general unit is linked to every new area: by name, via a place, or as general
    # (the preamble names all nineteen, so it has no general row left)
    general = set(store.links.loc[store.links["relation"] == "general", "unit_id"])
    assert general <= set(found.general_units)
    areas = set(store.layers["new-areas"].index)
    linked = set(zip(store.links["unit_id"], store.links["place_id"], strict=True))
    for unit in found.general_units:
        assert {(unit, area) for area in areas} <= linked, unit
    assert len(store.mentions) == len(found.mentions)


def test_table_format_shows_links_and_words(capsys):
    assert main(["links", "--unit", "ndrc-2024:11"]) == 0
    out = capsys.readouterr().out
    assert "RELATION" in out and "哈尔滨国际冰雪节" in out and "Qingdao International Beer" in out


@pytest.mark.parametrize(("flag", "value", "word"), [("--unit", "ndrc-2024:99", "unit"),
                                                      ("--place", "atlantis", "place")])
def test_unknown_ids_give_a_clear_message_and_exit_2(capsys, flag, value, word):
    assert main(["links", flag, value]) == 2
    err = capsys.readouterr().err
    assert f"unknown {word} {value!r}" in err
    assert "Traceback" not in err
