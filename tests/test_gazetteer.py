"""The gazetteer: every canonical id, names in three languages, recipes checked on load."""

import shutil

import pytest
import yaml

from layers.gazetteer import LANGS, GazetteerError, load_gazetteer

# The canonical ids of the domain brief (PLACES.md), by layer.
CANONICAL = {
    "new-areas": ["pudong", "binhai", "liangjiang", "zhoushan", "lanzhou", "nansha", "xixian",
                  "guian", "qingdao-west-coast", "jinpu", "tianfu", "xiangjiang", "jiangbei",
                  "fuzhou", "dianzhong", "harbin", "changchun", "ganjiang", "xiongan"],
    "ports": ["port-shanghai", "port-ningbo-zhoushan", "port-dalian", "port-tianjin",
              "port-qingdao", "port-guangzhou"],
    "science-cities": ["zhangjiang", "nansha-science-city", "western-science-city",
                       "qinchuangyuan", "guiyang-big-data-city", "liangjiang-innovation-zone"],
    "strategy-regions": ["jing-jin-ji", "yangtze-river-delta", "greater-bay-area",
                         "chengdu-chongqing", "middle-yangtze"],
    "partners": ["hong-kong", "macao", "pingtan", "singapore", "asean", "kazakhstan",
                 "central-asia"],
    "corridors": ["xian-xianyang", "fuzhou-pingtan", "chongqing-singapore",
                  "nansha-hong-kong-macao", "liangjiang-tianfu", "guiyang-guian",
                  "xixian-guian", "xixian-zhoushan", "xixian-central-asia"],
    "sites": ["summer-davos", "belt-road-st-conference", "qingdao-beer-festival",
              "harbin-ice-snow-festival"],
}
# The further sites the documents name, with the ids the linker uses.
EXTRA_SITES = {
    "xian": "city", "xianyang": "city", "guiyang": "city", "meishan": "city",
    "guangyuan": "city", "china-singapore-chongqing-park": None,
    "zhoushan-city-exhibition-hall": None, "zhoushan-high-tech-park": None,
    "zhoushan-comprehensive-bonded-zone": None, "zhoushan-aviation-industrial-park": None,
    "catl-guizhou-base": None, "guian-huawei-cloud-dc": "data-centre",
    "lijia-smart-park": None, "liangjiang-digital-economy-park": None,
    "tsinghua-sichuan-energy-internet-institute": "institute",
    "tianfu-central-legal-district": None, "xian-west-station": "station",
    "xian-xianyang-airport": "airport", "china-russia-silk-road-innovation-park": None,
}
APPROXIMATE = {"liangjiang", "lanzhou", "xixian", "guian", "jinpu", "tianfu", "xiangjiang",
               "jiangbei", "fuzhou", "dianzhong", "harbin", "changchun", "ganjiang", "xiongan"}


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


def test_seven_layers(gazetteer):
    assert set(gazetteer.layers) == set(CANONICAL)
    kinds = {lid: meta.geometry for lid, meta in gazetteer.layers.items()}
    assert kinds["new-areas"] == kinds["partners"] == kinds["strategy-regions"] == "polygon"
    assert kinds["corridors"] == "line"
    assert kinds["ports"] == kinds["sites"] == kinds["science-cities"] == "point"
    for meta in gazetteer.layers.values():
        assert all(meta.title[lang] and meta.description[lang] for lang in LANGS)


@pytest.mark.parametrize("layer", sorted(CANONICAL))
def test_every_canonical_id_in_its_layer(gazetteer, layer):
    for pid in CANONICAL[layer]:
        assert pid in gazetteer, pid
        assert gazetteer[pid].layer == layer, pid
    if layer == "new-areas":
        assert len(gazetteer.in_layer(layer)) == 19


def test_extra_sites_with_kind(gazetteer):
    for pid, kind in EXTRA_SITES.items():
        place = gazetteer[pid]
        assert place.layer == "sites"
        assert place.attributes.get("kind"), pid
        if kind:
            assert place.attributes["kind"] == kind, pid
    for pid in CANONICAL["sites"]:
        assert gazetteer[pid].attributes["kind"] == "event"
    for pid in ("xian", "xianyang", "guiyang", "meishan", "guangyuan"):
        assert gazetteer[pid].geometry["precision"] == "city"


def test_names_in_three_languages_and_ids_unique(gazetteer):
    for place in gazetteer.places.values():
        assert all(place.names[lang] for lang in LANGS), place.id
    assert gazetteer["guian"].names["en"] == "Guizhou Gui'an New Area"
    assert gazetteer["pudong"].names["zh-Hant"] == "上海浦東新區"


def test_new_area_facts(gazetteer):
    for place in gazetteer.in_layer("new-areas"):
        recipe, facts = place.geometry, place.attributes
        assert recipe["extent"] == ("approximate" if place.id in APPROXIMATE else "exact")
        assert facts["official_area_km2"] > 0 and facts["province"]
        assert len(facts["approved"]) == 10  # ISO date
        assert recipe["anchor"], place.id
    assert gazetteer["nansha"].geometry["units"] == ["440115"]
    assert gazetteer["pudong"].attributes["approved"] == "1992-10-11"


