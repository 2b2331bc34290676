"""The parser on documents written for the tests, on broken sources, and through the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layers.documents.errors import SourceError
from layers.documents.loading import document_units, load_units
from layers.documents.numbering import match_marker
from layers.documents.registry import load_documents
from layers.paths import DATA_DIR, SOURCES_DIR

FIXTURES = Path(__file__).parent / "fixtures" / "documents"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fixture_units():
    documents = load_documents(FIXTURES / "documents.yaml")
    return {d.id: {u.key: u for u in document_units(d, FIXTURES)} for d in documents}


# --- a new document in a known style parses with no code change ---------------------

def test_new_measures_document_in_three_styles_aligns(fixture_units):
    units = fixture_units["demo-2030"]
    assert list(units) == ["preamble", "overall", "1", "2", "3", "4"]
    assert [units[k].chapter_number for k in ("1", "2", "3", "4")] == [2, 2, 2, 3]
    for unit in units.values():
        assert unit.langs == ("zh-Hans", "zh-Hant", "en")
    assert units["3"].title == {"zh-Hans": "深化区域合作", "zh-Hant": "深化區域合作",
                                "en": "Deepen regional cooperation"}
    assert units["4"].chapter_title["en"] == "Strengthen safeguards"


def test_new_document_damage_is_repaired(fixture_units):
    units = fixture_units["demo-2030"]
    # Page breaks inside a chapter's text and inside a measure.
    assert "走在前列" in units["overall"].text["zh-Hans"]
    assert "共建产业园区" in units["3"].text["zh-Hans"]
    # zh-Hant: clause lines joined, spaces before punctuation gone, pinyin dropped, the
    # missing 一、 heading restored from the zh-Hans version.
    preamble = "為支持沿海新區更好發揮開放門戶作用,現提出如下措施。"
    assert units["preamble"].text["zh-Hant"] == preamble
    assert units["overall"].chapter_title["zh-Hant"] == "總體要求"
    assert units["2"].text["zh-Hant"].endswith("產業集群(5G)。")
    assert "發(fā)" not in units["overall"].text["zh-Hant"]
    # Chrome gone: headline and metadata above, related links and end marks below.
    every = " ".join(t for u in units.values() for t in u.text.values())
    for chrome in ("分类", "详情", "-END-", "上一篇", "Release Date", "Related News",
                   "undefined", "Ministry publishes"):
        assert chrome not in every


def test_new_sections_document_in_markdown_style(fixture_units):
    units = fixture_units["report-2031"]
    assert list(units) == ["preamble", "1.1", "1.2", "2.1", "2.2", "closing"]
    assert units["preamble"].title["zh-Hans"] == "某新区学习考察报告"
    assert units["1.1"].title["zh-Hans"] == "规划引领好"  # "### （一）…" heading
    assert units["1.2"].title["zh-Hans"] == "产业发展好"  # "#### （二）…", another depth
    assert units["2.1"].title["zh-Hans"] == "抓住大机遇"  # "**（一）抓住大机遇。…**"
    assert "形成了组团式发展格局" in units["1.1"].text["zh-Hans"]
    assert "**" not in units["1.1"].text["zh-Hans"]
    assert units["closing"].text["zh-Hans"] == (
        "发展是硬道理。我们要对标先进，坚定推动新区高质量发展。\n"
        "调研组成员：张三 李四 王五 执笔：赵六")


# --- broken sources stop with a message naming the file -----------------------------

@pytest.fixture
def sources(tmp_path):
    """A copy of the real sources to break."""
    target = tmp_path / "sources"
    shutil.copytree(SOURCES_DIR, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def _rewrite(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_wrong_encoding(sources):
    path = sources / "ndrc-2024.zh-Hans.txt"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    with pytest.raises(SourceError, match=r"ndrc-2024\.zh-Hans\.txt: not valid UTF-8"):
        load_units(sources)


def test_no_recognisable_structure(sources):
    (sources / "xixian-2023.zh-Hans.txt").write_text("这是一段没有任何编号的文字。\n\n又一段。\n",
                                                     encoding="utf-8")
    with pytest.raises(SourceError, match=r"xixian-2023\.zh-Hans\.txt: no recognisable structure"):
        load_units(sources)


def test_missing_file(sources):
    (sources / "ndrc-2024.en.txt").unlink()
    with pytest.raises(SourceError, match=r"ndrc-2024\.en\.txt: cannot read"):
        load_units(sources)


def test_copies_of_the_doubled_body_must_agree(sources):
    path = sources / "ndrc-2024.zh-Hant.txt"
    text = path.read_text(encoding="utf-8")
    second = text.rindex("(十三)進一步發揮臨港")
    path.write_text(text[:second] + text[second:].replace("上海港", "廈門港", 1),
                    encoding="utf-8")
    with pytest.raises(SourceError, match=r"ndrc-2024\.zh-Hant\.txt: .*copies of unit 13 differ"):
        load_units(sources)


def test_numbering_out_of_order(sources):
    _rewrite(sources / "mofcom-2025.zh-Hant.txt", "(十四)支持", "(十五)支持")
    with pytest.raises(SourceError, match=r"mofcom-2025\.zh-Hant\.txt: .*out of order"):
        load_units(sources)


def test_versions_that_do_not_line_up(sources):
    path = sources / "ndrc-2024.en.txt"
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(line for line in lines if not line.startswith("(Twenty-five)")),
                    encoding="utf-8")
    with pytest.raises(SourceError, match=r"ndrc-2024\.en\.txt: units do not line up"):
        load_units(sources)


# --- the CLI ------------------------------------------------------------------------

def _xinqu(*args: str, data: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": "true"}
    if data is not None:
        env["XINQU_DATA"] = str(data)
    return subprocess.run([sys.executable, "-m", "webapp.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_lists_units_as_json_and_table():
    done = _xinqu("units", "--document", "ndrc-2024", "--format", "json")
    assert done.returncode == 0, done.stderr
    units = json.loads(done.stdout)
    assert [u["key"] for u in units] == ["preamble", "overall", *map(str, range(1, 26))]
    title = "Further leverage the advantages of Lingang and open platforms"
    assert units[14]["title"]["en"] == title
    table = _xinqu("units")
    assert table.returncode == 0
    rows = table.stdout.splitlines()
    assert rows[0].split() == ["ID", "KIND", "CH", "LANGS", "TITLE"]
    assert len(rows) == 1 + len(load_units())
    assert any(row.startswith("xixian-2023:3.4 ") for row in rows)


def test_cli_unknown_document():
    done = _xinqu("units", "--document", "nope-1999")
    assert done.returncode == 2
    assert "unknown document 'nope-1999'" in done.stderr and "ndrc-2024" in done.stderr


def test_cli_broken_source_is_one_line_and_nonzero(tmp_path):
    data = tmp_path / "data"  # the whole data folder (other commands read it too), no build
    shutil.copytree(DATA_DIR, data, ignore=shutil.ignore_patterns("build"))
    broken = data / "sources" / "mofcom-2025.zh-Hant.txt"
    broken.chmod(0o644)
    broken.write_bytes(b"\xff\xfe" + "(一)".encode("utf-16-le"))
    done = _xinqu("units", data=data)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0] == ("xinqu units: mofcom-2025.zh-Hant.txt: "
                        "UTF-16 text; convert the capture to UTF-8")


# --- numbering styles ---------------------------------------------------------------

@pytest.mark.parametrize(("line", "level", "number", "rest"), [
    ("一、总体要求", "chapter", 1, "总体要求"),
    ("二 、增強新區科技和產業競爭力", "chapter", 2, "增強新區科技和產業競爭力"),
    ("III. Multiple Measures to Expand Effective Demand", "chapter", 3, "Multiple Measures"),
    ("4. Support new districts in deepening reforms in key areas.", "chapter", 4, "Support"),
    ("（十三）进一步发挥临港和开放平台优势。", "item", 13, "进一步发挥"),
    ("(四) 支持新区优化重点产业布局。", "item", 4, "支持新区"),
    ("(八)高水平谋划和建设重大项目。", "item", 8, "高水平"),
    ("(二十五) 强化监测评估和跟踪督促。", "item", 25, "强化监测"),
    ("(12) Cultivate new consumption formats.", "item", 12, "Cultivate"),
    ("(Thirteen) Further leverage the advantages", "item", 13, "Further"),
    ("(Twenty-five) Strengthen monitoring", "item", 25, "Strengthen"),
])
def test_numbering_styles(line, level, number, rest):
    marker = match_marker(line)
    assert marker is not None
    assert (marker.level, marker.number) == (level, number)
    assert marker.rest.startswith(rest)


@pytest.mark.parametrize("line", ["一要狠抓外部通道。", "(5G)等网络", "(M0)。", "(市)要切实",
                                  "IIII. Not a numeral", "(Foo) bar", "2018 年 2 月"])
def test_not_markers(line):
    assert match_marker(line) is None
