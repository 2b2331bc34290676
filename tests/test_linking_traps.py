"""Every trap of place linking, each in its own test, on the real units where the documents
have one, and on small made-up texts for the cases the documents do not show."""

from __future__ import annotations

import pytest

from layers.documents.loading import load_units
from layers.documents.model import Unit
from layers.gazetteer import load_gazetteer
from layers.linking import Linker

NEW_AREAS = {"pudong", "binhai", "liangjiang", "zhoushan", "lanzhou", "nansha", "xixian",
             "guian", "qingdao-west-coast", "jinpu", "tianfu", "xiangjiang", "jiangbei",
             "fuzhou", "dianzhong", "harbin", "changchun", "ganjiang", "xiongan"}


@pytest.fixture(scope="module")
def linker():
    return Linker.load(load_gazetteer())


@pytest.fixture(scope="module")
def units():
    return {u.id: u for u in load_units()}


@pytest.fixture(scope="module")
def links(linker, units):
    return linker.link(units.values())


def mentions(links, unit_id, lang=None):
    rows = links.mentions[links.mentions["unit_id"] == unit_id]
    if lang:
        rows = rows[rows["lang"] == lang]
    return rows


def places(links, unit_id, lang):
    return set(mentions(links, unit_id, lang)["place_id"])


def made_up(text: str, lang: str = "zh-Hans", document: str = "made-up") -> Unit:
    return Unit(id=f"{document}:1", document=document, key="1", kind="measure", order=0,
                chapter_number=None, text={lang: text})


def linked(linker, text, lang="zh-Hans", document="made-up"):
    """(place, surface) pairs the linker finds in a made-up text."""
    found, _ = linker.iter_unit(made_up(text, lang, document))
    return [(m.place_id, m.surface) for m in found]


LANGS = ("zh-Hans", "zh-Hant", "en")


@pytest.mark.parametrize("lang", LANGS)
def test_nansha_science_city_is_the_science_city_not_the_new_area(links, lang):
    rows = mentions(links, "ndrc-2024:1", lang)
    assert "nansha-science-city" in set(rows["place_id"])
    assert "nansha" not in set(rows["place_id"])
    surface = rows.loc[rows["place_id"] == "nansha-science-city", "surface"].iloc[0]
    assert surface in {"南沙科学城", "南沙科學城", "Nansha Science City"}


@pytest.mark.parametrize("lang", LANGS)
def test_ports_are_ports_not_the_new_areas_of_their_cities(links, lang):
    found = places(links, "ndrc-2024:13", lang)
    assert {"port-shanghai", "port-ningbo-zhoushan", "port-dalian", "port-tianjin",
            "port-qingdao", "port-guangzhou"} <= found
    assert not found & NEW_AREAS


@pytest.mark.parametrize("lang", LANGS)
def test_greater_bay_area_is_the_region_not_hong_kong_or_macao(links, lang):
    found = places(links, "ndrc-2024:2", lang)
    assert "greater-bay-area" in found
    assert not found & {"hong-kong", "macao"}


def test_greater_bay_area_in_the_xixian_report(links):
    found = places(links, "xixian-2023:3.4", "zh-Hans")
    assert "greater-bay-area" in found and not found & {"hong-kong", "macao"}


@pytest.mark.parametrize("lang", LANGS)
def test_festivals_are_the_festivals_not_harbin_or_qingdao(links, lang):
    found = places(links, "ndrc-2024:11", lang)
    assert found == {"qingdao-beer-festival", "harbin-ice-snow-festival"}


@pytest.mark.parametrize("lang", LANGS)
def test_belt_and_road_conference_is_the_conference(links, lang):
    rows = mentions(links, "ndrc-2024:15", lang)
    surface = rows.loc[rows["place_id"] == "belt-road-st-conference", "surface"]
    assert len(surface) == 1
    ends = ("科技交流大会", "科技交流大會", "Exchange Conference")
    assert surface.iloc[0].endswith(ends)


@pytest.mark.parametrize("unit_id", ["xixian-2023:2.1", "xixian-2023:2.4", "xixian-2023:2.5",
                                     "mofcom-2025:overall", "mofcom-2025:9"])
def test_belt_and_road_alone_names_nothing(links, units, unit_id):
    unit = units[unit_id]
    lang = unit.langs[0]
    text = unit.text[lang]
    needle = "一带一路" if lang == "zh-Hans" else "一帶一路"
    at = text.index(needle)
    rows = mentions(links, unit_id, lang)
    assert not ((rows["start"] <= at) & (rows["end"] > at)).any()
    assert "belt-road-st-conference" not in set(rows["place_id"])


def test_belt_and_road_alone_in_english_names_nothing(linker):
    assert linked(linker, "Deepen Belt and Road cooperation with ASEAN.", "en") == [
        ("asean", "ASEAN")]


