"""The five real sources parsed into units: structure, alignment, nothing lost or invented."""

from __future__ import annotations

import difflib
import re

import pytest

from layers.documents.loading import load_units
from layers.documents.registry import load_documents
from layers.paths import SOURCES_DIR
from layers.textnorm import convert, normalize

PINYIN = re.compile(r"\([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]*\)")
# Page chrome as the captures show it ("編制分類管理" in mofcom 10 is body text, so the
# labels are matched with their colon).
CHROME = ("分類 :", "分类 :", "分類:", "發布時間", "发布时间", "詳情", "-END-", "上一個",
          "Related News", "Related Downloads", "Release Date", "Source:", "undefined",
          "作者 :admin", "新聞中心", "監理責任風險")

# Similarity of a measure's zh-Hant text (normalised to zh-Hans) to its zh-Hans text.
# The versions differ by a few characters per measure (高新区/新区 in 9 and 19, a page
# break's doubled 源 in 15), which keeps every ratio above 0.98; a sentence put into the
# wrong unit moves 10+ characters of a unit of 80-320 and drops the ratio below 0.94.
MIN_SIMILARITY = 0.97


@pytest.fixture(scope="module")
def units():
    return load_units()


@pytest.fixture(scope="module")
def by_id(units):
    return {unit.id: unit for unit in units}


def keys_of(units, document):
    return [unit.key for unit in units if unit.document == document]


def similarity(unit) -> float:
    hans = normalize(unit.text["zh-Hans"], "zh-Hans")
    hant = normalize(unit.text["zh-Hant"], "zh-Hant")
    return difflib.SequenceMatcher(None, hans, hant, autojunk=False).ratio()


# --- structure ----------------------------------------------------------------------

def test_ndrc_has_preamble_overall_and_25_measures_in_three_languages(units):
    assert keys_of(units, "ndrc-2024") == ["preamble", "overall", *map(str, range(1, 26))]
    for unit in units:
        if unit.document == "ndrc-2024":
            assert unit.langs == ("zh-Hans", "zh-Hant", "en")
            assert all(text.strip() for text in unit.text.values()), unit.id


def test_ndrc_measures_sit_in_their_chapters(by_id):
    chapters = {2: range(1, 8), 3: range(8, 16), 4: range(16, 22), 5: range(22, 26)}
    for chapter, measures in chapters.items():
        for n in measures:
            unit = by_id[f"ndrc-2024:{n}"]
            assert (unit.kind, unit.chapter_number) == ("measure", chapter)
    assert by_id["ndrc-2024:overall"].chapter_number == 1
    assert by_id["ndrc-2024:overall"].kind == "overall"


def test_mofcom_has_16_measures_preamble_overall_closing(units, by_id):
    assert keys_of(units, "mofcom-2025") == [
        "preamble", "overall", *map(str, range(1, 17)), "closing"]
    chapters = {2: range(1, 6), 3: range(6, 10), 4: range(10, 13), 5: range(13, 17)}
    for chapter, measures in chapters.items():
        for n in measures:
            assert by_id[f"mofcom-2025:{n}"].chapter_number == chapter
    assert by_id["mofcom-2025:closing"].kind == "closing"


def test_xixian_has_three_parts_of_five_sections(units, by_id):
    sections = [f"{part}.{n}" for part in (1, 2, 3) for n in range(1, 6)]
    assert keys_of(units, "xixian-2023") == ["preamble", *sections, "closing"]
    titles = {1: "体会与感受", 2: "启发与思考", 3: "设想与建议"}
    for key in sections:
        unit = by_id[f"xixian-2023:{key}"]
        assert unit.kind == "section"
        assert unit.chapter_title == {"zh-Hans": titles[unit.chapter_number]}


def test_ids_unique_ordered_and_match_registry(units):
    assert len({unit.id for unit in units}) == len(units)
    registered = [document.id for document in load_documents()]
    assert list(dict.fromkeys(unit.document for unit in units)) == registered
    for document in registered:
        orders = [unit.order for unit in units if unit.document == document]
        assert orders == list(range(len(orders)))
    for unit in units:
        assert unit.id == f"{unit.document}:{unit.key}"


