"""Linking on texts nobody tuned the rules to: how news reports name places.

Ports called after their city, city-level 新区 that are not among the 19, a place name at
the start of a longer proper name, English lists without the last comma. Each case is a
sentence written for the test, linked with the real gazetteer and linking data.
"""

from __future__ import annotations

import pytest

from layers.documents.model import Unit
from layers.gazetteer import load_gazetteer
from layers.linking import Linker


@pytest.fixture(scope="module")
def linker():
    return Linker.load(load_gazetteer())


def linked(linker, text: str, lang: str = "zh-Hans") -> list[tuple[str, str]]:
    unit = Unit(id="news:1", document="news", key="1", kind="paragraph", order=0,
                chapter_number=None, text={lang: text})
    mentions, _ = linker.iter_unit(unit)
    return [(m.place_id, m.surface) for m in mentions]


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("青岛港、天津港、上海港和大连港集装箱吞吐量均有增长。", "zh-Hans",
     [("port-qingdao", "青岛港"), ("port-tianjin", "天津港"), ("port-shanghai", "上海港"),
      ("port-dalian", "大连港")]),
    ("宁波舟山港货物吞吐量连续多年位居全球第一。", "zh-Hans",
     [("port-ningbo-zhoushan", "宁波舟山港")]),
    ("Qingdao Port and the Port of Shanghai handled more containers.", "en",
     [("port-qingdao", "Qingdao Port"), ("port-shanghai", "Port of Shanghai")]),
])
def test_a_port_called_after_a_city_is_the_port(linker, text, lang, expected):
    assert linked(linker, text, lang) == expected


@pytest.mark.parametrize("text", [
    "郑东新区、武汉长江新区和成都东部新区都是城市级新区。",
    "汕头滨海新区和烟台滨海新区都是市级新区。",
    "宁波江北新区和重庆江北新区。",
    "广东省汕头市滨海新区召开招商大会。",
    "汕頭濱海新區召開招商大會。",
])
def test_a_city_level_new_area_is_not_one_of_the_19(linker, text):
    lang = "zh-Hant" if "頭" in text else "zh-Hans"
    assert linked(linker, text, lang) == []


def test_the_new_area_after_its_own_province_or_city_still_counts(linker):
    assert linked(linker, "天津市滨海新区和南京市江北新区，在滨海新区。") == [
        ("binhai", "滨海新区"), ("jiangbei", "江北新区"), ("binhai", "滨海新区")]
    assert linked(linker, "上海浦东、天津滨海等新区") == [
        ("pudong", "上海浦东"), ("binhai", "天津滨海")]


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("上海浦东发展银行与张江高科签署合作协议。", "zh-Hans", []),
    ("中国雄安集团有限公司负责雄安新区的开发建设。", "zh-Hans", [("xiongan", "雄安新区")]),
    ("浦东国际机场新航站楼启用。", "zh-Hans", []),
    ("浦东新区人民政府发布通知。", "zh-Hans", [("pudong", "浦东新区")]),
    ("Shanghai Pudong Development Bank opened a branch near Pudong International Airport.",
     "en", []),
    ("China Xiong'an Group builds Xiong'an New Area.", "en", [("xiongan", "Xiong'an New Area")]),
    # a verb or a common noun after the name leaves it a mention
    ("浦东新区号召企业投资，雄安新区投资建设。", "zh-Hans",
     [("pudong", "浦东新区"), ("xiongan", "雄安新区")]),
    ("Xiong'an daily life and the Pudong road network.", "en",
     [("xiongan", "Xiong'an"), ("pudong", "Pudong")]),
])
def test_a_place_name_inside_a_longer_name_is_not_a_mention(linker, text, lang, expected):
    assert linked(linker, text, lang) == expected


def test_an_english_list_of_new_areas_without_the_last_comma(linker):
    text = "It will work with new areas such as Binhai, Liangjiang and Nansha."
    assert [place for place, _ in linked(linker, text, "en")] == [
        "binhai", "liangjiang", "nansha"]
    # "and" ends the list: a city named after it is not in it.
    assert linked(linker, "new areas such as Pudong and the city of Lanzhou", "en") == [
        ("pudong", "Pudong")]