def test_points_have_source_and_district(gazetteer):
    for layer in ("ports", "science-cities", "sites"):
        for place in gazetteer.in_layer(layer):
            assert place.source and "WGS84" in place.source, place.id
            assert place.geometry["district"] in place.source, place.id


# --- bad files fail with a message naming the file and the entry -------------------------

@pytest.fixture()
def data_copy(tmp_path, data_dir):
    shutil.copytree(data_dir / "places", tmp_path / "places")
    shutil.copy(data_dir / "layers.yaml", tmp_path / "layers.yaml")
    return tmp_path


def _edit(path, change):
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(entries)
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")


def test_unknown_layer_file(data_copy):
    shutil.copy(data_copy / "places" / "ports.yaml", data_copy / "places" / "harbours.yaml")
    with pytest.raises(GazetteerError, match=r"harbours\.yaml.*unknown layer 'harbours'"):
        load_gazetteer(data_copy / "places")


def test_duplicate_id(data_copy):
    def dup(entries):
        entries.append(dict(entries[0], names={"zh-Hans": "重复", "zh-Hant": "重複",
                                               "en": "Duplicate"}))
    _edit(data_copy / "places" / "ports.yaml", dup)
    with pytest.raises(GazetteerError, match=r"ports\.yaml: entry 'port-shanghai': duplicate"):
        load_gazetteer(data_copy / "places")


def test_duplicate_id_across_layers(data_copy):
    def dup(entries):
        entries[0]["id"] = "pudong"
    _edit(data_copy / "places" / "sites.yaml", dup)
    with pytest.raises(GazetteerError, match=r"sites\.yaml: entry 'pudong': duplicate id"):
        load_gazetteer(data_copy / "places")


def test_administrative_code_that_does_not_exist(data_copy):
    def bad(entries):
        entries[0]["geometry"]["units"] = ["310115", "310199"]
    _edit(data_copy / "places" / "new-areas.yaml", bad)
    with pytest.raises(GazetteerError, match=r"new-areas\.yaml: entry 'pudong'.*310199"):
        load_gazetteer(data_copy / "places")


@pytest.mark.parametrize("change, message", [
    (lambda e: e[0].pop("source"), "needs a source"),
    (lambda e: e[0]["geometry"].update(precision="street"), "precision"),
    (lambda e: e[0]["geometry"].update(point=[121.6]), r"\[lon, lat\]"),
    (lambda e: e[0]["names"].pop("zh-Hant"), "zh-Hant"),
    (lambda e: e[0].update(id="Port Shanghai"), "lower-case"),
    (lambda e: e[0]["geometry"].update(units=["310115"]), "do not fit a point layer"),
])
def test_other_bad_entries(data_copy, change, message):
    _edit(data_copy / "places" / "ports.yaml", change)
    with pytest.raises(GazetteerError, match=message):
        load_gazetteer(data_copy / "places")


def test_corridor_to_an_unknown_place(data_copy):
    def bad(entries):
        entries[0]["geometry"]["joins"] = ["xian", "chang-an"]
    _edit(data_copy / "places" / "corridors.yaml", bad)
    with pytest.raises(GazetteerError, match=r"corridors\.yaml: entry 'xian-xianyang'.*chang-an"):
        load_gazetteer(data_copy / "places")


# --- short names: the label forms of long names ------------------------------------------

def test_every_new_area_has_a_short_english_name(gazetteer):
    for place in gazetteer.in_layer("new-areas"):
        short = place.short_names.get("en")
        assert short and len(short) < len(place.names["en"]), place.id
        assert "New Area" not in short, place.id
    assert gazetteer["pudong"].short_names == {"zh-Hans": "浦东", "zh-Hant": "浦東",
                                               "en": "Pudong"}


def test_long_english_names_have_short_forms(gazetteer):
    """No label is longer than 40 characters in English: a longer name has a short form."""
    for place in gazetteer.places.values():
        label = place.short_names.get("en") or place.names["en"]
        assert len(label) <= 40, (place.id, label)


@pytest.mark.parametrize("short, message", [
    ({"fr": "Pudong"}, "short_names must map"),
    ({"en": "Shanghai Pudong New Area, Shanghai"}, "short_names.en must be text shorter"),
    ({"zh-Hans": ""}, "short_names.zh-Hans"),
    ("Pudong", "short_names must map"),
])
def test_bad_short_names(data_copy, short, message):
    _edit(data_copy / "places" / "new-areas.yaml", lambda e: e[0].update(short_names=short))
    with pytest.raises(GazetteerError, match=r"new-areas\.yaml: entry 'pudong': " + message):
        load_gazetteer(data_copy / "places")
