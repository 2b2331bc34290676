"""The matching form of text and its exact map back to the display text."""

from __future__ import annotations

from itertools import pairwise

import pytest

from layers.documents.loading import load_units
from layers.textnorm import (
    convert,
    convert_with_offsets,
    fold_width,
    normalize,
    normalize_with_offsets,
)


def check_offsets(text: str, normal: str, offsets: list[int]) -> None:
    assert len(offsets) == len(normal) + 1
    assert offsets[-1] == len(text)
    assert all(0 <= a <= b for a, b in pairwise(offsets))
    assert all(o < len(text) for o in offsets[:-1])


def test_traditional_to_simplified_and_width_folding():
    assert normalize("陝西西鹹新區（西咸）", "zh-Hant") == "陕西西咸新区(西咸)"
    assert normalize("全麵貫徹，體係機製方麵", "zh-Hant") == "全面贯彻,体系机制方面"
    assert normalize("ＡＢＣ１２３　（五）", "zh-Hans") == "ABC123 (五)"
    assert normalize("Lingang New Area", "en") == "Lingang New Area"
    assert fold_width("，") == "," and fold_width("。") == "。"


def test_simplified_text_is_not_converted():
    # 乾 stays in simplified text; only zh-Hant goes through OpenCC.
    assert normalize("乾县", "zh-Hans") == "乾县"


def test_normalize_equals_the_text_of_normalize_with_offsets():
    text = "國家級新區(以下簡稱新區),目前全國共19個。乾隆年間頭髮"
    assert normalize(text, "zh-Hant") == normalize_with_offsets(text, "zh-Hant")[0]


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
def test_offsets_round_trip_on_every_unit_text(lang):
    checked = 0
    for unit in load_units():
        if lang not in unit.text:
            continue
        text = unit.text[lang]
        normal, offsets = normalize_with_offsets(text, lang)
        check_offsets(text, normal, offsets)
        assert normal == normalize(text, lang)
        # Every normalised character is the normal form of the character it points at.
        for i, char in enumerate(normal):
            assert normalize(text[offsets[i]], lang) == char, (unit.id, i)
        checked += len(normal)
    assert checked > 5_000


def test_offsets_locate_a_match_in_the_display_text():
    text = "支持陝西西鹹新區、貴州貴安新區建設"
    normal, offsets = normalize_with_offsets(text, "zh-Hant")
    start = normal.index("西咸新区")
    end = start + len("西咸新区")
    assert text[offsets[start]:offsets[end]] == "西鹹新區"


@pytest.fixture
def uneven_config(tmp_path):
    """A real OpenCC config whose phrases change length: 甲乙 → 丙, 丁 → 戊己."""
    (tmp_path / "uneven.txt").write_text("甲乙\t丙\n丁\t戊己\n", encoding="utf-8")
    config = tmp_path / "uneven.json"
    config.write_text('{"name": "uneven", "conversion_chain": [{"dict": '
                      '{"type": "text", "file": "uneven.txt"}}]}', encoding="utf-8")
    return str(config)


def test_length_changing_phrases_keep_offsets_exact(uneven_config):
    # 甲乙丁甲 keeps its length overall (2→1 and 1→2) yet is not position by position.
    text = "甲乙丁甲，子甲乙。丁"
    converted, offsets = convert_with_offsets(text, uneven_config)
    assert converted == convert(text, uneven_config) == "丙戊己甲，子丙。戊己"
    check_offsets(text, converted, offsets)
    assert offsets == [0, 2, 2, 3, 4, 5, 6, 8, 9, 9, 10]
    # Each output slice maps back to the source phrase it came from.
    assert text[offsets[0]:offsets[1]] == "甲乙"
    assert text[offsets[1]:offsets[3]] == "丁"
