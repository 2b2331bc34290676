"""zh-Hant converted by table look-up (layers.opencc_tables) is, text for text, what OpenCC
gives: the fast path of normalize_many against OpenCC itself on each text alone."""

from __future__ import annotations

import random

import numpy as np
import pytest

from layers import opencc_tables
from layers.documents.loading import load_units
from layers.opencc_tables import code_points, tables
from layers.textnorm import SEPARATOR, convert, fold_width, normalize_many, normalize_with_offsets

# A character outside the BMP, a CJK compatibility ideograph (OpenCC normalises it first),
# full-width forms, ASCII, punctuation and spaces.
ODD = ["𠮶", "\uf900", "ＡＢ", "Ｐｕｄｏｎｇ", "Pudong New Area", "，", "。", "、", "（", "）", " ",
       "\u3000", "-", "“", "”", "19", "\n"]


@pytest.fixture(scope="module")
def t2s():
    found = tables("t2s")
    assert found is not None, "the t2s dictionaries could not be read: no fast path"
    return found


@pytest.fixture(scope="module")
def phrases(t2s):
    return sorted(phrase for group in t2s.phrases.values() for phrase in group)


def by_opencc(text: str) -> str:
    """The straightforward matching form: OpenCC on the text alone, then width folding."""
    return fold_width(convert(text, "t2s"))


def pieces(texts: list[str]) -> tuple[list[str], list]:
    forms = normalize_many(texts, "zh-Hant")
    return ([forms.text[a:b - 1] for a, b in zip(forms.starts, forms.starts[1:], strict=False)],
            forms.offsets)


def assert_as_opencc(texts: list[str]) -> None:
    assert len(SEPARATOR.join(texts)) >= 128  # long enough for the tables
    found, offsets = pieces(texts)
    for text, piece, mapped in zip(texts, found, offsets, strict=True):
        assert piece == by_opencc(text), text
        # Short texts on their own take the OpenCC path: the offsets agree too.
        alone, alone_offsets = normalize_with_offsets(text, "zh-Hant")
        assert alone == piece
        assert ([*range(len(text)), len(text)] if mapped is None else mapped) == alone_offsets


def test_the_phrases_opencc_converts_otherwise_are_known(t2s, phrases):
    assert {"乾隆", "回覆"} <= set(phrases)  # 乾 alone is 干, 覆 alone 覆
    assert "陝西" not in phrases  # converted character by character: 陕西
    assert t2s.images[ord("乾")] == ord("干") and t2s.images[ord("陝")] == ord("陕")
    assert t2s.images[0xF900] == -1  # a compatibility ideograph: OpenCC normalises it first


def test_real_texts_convert_by_the_tables_alone(t2s):
    texts = [u.text["zh-Hant"] for u in load_units() if u.text.get("zh-Hant")]
    joined = SEPARATOR.join(texts)
    codes = code_points(joined)
    assert len(t2s.doubtful(joined, codes, t2s.images[codes])) == 0
    forms = normalize_many(texts, "zh-Hant")
    assert forms.offsets == [None] * len(texts)
    assert forms.text == SEPARATOR.join(by_opencc(text) for text in texts)


def test_every_phrase_converted_otherwise_is_left_to_opencc(phrases):
    rng = random.Random(15)
    texts = []
    for phrase in phrases:
        before, after = rng.choice(ODD), rng.choice(ODD)
        texts.append(f"{before}陝西西鹹新區{phrase}{after}乾隆頭髮")
        texts.append(f"國家級新區{phrase[:1]}、{phrase[1:]}")  # cut: not the phrase
    assert_as_opencc(texts)


def test_random_texts_of_characters_opencc_converts(t2s, phrases):
    """Texts dense in converted characters, phrase halves and odd characters."""
    convertible = np.flatnonzero((t2s.images >= 0) & (t2s.images != np.arange(len(t2s.images))))
    characters = [chr(c) for c in convertible.tolist()]
    halves = [part for phrase in phrases for part in (phrase[:2], phrase[-2:])]
    rng = random.Random(20261203)
    texts = []
    for _ in range(1500):
        parts = [rng.choice(characters) if roll < 0.7 else rng.choice(halves) if roll < 0.9
                 else rng.choice(ODD) for roll in (rng.random() for _ in range(rng.randrange(30)))]
        texts.append("".join(parts))
    assert_as_opencc(texts)


def test_mixed_scripts_and_english_in_traditional_texts():
    texts = ["上海浦东新区与陝西西鹹新區", "Support the Pudong New Area（浦東新區）",
             "乾县乾隆、头发頭髮，回复回覆", "", "ＧＵＩ’ＡＮ貴安新區" * 20]
    assert_as_opencc(texts)


def test_without_the_dictionaries_opencc_converts_every_text(monkeypatch, tmp_path):
    texts = [u.text["zh-Hant"] for u in load_units() if u.text.get("zh-Hant")]
    texts += ["乾隆年間頭髮，回覆" * 10]
    fast = normalize_many(texts, "zh-Hant")
    monkeypatch.setattr(opencc_tables, "_DICT_TOOL", tmp_path / "missing")
    opencc_tables.tables.cache_clear()
    try:
        assert opencc_tables.tables("t2s") is None
        slow = normalize_many(texts, "zh-Hant")
    finally:
        opencc_tables.tables.cache_clear()
    assert slow.text == fast.text and slow.offsets == fast.offsets
    assert slow.text == SEPARATOR.join(by_opencc(text) for text in texts)
