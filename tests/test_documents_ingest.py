"""A user's own files read into documents and units: every format, script and encoding,
numbered and not, each linked to its places with the real gazetteer.

The files are in tests/fixtures/documents/user/, written for these tests (the encoded
and binary ones made from sources/ by make_fixtures.py there).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lxml_html

from layers.documents.ingest import read_document
from layers.documents.numbering import match_marker
from layers.documents.sentences import sentences
from layers.gazetteer import load_gazetteer
from layers.linking import link_units

USER = Path(__file__).parent / "fixtures" / "documents" / "user"

# file -> what it must parse to. keys: unit keys in order; kind: the kind of every unit
# that is not a preamble/overall; places: unit key -> the places it names (all other
# units name none); meta: the document's fields; body: where the body text is written
# (its source text, in UTF-8) and which of its lines are not body (metadata, chrome).
EXPECTED = {
    "news-harbin.zh-Hans.txt": dict(
        lang="zh-Hans", id="news-harbin-zh-hans", keys=["1", "2", "3", "4"], kind="paragraph",
        meta=dict(title="哈尔滨新区获批 成为东北首个国家级新区", date="2015-12-22",
                  publisher="新华网", number=""),
        places={"1": {"harbin"}, "2": {"harbin"}, "3": {"pudong", "binhai"}},
        outside=["来源：新华网", "发布时间：", "责任编辑", "【纠错】", "上一篇", "冰雪旅游季"]),
    "pifu-harbin.zh-Hans.txt": dict(
        lang="zh-Hans", id="pifu-harbin-zh-hans", keys=["preamble", "1", "2", "3", "4"],
        kind="measure",
        meta=dict(title="国务院关于同意设立哈尔滨新区的批复", date="2015-12-16",
                  publisher="国务院", number="国函〔2015〕217号"),
        places={"preamble": {"harbin"}, "1": {"harbin"}, "2": {"harbin"}},
        outside=["国函〔2015〕217号", "2015年12月16日"]),
    "regulation-tianfu.zh-Hans.txt": dict(
        lang="zh-Hans", id="regulation-tianfu-zh-hans", keys=["preamble", *"1234567"],
        kind="measure", meta=dict(title="四川天府新区条例", date="", number=""),
        chapters={"1": (1, "总则"), "3": (2, "规划与建设"), "7": (3, "附则")},
        places={"1": {"tianfu"}, "2": {"tianfu"}, "3": {"tianfu"}, "4": {"tianfu"},
                "5": {"tianfu"}, "6": {"tianfu", "western-science-city"}}),
    "entry-liangjiang.zh-Hans.txt": dict(
        lang="zh-Hans", id="entry-liangjiang-zh-hans", keys=list("123456"), kind="paragraph",
        meta=dict(title="重庆两江新区", date=""),
        titles={"2": "概况", "4": "产业发展", "6": "交通"},
        places={"1": {"liangjiang", "pudong", "binhai"}, "2": {"liangjiang"},
                "4": {"liangjiang", "liangjiang-innovation-zone"},
                "5": {"china-singapore-chongqing-park", "chongqing-singapore", "singapore"}}),
    "news-pudong.en.txt": dict(
        lang="en", id="pudong-marks-35-years-of-development-and", keys=list("1234"),
        kind="paragraph", meta=dict(title="Pudong marks 35 years of development and opening up",
                                    date="2025-04-18"),
        places={"1": {"pudong"}, "2": {"pudong", "zhangjiang", "port-shanghai"},
                "4": {"pudong", "binhai", "liangjiang", "nansha"}},
        outside=["Updated: April 18, 2025"]),
    "plan-guian.zh-Hant.txt": dict(
        lang="zh-Hant", id="plan-guian-zh-hant",
        keys=["preamble", "overall", "1", "2", "3", "4"], kind="measure",
        meta=dict(title="貴安新區推進數字經濟發展實施方案"),
        chapters={"overall": (1, "主要目標"), "1": (2, "重點任務"), "4": (3, "保障措施")},
        places={"preamble": {"guian"}, "2": {"guian", "guiyang", "guiyang-guian"},
                "3": {"greater-bay-area", "chengdu-chongqing"}}),
    "news-tianfu.gbk.txt": dict(
        lang="zh-Hans", id="news-tianfu-gbk", keys=list("123"), kind="paragraph",
        source="sources/news-tianfu.zh-Hans.txt",
        meta=dict(title="天府新区发布科技创新十条措施", date="2024-05-20"),
        places={"1": {"tianfu"}, "2": {"western-science-city"},
                "3": {"tianfu", "liangjiang", "chengdu-chongqing"}},
        outside=["2024年5月20日"]),
    "news-nansha.big5.txt": dict(
        lang="zh-Hant", id="news-nansha-big5", keys=list("123"), kind="paragraph",
        source="sources/news-nansha.zh-Hant.txt",
        meta=dict(title="南沙新區推出便利港澳青年創業措施", date="2024-07-02"),
        places={"1": {"nansha", "hong-kong", "macao"},
                "2": {"greater-bay-area", "hong-kong", "macao", "nansha-hong-kong-macao"},
                "3": {"hong-kong", "macao"}},
        outside=["發布時間：2024-07-02"]),
    "gov-harbin.en.html": dict(
        lang="en", id="state-council-approves-harbin-new-area", keys=list("1234"),
        kind="paragraph", meta=dict(title="State Council approves Harbin New Area",
                                    date="2015-12-22"),
        titles={"3": "A hub for cooperation with Russia"},
        places={"1": {"harbin"}, "4": {"pudong", "binhai", "port-dalian"}},
        outside=["Updated: December 22, 2015", "Home", "Premier urges", "Related stories",
                 "Copyright", "Contact us"]),
    "news-xixian.gbk.html": dict(
        lang="zh-Hans", id="news-xixian-gbk", keys=list("123"), kind="paragraph",
        source="sources/news-xixian.zh-Hans.html",
        meta=dict(title="西咸新区秦创原总窗口建设提速", date="2024-03-15", publisher="陕西日报"),
        places={"1": {"xixian", "qinchuangyuan"},
                "2": {"xixian", "xian", "xianyang", "xian-xianyang"},
                "3": {"xian-xianyang-airport"}},
        outside=["首页", "关于我们", "版权所有", "来源"]),
    "entry-xiongan.en.txt": dict(
        lang="en", id="xiong-an-new-area", keys=list("123"), kind="paragraph",
        meta=dict(title="Xiong'an New Area", date=""),
        titles={"2": "Planning", "3": "Development"},
        places={"1": {"xiongan", "jing-jin-ji"}}),
    "news-qianhai.zh-Hant.html": dict(
        lang="zh-Hant", id="news-qianhai-zh-hant", keys=list("123"), kind="paragraph",
        meta=dict(title="南沙與前海深化合作 共建灣區金融樞紐", date="2024-09-10"),
        url="https://news.example.hk/finance/2024/09/nansha-qianhai",
        places={"1": {"nansha"}, "2": {"nansha", "hong-kong", "greater-bay-area"},
                "3": {"greater-bay-area", "port-guangzhou"}},
        outside=["首頁", "港聞", "版權所有", "2024年9月10日 08:30"]),
    "report-xiongan.docx": dict(
        lang="zh-Hans", id="report-xiongan", keys=list("1234"), kind="paragraph",
        source="sources/report-xiongan.zh-Hans.txt",
        meta=dict(title="雄安新区建设进展情况的报告", date="2024-04-01"),
        titles={"1": "一年来的主要工作", "3": "下一步打算"},
        places={"1": {"xiongan"}, "4": {"jing-jin-ji"}},
        outside=["2024年4月1日"]),
    "plan-jiangbei.docx": dict(
        lang="zh-Hans", id="plan-jiangbei", keys=["overall", "1", "2", "3", "chapter-3"],
        kind="measure", source="sources/plan-jiangbei.zh-Hans.txt",
        meta=dict(title="南京江北新区2024年重点工作安排"),
        chapters={"overall": (1, "总体目标"), "2": (2, "主要任务"), "chapter-3": (3, "保障措施")},
        places={"2": {"pudong", "zhoushan"}}),
    "notice-lanzhou.pdf": dict(
        lang="zh-Hans", id="notice-lanzhou", keys=["preamble", "1", "2", "3"], kind="measure",
        source="sources/notice-lanzhou.zh-Hans.txt",
        meta=dict(title="关于支持兰州新区高质量发展的若干措施", date="2024-03-08",
                  publisher="甘肃省人民政府办公厅", number="甘政办发〔2024〕15号"),
        places={key: {"lanzhou"} for key in ("preamble", "1", "2", "3")},
        outside=["甘政办发〔2024〕15号", "2024年3月8日"]),
}
UNNUMBERED = [name for name, e in EXPECTED.items() if e["kind"] == "paragraph"]
# The same texts in other formats (made by make_fixtures.py): the same units and places.
SAME_TEXT = {  # file: (the file it was made from, its id, chrome of its own)
    "plan-guian.docx": ("plan-guian.zh-Hant.txt", "plan-guian", []),
    "entry-xiongan.docx": ("entry-xiongan.en.txt", "xiong-an-new-area", []),
    "news-nansha.pdf": ("news-nansha.big5.txt", "news-nansha", []),
    "news-pudong.pdf": ("news-pudong.en.txt", "pudong-marks-35-years-of-development-and", []),
    "pifu-harbin.html": ("pifu-harbin.zh-Hans.txt", "pifu-harbin",
                         ["首页", "主办单位", "版权所有"]),
}
for _name, (_twin, _id, _chrome) in SAME_TEXT.items():
    EXPECTED[_name] = {**EXPECTED[_twin], "id": _id,
                       "source": EXPECTED[_twin].get("source", _twin),
                       "outside": EXPECTED[_twin].get("outside", []) + _chrome}


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


@pytest.fixture(scope="module")
def parsed():
    return {name: read_document(USER / name) for name in EXPECTED}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_structure_and_metadata(parsed, name):
    expected = EXPECTED[name]
    document, units = parsed[name]
    lang = expected["lang"]
    assert document.id == expected["id"]
    assert document.versions == {lang: name}
    assert list(document.title) == [lang] and list(document.publisher) == [lang]
    meta = {"title": document.title[lang], "date": document.date,
            "publisher": document.publisher[lang], "number": document.number}
    assert {k: meta[k] for k in expected["meta"]} == expected["meta"]
    assert document.url == expected.get("url", "")
    assert [unit.key for unit in units] == expected["keys"]
    for order, unit in enumerate(units):
        assert unit.id == f"{document.id}:{unit.key}"
        assert (unit.document, unit.order, unit.langs) == (document.id, order, (lang,))
        assert unit.text[lang].strip()
        if unit.key not in ("preamble", "overall") and not unit.key.startswith("chapter-"):
            assert unit.kind == expected["kind"], unit.id
    by_key = {unit.key: unit for unit in units}
    for key, (number, title) in expected.get("chapters", {}).items():
        assert (by_key[key].chapter_number, by_key[key].chapter_title) == (number, {lang: title})
    for key, title in expected.get("titles", {}).items():
        assert by_key[key].title == {lang: title}


def _body_lines(name: str) -> list[str]:
    """The lines of a fixture's text as its author wrote them, in UTF-8."""
    source = USER / EXPECTED[name].get("source", name)
    if source.suffix == ".html":
        page = lxml_html.fromstring(source.read_text(encoding="utf-8"))
        blocks = page.xpath("//article//*[self::p or self::h1 or self::h2] | //h1 | "
                            "//div[@class='content' or @class='article']//p")
        return [block.text_content().strip() for block in blocks]
    return [line.removeprefix("# ").strip()
            for line in source.read_text(encoding="utf-8-sig").splitlines()]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_body_sentence_is_in_exactly_one_unit(parsed, name):
    """Nothing of the body lost or doubled; metadata and chrome in no unit."""
    expected = EXPECTED[name]
    document, units = parsed[name]
    lang = expected["lang"]
    texts = [unit.text[lang] for unit in units]
    chapters = {unit.chapter_title.get(lang) for unit in units} - {None, ""}
    metadata = {document.title[lang], document.date, document.publisher[lang],
                document.number} - {""}
    outside = expected.get("outside", [])
    checked = 0
    for line in _body_lines(name):
        marker = match_marker(line)
        rest = marker.rest if marker else line
        if not line or line in metadata or any(o in line for o in outside) \
                or rest in chapters or line.removesuffix("：") in metadata:
            continue
        # A marker is dropped from a unit's text, except on a line kept whole (第一节 规划).
        whole = all(sum(text.count(s) for text in texts) == 1 for s in sentences(line, lang))
        for sentence in sentences(line if whole else rest, lang):
            assert sum(text.count(sentence) for text in texts) == 1, (name, sentence)
            checked += 1
    assert checked >= len(units)
    for text in texts:
        for piece in outside:
            assert piece not in text, (name, piece)
        assert document.title[lang] not in text.split("\n")