# --- titles -------------------------------------------------------------------------

def test_measure_13_title_in_each_language(by_id):
    assert by_id["ndrc-2024:13"].title == {
        "zh-Hans": "进一步发挥临港和开放平台优势",
        "zh-Hant": "進一步發揮臨港和開放平台優勢",
        "en": "Further leverage the advantages of Lingang and open platforms",
    }


def test_inline_titles_are_the_first_sentence_of_the_text(units):
    for unit in units:
        if unit.kind != "measure":
            continue
        for lang, title in unit.title.items():
            assert title, (unit.id, lang)
            assert unit.text[lang].startswith(title), (unit.id, lang)
            rest = unit.text[lang][len(title):]
            assert rest[:1] in ("。", "."), (unit.id, lang, rest[:10])


def test_xixian_titles_from_headings_and_from_inline_bold(by_id):
    # "### （一）国家战略任务落实好": a heading line; "**（一）抓住大机遇。一要…**": inline.
    assert by_id["xixian-2023:1.1"].title["zh-Hans"] == "国家战略任务落实好"
    assert by_id["xixian-2023:2.1"].title["zh-Hans"] == "抓住大机遇"
    assert by_id["xixian-2023:2.2"].title["zh-Hans"] == "突出大规划"
    opening = "抓住大机遇。一要切实发挥核心枢纽作用。"
    assert by_id["xixian-2023:2.1"].text["zh-Hans"].count(opening) == 1


def test_chapter_titles_align_and_the_lost_heading_is_restored(units):
    for unit in units:
        if unit.document != "ndrc-2024" or unit.chapter_number is None:
            continue
        titles = unit.chapter_title
        assert set(titles) == {"zh-Hans", "zh-Hant", "en"}
        assert normalize(titles["zh-Hant"], "zh-Hant") == titles["zh-Hans"], unit.id
    overall = next(u for u in units if u.id == "ndrc-2024:overall")
    assert overall.chapter_title["zh-Hant"] == convert(overall.chapter_title["zh-Hans"], "s2t")
    assert overall.chapter_title["en"] == "Overall Requirements"


# --- alignment of the ndrc versions -------------------------------------------------

def test_zh_hant_matches_zh_hans_after_normalisation(units):
    for unit in units:
        if unit.document == "ndrc-2024":
            assert similarity(unit) >= MIN_SIMILARITY, (unit.id, similarity(unit))


def test_known_differences_gaoxinqu_in_9_and_19(by_id):
    for key in ("9", "19"):
        unit = by_id[f"ndrc-2024:{key}"]
        hans = normalize(unit.text["zh-Hans"], "zh-Hans")
        hant = normalize(unit.text["zh-Hant"], "zh-Hant")
        assert "高新区" in hans
        ops = difflib.SequenceMatcher(None, hans, hant, autojunk=False).get_opcodes()
        changed = [(op, hans[i1:i2], hant[j1:j2]) for op, i1, i2, j1, j2 in ops if op != "equal"]
        assert changed and all(op == "delete" and "高" in a for op, a, _ in changed), changed


def test_naive_conversion_stays_in_display_but_not_in_matching_form(by_id):
    preamble = by_id["ndrc-2024:preamble"].text["zh-Hant"]
    overall = by_id["ndrc-2024:overall"].text["zh-Hant"]
    assert "西鹹" in preamble and "西咸" in normalize(preamble, "zh-Hant")
    assert "全麵" in overall and "全面" in normalize(overall, "zh-Hant")
    bad = {"西鹹": "西咸", "全麵": "全面", "體係": "体系", "機製": "机制", "方麵": "方面"}
    for unit in by_id.values():
        for lang, text in unit.text.items():
            normal = normalize(text, lang)
            for wrong, right in bad.items():
                if wrong in text:
                    assert wrong not in normal and right in normal, (unit.id, wrong)


