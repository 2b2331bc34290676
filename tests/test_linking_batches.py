"""Linking many units at once finds exactly what linking them one by one finds: texts are
normalised, scanned and resolved together, and nothing may cross from one into the next."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from layers.documents.loading import load_units
from layers.documents.model import Unit
from layers.gazetteer import load_gazetteer
from layers.linking import Linker
from layers.linking import linker as linker_module
from layers.textnorm import SEPARATOR, normalize_many, normalize_with_offsets


@pytest.fixture(scope="module")
def linker():
    return Linker.load(load_gazetteer())


@pytest.fixture(scope="module")
def units():
    return load_units()


def made_up(number: int, document: str = "ndrc-2024", **text: str) -> Unit:
    return Unit(id=f"{document}:b{number}", document=document, key=str(number),
                kind="measure", order=number, chapter_number=None,
                text={lang.replace("_", "-"): value for lang, value in text.items()})


def one_by_one(linker, units) -> tuple[pd.DataFrame, list[str]]:
    rows, general = [], []
    for unit in units:
        mentions, is_general = linker.iter_unit(unit)
        rows.extend(mentions)
        if is_general:
            general.append(unit.id)
    frame = pd.DataFrame(rows, columns=["unit_id", "place_id", "lang", "start", "end",
                                        "surface"])
    return frame.astype({"start": "int64", "end": "int64"}), general


def test_the_real_units_link_alike_in_one_batch_and_one_by_one(linker, units):
    together = linker.link(units)
    mentions, general = one_by_one(linker, units)
    assert len(mentions) > 200
    pd.testing.assert_frame_equal(together.mentions, mentions, check_dtype=False)
    assert together.general_units == general


def test_batch_size_changes_nothing(linker, units, monkeypatch):
    copies = [dataclasses.replace(u, id=f"{u.id}#{n}") for n in range(3) for u in units]
    whole = linker.link(copies)
    monkeypatch.setattr(linker_module, "BATCH_CHARACTERS", 2_000)
    small = linker.link(copies)
    assert len(list(linker_module.batches(copies))) > 40
    pd.testing.assert_frame_equal(whole.mentions, small.mentions)
    pd.testing.assert_frame_equal(whole.unit_places, small.unit_places)
    assert whole.general_units == small.general_units


def test_nothing_crosses_from_one_text_into_the_next(linker):
    # 南沙 ends one text and 科学城 begins the next; 哈尔滨 ends one and 、长春等新区 (the
    # context that makes it the new area) begins the next: neither may join.
    units = [made_up(1, zh_Hans="支持广州南沙", en="Harbin"),
             made_up(2, zh_Hans="科学城建设", en=", Changchun and other new areas"),
             made_up(3, zh_Hans="哈尔滨"),
             made_up(4, zh_Hans="、长春等新区")]
    links = linker.link(units)
    found = set(zip(links.mentions["unit_id"], links.mentions["place_id"], strict=True))
    assert ("ndrc-2024:b1", "nansha") in found
    assert not any(place == "nansha-science-city" for _, place in found)
    assert ("ndrc-2024:b3", "harbin") not in found
    assert ("ndrc-2024:b4", "changchun") in found
    mentions, _ = one_by_one(linker, units)
    pd.testing.assert_frame_equal(links.mentions, mentions, check_dtype=False)


def test_english_spacing_collapsed_in_one_text_keeps_the_others_offsets(linker):
    units = [made_up(1, en="Support   the  Pudong New Area  and   Lanzhou New Area."),
             made_up(2, en="the Pudong   New Area"),
             made_up(3, en="Gui’an New Area and Xixian New Area")]
    links = linker.link(units)
    texts = {u.id: u.text["en"] for u in units}
    for row in links.mentions.itertuples():
        assert texts[row.unit_id][row.start:row.end] == row.surface
    assert set(links.mentions["place_id"]) >= {"pudong", "lanzhou", "guian", "xixian"}
    mentions, _ = one_by_one(linker, units)
    pd.testing.assert_frame_equal(links.mentions, mentions, check_dtype=False)


def test_normal_forms_of_many_texts_are_each_texts_own(units):
    texts = [u.text["zh-Hant"] for u in units if u.text.get("zh-Hant")]
    # the separator itself, a character outside the BMP, an empty text
    texts += [f"陝西西鹹{SEPARATOR}新區", "𠮶乾隆頭髮", ""]
    forms = normalize_many(texts, "zh-Hant")
    for i, text in enumerate(texts):
        normal, offsets = normalize_with_offsets(text, "zh-Hant")
        start, end = forms.starts[i], forms.starts[i + 1] - 1
        assert forms.text[start:end] == normal
        assert [forms.display_offset(i, p) for p in range(start, end + 1)] == offsets