@pytest.mark.parametrize("name", list(EXPECTED))
def test_units_link_to_the_expected_places(parsed, gazetteer, name):
    units = parsed[name][1]
    links = link_units(units, gazetteer)
    found = {unit.key: set(links.mentions.loc[links.mentions["unit_id"] == unit.id,
                                              "place_id"]) for unit in units}
    expected = {unit.key: EXPECTED[name]["places"].get(unit.key, set()) for unit in units}
    assert found == expected


def test_ten_unnumbered_real_style_texts_parse(parsed):
    """The kind of text issue 13 found refused: news, entries, pages, a report."""
    assert len(UNNUMBERED) == 10
    assert len([n for n, (twin, _, _) in SAME_TEXT.items() if twin in UNNUMBERED]) == 3
    for name in UNNUMBERED:
        assert {unit.kind for unit in parsed[name][1]} == {"paragraph"}


def test_place_names_inside_longer_names_are_not_mentions(parsed, gazetteer):
    """浦东发展银行, Pudong International Airport, 中国雄安集团: named after a place, not it."""
    for name, key, inside, named in (
            ("news-harbin.zh-Hans.txt", "3", "上海浦东发展银行", ["上海浦东", "天津滨海"]),
            ("news-pudong.en.txt", "3", "Pudong International Airport", []),
            ("report-xiongan.docx", "2", "中国雄安集团", [])):
        unit = next(u for u in parsed[name][1] if u.key == key)
        assert inside in unit.text[EXPECTED[name]["lang"]]
        assert list(link_units([unit], gazetteer).mentions["surface"]) == named


