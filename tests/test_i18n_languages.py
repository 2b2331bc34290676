"""The interface in three scripts (zh-Hans, zh-Hant, en): the `lang` parameter and its
`zh` alias, Accept-Language by script, zh-Hant strings derived by OpenCC with overrides,
the language switch on every page, and popups wholly in the interface language."""

from __future__ import annotations

import html
import json
import re

import pytest
import yaml

from layers import query
from layers.textnorm import convert
from webapp.i18n import I18N_PATH, Strings, load_strings

pytest_plugins = ["web_fixtures"]

LANGS = ("zh-Hans", "zh-Hant", "en")


def _html_lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page).group(1)


# --- lang and Accept-Language -------------------------------------------------------------

@pytest.mark.parametrize(("given", "expected"), [
    ("zh-Hans", "zh-Hans"), ("zh-Hant", "zh-Hant"), ("en", "en"), ("zh", "zh-Hans")])
def test_lang_parameter_picks_the_script(client, given, expected):
    page = client.get(f"/units?lang={given}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert _html_lang(body) == expected
    title = {"zh-Hans": "政策条目", "zh-Hant": "政策條目", "en": "Policy units"}[expected]
    assert f"<h1>{title}" in body


def test_zh_is_the_same_page_as_zh_hans(client):
    zh = client.get("/places/pudong?lang=zh").get_data(as_text=True)
    hans = client.get("/places/pudong?lang=zh-Hans").get_data(as_text=True)
    # links on the page carry the canonical code either way
    assert zh.replace("lang=zh-Hans", "") == hans.replace("lang=zh-Hans", "")
    assert "lang=zh&" not in zh and "lang=zh\"" not in zh


@pytest.mark.parametrize("url", ["/units?lang=fr", "/new-areas?lang=zh-TW", "/?lang=ZH",
                                 "/places/pudong/popup?lang=hant", "/about?lang="])
def test_unknown_language_is_a_400_naming_lang(client, url):
    response = client.get(url)
    assert response.status_code == 400
    body = json.loads(response.get_data(as_text=True))
    assert body["parameter"] == "lang" and "zh-Hant" in body["description"]


@pytest.mark.parametrize(("header", "expected"), [
    ("zh-CN,zh;q=0.9", "zh-Hans"), ("zh-TW,zh;q=0.9,en;q=0.5", "zh-Hant"),
    ("zh-HK", "zh-Hant"), ("zh-Hant-HK", "zh-Hant"), ("zh-Hans-SG", "zh-Hans"),
    ("zh-MO,en;q=0.8", "zh-Hant"), ("en-GB,en;q=0.8", "en"), ("fr,de;q=0.5", "zh-Hans"),
    ("de,zh-TW;q=0.4,en;q=0.3", "zh-Hant"), ("fr,en;q=0.9,zh-CN;q=0.8", "en"),
])
def test_default_language_follows_accept_language_by_script(client, header, expected):
    page = client.get("/about", headers={"Accept-Language": header}).get_data(as_text=True)
    assert _html_lang(page) == expected


def test_lang_parameter_wins_over_accept_language(client):
    page = client.get("/about?lang=en", headers={"Accept-Language": "zh-TW"})
    assert _html_lang(page.get_data(as_text=True)) == "en"


# --- the strings --------------------------------------------------------------------------

def test_every_string_has_three_scripts_and_zh_hant_is_derived_unless_overridden():
    raw = yaml.safe_load(I18N_PATH.read_text(encoding="utf-8"))
    strings = load_strings()
    assert strings.languages == LANGS
    for key, entry in raw["strings"].items():
        completed = strings.strings[key]
        assert set(LANGS) <= set(completed), key
        if "zh-Hant" in entry:
            assert completed["zh-Hant"] == entry["zh-Hant"], key
        else:
            assert completed["zh-Hant"] == convert(entry["zh-Hans"], "s2t"), key


def test_zh_hant_strings_use_the_documents_variants():
    """OpenCC's s2t writes 爲 and 着 where the zh-Hant documents write 為 and 著; the YAML
    overrides those strings, so no interface string uses a variant the documents do not."""
    sources = sorted((I18N_PATH.parent / "sources").glob("*.zh-Hant.txt"))
    documents = "".join(p.read_text(encoding="utf-8") for p in sources)
    assert "為" in documents and "爲" not in documents
    strings = load_strings()
    for key, entry in strings.strings.items():
        assert not set(entry["zh-Hant"]) & {"爲", "着"}, (key, entry["zh-Hant"])


def test_strings_from_other_files_keyed_zh_read_as_zh_hans():
    """The map image adds data/planner.yaml's strings, keyed `zh`: all three scripts work."""
    strings = Strings(languages=LANGS, names={v: v for v in LANGS}, language_names={},
                      strings={"k": {"zh": "地图标题", "en": "Map title"}})
    assert strings.text("k", "zh") == strings.text("k", "zh-Hans") == "地图标题"
    assert strings.text("k", "zh-Hant") == "地圖標題"
    assert strings.text("k", "en") == "Map title"
    assert strings.name_order("zh") == ("zh-Hans", "zh-Hant", "en")
    assert strings.name_order("zh-Hant")[0] == "zh-Hant"


# --- the switch on every page -------------------------------------------------------------

PAGES = ["/", "/units?document=ndrc-2024", "/units/ndrc-2024:13", "/places/pudong",
         "/collections", "/new-areas?sort=-area_ratio", "/compare?places=pudong,binhai",
         "/about"]


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("lang", LANGS)
def test_every_page_offers_the_other_two_scripts_keeping_its_parameters(client, url, lang):
    sep = "&" if "?" in url else "?"
    page = client.get(f"{url}{sep}lang={lang}").get_data(as_text=True)
    menu = re.search(r'<span class="lang-menu"[^>]*>(.*?)</span>\s*</div>', page, re.S).group(1)
    links = dict(re.findall(r'hreflang="([^"]+)" href="([^"]+)"', menu))
    assert set(links) == set(LANGS) - {lang}
    path = url.split("?")[0]
    for code, href in links.items():
        href = html.unescape(href)
        assert href.startswith(path) and f"lang={code}" in href
        for kept in url.split("?")[1].split("&") if "?" in url else []:
            assert kept.replace(":", "%3A").replace(",", "%2C") in href or kept in href, href
    assert 'aria-current="true"' in menu
    assert page.count('class="lang-option lang-switch"') == 1  # the map script updates it


# --- popups -------------------------------------------------------------------------------

def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def _all_places(store) -> list[tuple[str, str]]:
    return [(layer, str(pid)) for layer in query.layer_ids(store)
            for pid in store.layers[layer].index]


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_chinese_popups_have_no_english_word_raw_id_or_code(client, web_store, lang):
    ids = {pid for _layer, pid in _all_places(web_store)} | set(web_store.units.index)
    codes = set()
    for frame in web_store.layers.values():
        for column in ("adcodes", "district_code", "province_code"):
            if column in frame.columns:
                codes |= {c for v in frame[column].dropna() for c in query.id_list(v)}
    assert len(codes) > 30
    checked = 0
    for _layer, pid in _all_places(web_store):
        response = client.get(f"/places/{pid}/popup?lang={lang}")
        assert response.status_code == 200
        text = _text(response.get_data(as_text=True))
        assert not re.findall(r"[A-Za-z]{2,}", text), (pid, re.findall(r"[A-Za-z]{2,}", text))
        assert not re.findall(r"\d{6}", text), pid
        words = set(re.findall(r"[\w:.\-]+", text))
        assert not words & ids, (pid, words & ids)
        assert not words & codes, (pid, words & codes)
        checked += 1
    assert checked == sum(len(f) for f in web_store.layers.values())


def test_popups_name_provinces_districts_and_corridor_ends(client, web_store):
    ningbo = _text(client.get("/places/port-ningbo-zhoushan/popup?lang=zh-Hans").get_data(
        as_text=True))
    assert "宁波市北仑区" in ningbo
    assert "寧波市北侖區" in _text(client.get(
        "/places/port-ningbo-zhoushan/popup?lang=zh-Hant").get_data(as_text=True))
    english = _text(client.get("/places/port-ningbo-zhoushan/popup?lang=en").get_data(
        as_text=True))
    assert "宁波市北仑区 (330206)" in english  # no English district names: name and code
    pudong = _text(client.get("/places/pudong/popup?lang=zh-Hans").get_data(as_text=True))
    assert "上海市" in pudong and "Shanghai" not in pudong
    assert "Shanghai" in _text(client.get("/places/pudong/popup?lang=en").get_data(
        as_text=True))
    corridors = web_store.layers["corridors"]
    for cid, row in corridors.iterrows():
        popup = client.get(f"/places/{cid}/popup?lang=zh-Hant").get_data(as_text=True)
        joins = re.search(r'<dd class="joins">(.*?)</dd>', popup, re.S).group(1)
        assert re.findall(r'data-place="([^"]+)"', joins) == query.id_list(row["joins"])
        for end in query.id_list(row["joins"]):
            assert query.place(web_store, end)["names"]["zh-Hant"] in _text(joins), (cid, end)


def test_the_new_area_sentence_only_on_new_areas(client, web_store):
    exact = {"zh-Hans": "精确范围：新区即该行政区", "zh-Hant": "精確範圍：新區即該行政區"}
    for layer, pid in _all_places(web_store):
        for lang, sentence in exact.items():
            text = _text(client.get(f"/places/{pid}/popup?lang={lang}").get_data(as_text=True))
            is_exact_area = (layer == "new-areas"
                             and web_store.layers[layer].at[pid, "extent"] == "exact")
            assert (sentence in text) == is_exact_area, (pid, lang)


def test_district_names_in_traditional_script_with_corrections(web_store):
    from layers.admin_names import OVERRIDES_PATH, admin_names

    names = admin_names(web_store)
    overrides = yaml.safe_load(OVERRIDES_PATH.read_text(encoding="utf-8"))["zh-Hant"]
    for code, hant in overrides.items():
        assert names[str(code)]["zh-Hant"] == hant
        assert convert(names[str(code)]["zh-Hans"], "s2t") != hant  # a real correction
    assert names["430104"]["zh-Hant"] == "長沙市岳麓區"
    assert names["330206"] == {"zh-Hans": "宁波市北仑区", "zh-Hant": "寧波市北侖區"}
    assert names["330000"]["en"] == "Zhejiang"
    for code in ("330206", "610402", "310000", "130638"):
        assert code in names


def test_every_province_a_place_uses_has_an_english_name(web_store):
    from layers.admin_names import admin_names

    provinces = {code: n for code, n in admin_names(web_store).items()
                 if code.endswith("0000")}
    assert len(provinces) >= 20
    missing = {code: n["zh-Hans"] for code, n in provinces.items() if not n.get("en")}
    assert missing == {}


def test_facts_say_what_a_region_is_made_of_and_where_a_city_is(client):
    yrd = _text(client.get("/places/yangtze-river-delta/popup?lang=en").get_data(as_text=True))
    assert "Made up of Shanghai, Jiangsu, Zhejiang, Anhui" in " ".join(yrd.split())
    xian = _text(client.get("/places/xian/popup?lang=zh-Hans").get_data(as_text=True))
    assert "所在城市 西安市" in " ".join(xian.split())