@pytest.mark.parametrize("lang", LANGS)
def test_city_short_names_in_a_list_ending_in_new_areas_are_new_areas(links, lang):
    # 对兰州、陕西西咸、贵州贵安、哈尔滨、长春等新区 / new areas such as Lanzhou, …, Changchun
    rows = mentions(links, "ndrc-2024:6", lang)
    assert set(rows["place_id"]) == {"lanzhou", "xixian", "guian", "harbin", "changchun"}
    bare = dict(zip(rows["place_id"], rows["surface"], strict=True))
    assert bare["harbin"] in {"哈尔滨", "哈爾濱", "Harbin"}
    assert bare["lanzhou"] in {"兰州", "蘭州", "Lanzhou"}


@pytest.mark.parametrize("lang", LANGS)
def test_city_short_names_in_the_list_of_all_new_areas(links, lang):
    # …、福州、云南滇中、哈尔滨、长春、江西赣江新区: a list ending in 新区 without 等
    found = places(links, "ndrc-2024:preamble", lang)
    assert {"fuzhou", "harbin", "changchun", "lanzhou"} <= found
    assert found == NEW_AREAS


@pytest.mark.parametrize("text", [
    "哈尔滨市大力发展冰雪旅游。",
    "长春的汽车产业基础雄厚。",
    "兰州是黄河上游的重要城市。",
    "福州港的吞吐量持续增长。",
    "两江交汇之处，城市依水而建。",
    "支持哈尔滨、长春等城市发展。",
])
def test_city_short_names_elsewhere_name_nothing(linker, text):
    assert not [p for p, _ in linked(linker, text) if p in NEW_AREAS]


@pytest.mark.parametrize("text", ["Harbin is a city in the north.", "Lanzhou beef noodles"])
def test_city_short_names_elsewhere_name_nothing_in_english(linker, text):
    assert linked(linker, text, "en") == []


def test_short_name_directly_followed_by_new_area(linker):
    assert linked(linker, "支持两江、天府等新区建设。") == [("liangjiang", "两江"),
                                                       ("tianfu", "天府")]
    assert linked(linker, "It supports the Lanzhou and Changchun new areas.", "en") == [
        ("lanzhou", "Lanzhou"), ("changchun", "Changchun")]


def test_xixian_integration_is_the_corridor_not_the_new_area(links, units):
    rows = mentions(links, "xixian-2023:3.2", "zh-Hans")
    text = units["xixian-2023:3.2"].text["zh-Hans"]
    at = text.index("西咸一体化")
    covering = rows[(rows["start"] <= at) & (rows["end"] > at)]
    assert set(covering["place_id"]) == {"xian-xianyang"}


@pytest.mark.parametrize("lang", LANGS)
def test_hong_kong_and_macao_names_both(links, lang):
    rows = mentions(links, "ndrc-2024:14", lang)
    hk = rows[rows["place_id"] == "hong-kong"]
    mo = rows[rows["place_id"] == "macao"]
    assert len(hk) == 1 and len(mo) == 1
    if lang != "en":
        assert hk.iloc[0]["surface"] == mo.iloc[0]["surface"] == "港澳"


def test_hong_kong_and_macao_in_english_one_by_one(linker):
    assert linked(linker, "Hong Kong and Macao", "en") == [
        ("hong-kong", "Hong Kong and Macao"), ("macao", "Hong Kong and Macao")]
    assert [p for p, _ in linked(linker, "Macau, Hong Kong", "en")] == ["macao", "hong-kong"]


def test_changan_in_the_xixian_report_is_xian(links, units):
    rows = mentions(links, "xixian-2023:3.4", "zh-Hans")
    changan = rows[rows["surface"] == "长安"]
    assert list(changan["place_id"]) == ["xian"]


def test_changan_elsewhere_names_nothing(linker):
    assert linked(linker, "长安街沿线") == []


@pytest.mark.parametrize("text", ["贵州贵安新区", "Gui'an New Area", "Gui’an New Area",
                                  "GUI'AN NEW AREA", "Guian"])
def test_english_folds_case_and_apostrophes(linker, text):
    lang = "zh-Hans" if text.startswith("贵") else "en"
    assert linked(linker, text, lang) == [("guian", text)]


def test_english_folds_hyphens_and_dashes(linker):
    for text in ("Ningbo-Zhoushan Port", "Ningbo–Zhoushan Port", "Ningbo Zhoushan Port",
                 "ningbo — zhoushan  port"):
        assert [p for p, _ in linked(linker, text, "en")] == ["port-ningbo-zhoushan"], text


def test_english_matches_respect_word_boundaries(linker):
    assert linked(linker, "Pudongese, Guiana and Harbinger.", "en") == []
    assert linked(linker, "(Pudong)", "en") == [("pudong", "Pudong")]


def test_traditional_text_matches_through_simplified_with_original_offsets(links, units):
    rows = mentions(links, "ndrc-2024:21", "zh-Hant")
    text = units["ndrc-2024:21"].text["zh-Hant"]
    xixian = rows[rows["place_id"] == "xixian"].iloc[0]
    assert text[xixian["start"]:xixian["end"]] == xixian["surface"] == "陝西西鹹新區"