def test_the_doubled_zh_hant_body_is_kept_once(by_id):
    raw = (SOURCES_DIR / "ndrc-2024.zh-Hant.txt").read_text(encoding="utf-8")
    sentence = "進一步發揮臨港和開放平台優勢"
    assert raw.count(sentence) == 2
    found = [u.id for u in by_id.values() if sentence in u.text.get("zh-Hant", "")]
    assert found == ["ndrc-2024:13"]
    assert by_id["ndrc-2024:13"].text["zh-Hant"].count(sentence) == 1


# --- nothing lost, nothing invented -------------------------------------------------

def test_no_chrome_pinyin_markdown_or_stray_breaks(units):
    for unit in units:
        for lang, text in unit.text.items():
            where = (unit.id, lang)
            for chrome in CHROME:
                assert chrome not in text, (*where, chrome)
            assert not PINYIN.search(text), (*where, PINYIN.search(text))
            assert "**" not in text and "#" not in text, where
            assert "  " not in text and not re.search(r"\s[，。、,；：]", text), where
            lines = text.split("\n")
            for i, line in enumerate(lines):
                assert line == line.strip() and line, where
                # Front matter has lines of its own (signature, date, a title); a closing
                # ends with its list of names. Anywhere else a line is a whole paragraph.
                free = unit.kind == "preamble" or (unit.kind == "closing" and i == len(lines) - 1)
                assert free or line.rstrip("”’」』）)》\"")[-1] in "。！？；：.!?;:…", (
                    *where, line[-20:])
            title = unit.title.get(lang, "")
            assert "\n" not in title and "**" not in title and not PINYIN.search(title)


def test_real_brackets_in_mofcom_survive(by_id):
    text = "".join(by_id[f"mofcom-2025:{k}"].text["zh-Hant"] for k in range(1, 17))
    for kept in ("(5G)", "(M0)", "(跨)", "(三類物流倉儲用地除外)"):
        assert kept in text, kept
    assert "省(市)" in by_id["ndrc-2024:17"].text["zh-Hant"]
    assert "開發區" in by_id["mofcom-2025:10"].text["zh-Hant"]


def _body_lines(name: str) -> list[str]:
    """The body lines of a source, with chrome found by the test's own reading of it.

    Lines that start with a comma or full stop (the zh-Hant preamble, one clause a line)
    are put back on the line before, so every piece is a whole sentence.
    """
    lines = (SOURCES_DIR / name).read_text(encoding="utf-8").split("\n")
    if name == "ndrc-2024.en.txt":
        # Headline and metadata above the title; "Related News" and after at the bottom.
        start = lines.index("Source:") + 2
        lines = lines[start:lines.index("Related News")]
    elif name == "ndrc-2024.zh-Hant.txt":
        start = lines.index("詳情") + 1
        lines = [line for line in lines[start:lines.index("上一個:")] if line != "-END-"]
    out: list[str] = []
    for line in lines:
        if out and line[:1] in ",，、。":
            out[-1] += line
        elif line.strip():
            out.append(line)
    return out


def _pieces(line: str, lang: str) -> list[str]:
    """The sentence pieces of a raw line, markup, markers, pinyin and spaces removed."""
    line = re.sub(r"^#+\s*", "", line).replace("**", "")
    line = PINYIN.sub("", line)
    line = re.sub(r"^[（(]\s*([一二三四五六七八九十]+|\d+|[A-Z][a-z]+(-[a-z]+)?)\s*[）)]", "", line)
    line = re.sub(r"^([一二三四五六七八九十]+\s*、|[IVX]+\.\s|\d\.\s)", "", line)
    splitter = r"(?<=\.)\s+" if lang == "en" else r"(?<=[。！？；])"
    return [re.sub(r"\s+", "", p) for p in re.split(splitter, line) if p.strip()]


@pytest.mark.parametrize("document", load_documents(), ids=lambda d: d.id)
def test_every_sentence_of_the_body_is_in_exactly_one_unit(units, document):
    mine = [u for u in units if u.document == document.id]
    for lang, name in document.versions.items():
        texts = [re.sub(r"\s+", "", u.text[lang]) for u in mine]
        headings = {re.sub(r"\s+", "", t) for u in mine
                    for t in (u.title.get(lang, ""), u.chapter_title.get(lang, ""))}
        for line in _body_lines(name):
            for piece in _pieces(line, lang):
                found = sum(piece in text for text in texts)
                if found == 0 and piece.rstrip("。.") in headings:
                    continue  # a heading line: a chapter or unit title
                if len(piece) < 4 and found > 1:
                    continue  # too short to be told apart ("。")
                assert found == 1, (document.id, lang, piece, found)