NEWS_PARAGRAPHS = [
    "本报讯 近日，天府新区召开科技创新大会，发布一批支持政策。",
    "会议指出，要加快建设西部（成都）科学城，集聚高端创新资源。",
    "会上，一批重点项目集中签约，总投资超过三百亿元。",
    "与会企业代表表示，将加大在新区的研发投入。",
    "据介绍，新区去年新增科技型企业两千余家。",
    "新区还将举办系列创新创业活动，吸引青年人才。",
    "会议对下一步工作提出三点要求：",
    "1、加快创新平台建设。",
    "2、强化企业创新主体地位。",
    "3、优化创新生态。",
    "会议由新区管委会主持。",
]


def test_a_numbered_list_deep_in_a_news_report_stays_paragraphs(tmp_path):
    path = tmp_path / "news.txt"
    path.write_text("\n".join(NEWS_PARAGRAPHS) + "\n", encoding="utf-8")
    _, units = read_document(path)
    assert {unit.kind for unit in units} == {"paragraph"}
    texts = [unit.text["zh-Hans"] for unit in units]
    # the colon paragraph keeps its list together; the list keeps its numbers
    assert "会议对下一步工作提出三点要求：\n1、加快创新平台建设。" in texts[6]
    assert texts[-1] == "会议由新区管委会主持。"


def test_numbering_out_of_order_is_read_as_paragraphs(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_text("（一）加快建设新区。\n（三）深化改革开放。\n（二）强化保障。\n",
                    encoding="utf-8")
    _, units = read_document(path)
    assert [unit.text["zh-Hans"] for unit in units] == [
        "（一）加快建设新区。", "（三）深化改革开放。", "（二）强化保障。"]