def test_units_invent_nothing(units):
    """Every sentence of every unit text is in the source (up to spaces and markup).

    Spaces are dropped on both sides, so a sentence a page break cut is whole again.
    """
    for document in load_documents():
        for lang, name in document.versions.items():
            raw = re.sub(r"\s+", "", (SOURCES_DIR / name).read_text(encoding="utf-8"))
            raw = PINYIN.sub("", raw.replace("**", ""))
            for unit in units:
                if unit.document != document.id:
                    continue
                for sentence in re.split(r"(?<=[。！？])|\n", unit.text[lang]):
                    piece = re.sub(r"\s+", "", sentence)
                    assert piece in raw, (unit.id, lang, piece)


def test_english_units_invent_nothing(units):
    raw = re.sub(r"\s+", " ", (SOURCES_DIR / "ndrc-2024.en.txt").read_text(encoding="utf-8"))
    for unit in units:
        if "en" in unit.text:
            for sentence in re.split(r"(?<=\.)\s+", unit.text["en"]):
                assert sentence in raw, (unit.id, sentence)


# --- damage repaired ---------------------------------------------------------------

def test_page_breaks_joined(by_id):
    overall = by_id["ndrc-2024:overall"].text["zh-Hans"]
    assert "更有作为" in overall and "\n" not in overall
    assert "依托事业单位通过特设岗位" in by_id["ndrc-2024:18"].text["zh-Hans"]
    assert "资源。源，拓展" in by_id["ndrc-2024:15"].text["zh-Hans"]  # kept as captured
    assert "内陆开放型经济新高地" in by_id["xixian-2023:1.1"].text["zh-Hans"]
    assert "三要高水平建设西安国际航空枢纽。" in by_id["xixian-2023:2.4"].text["zh-Hans"]
    assert "既要总结过去，更应" in by_id["xixian-2023:3.1"].text["zh-Hans"]
    assert "贵阳市融合发展" in by_id["xixian-2023:1.5"].text["zh-Hans"]


def test_zh_hant_preamble_clauses_joined_into_one_paragraph(by_id):
    text = by_id["ndrc-2024:preamble"].text["zh-Hant"]
    assert "\n" not in text
    assert "包括上海浦東、河北雄安新區和天津濱海、重慶兩江" in text
    assert text.endswith("提出如下行動計劃。")


def test_preamble_closing_and_team_list(by_id):
    mofcom = by_id["mofcom-2025:preamble"]
    assert mofcom.title["zh-Hant"].startswith("商務部關于印發《深化國家級經濟技術開發區")
    lines = mofcom.text["zh-Hant"].split("\n")
    assert lines[0].startswith("中央組織部") and "商務部" in lines and "2025年5月21日" in lines
    assert lines[-1].startswith("建設國家級經濟技術開發區(以下簡稱國家級經開區)")
    assert by_id["mofcom-2025:closing"].text["zh-Hant"].startswith("各地區、各有關部門")
    closing = by_id["xixian-2023:closing"].text["zh-Hans"]
    assert closing.startswith("发展是硬道理")
    assert "调研组成员：刘宇斌" in closing and closing.endswith("执笔：赵江 冯涛 席维东 龚丹晨")
    xixian = by_id["xixian-2023:preamble"]
    assert xixian.title["zh-Hans"] == "西咸新区赴国家级新区学习考察报告"
    assert xixian.text["zh-Hans"].startswith("国家级新区考察调研组\n为进一步学习")


def test_english_headline_above_the_metadata_is_chrome(units):
    headline = (SOURCES_DIR / "ndrc-2024.en.txt").read_text(encoding="utf-8").split("\n")[0]
    assert headline.startswith("The National Development and Reform Commission issued")
    assert not any(headline[:60] in u.text.get("en", "") for u in units)
