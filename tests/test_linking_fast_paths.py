"""The linker's shortcuts find exactly what the rules read hit by hit find.

`resolve` decides most clusters of hits as arrays, reads contexts only where the plain
readings leave a cluster open, and resolves the rest once per shape; `readings_at` reads
the contexts of many hits at once, rule by rule; `context.settled` skips reading a
guarded form's context where no name can void it; the general rule checks a batch's
matches against the standing spans at once. The straightforward path (every cluster
through the rule hit by hit, every context read hit by hit when the rule asks for it,
each text's matches checked against its own spans) must give the same links: on the real
units, on them under other documents and run together, and on texts written to catch the
shortcuts out.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from layers.documents.loading import load_units
from layers.documents.model import Unit
from layers.gazetteer import load_gazetteer
from layers.linking import Linker, english
from layers.linking import linker as linker_module


def straightforward_holds(rule, document, family, text, start, end, window, low, high):
    """A context rule at one form, as rules.yaml says it."""
    if rule.documents is not None and document not in rule.documents:
        return False
    before_any, after_any, not_before, not_after = rule.by_family[family]
    before, after = text[max(low, start - window):start], text[end:min(high, end + window)]
    if any(p.search(before) for p in not_before) or any(p.search(after) for p in not_after):
        return False
    if not before_any and not after_any:
        return True
    return any(p.search(after) for p in after_any) or any(p.search(before) for p in before_any)


def straightforward_readings(keys, rules, family, text, text_starts, documents, hits):
    """Each hit's reading, read on its own: a guard that voids it, else the first
    conditional reading one of whose rules holds, else the plain one."""
    found = []
    for start, end, number in zip(*(column.tolist() for column in hits), strict=True):
        key = keys.keys[number]
        i = int(np.searchsorted(text_starts, start, side="right")) - 1
        low, high = text_starts[i], text_starts[i + 1] - 1
        reading = key.plain
        if key.guard is not None and key.guard.voids(text, start, low):
            reading = None
        else:
            reading = next((r for r in key.conditional for name in r.when
                            if straightforward_holds(rules.contexts[name], documents[i], family,
                                                     text, start, end, rules.window, low,
                                                     high)), key.plain)
        found.append(-1 if reading is None else keys.reading_number[id(reading)])
    return np.array(found, dtype=np.int64)


def straightforward_cluster(hits, keys, read):
    """The rule hit by hit for one cluster: longest first (leftmost among equals); a hit
    stands when its context gives it a reading and everything standing that it overlaps
    is a keep-inner form holding it wholly and naming other places. Contexts are read
    one hit at a time, when the rule comes to the hit."""
    standing = []
    for start, end, number in sorted(hits, key=lambda hit: (hit[0] - hit[1], hit[0])):
        holders = []
        for other in standing:
            if other[1] <= start or end <= other[0]:
                continue
            if other[2].keep_inner and other[0] <= start and end <= other[1]:
                holders.append(other)
                continue
            break
        else:
            key = keys.keys[number]
            reading = key.plain
            if key.conditional:
                found = int(read((np.array([start]), np.array([end]), np.array([number])))[0])
                reading = None if found < 0 else keys.readings[found]
            if reading is not None and not any(
                    set(reading.places) & set(h[2].places) for h in holders):
                standing.append((start, end, reading))
    return standing


def straightforward_resolve(hits, keys, read, settled=None, shapes=None):
    """Every cluster of overlapping hits through the rule hit by hit."""
    starts, ends, numbers = hits
    order = np.argsort(starts, kind="stable")
    clusters: list[list] = []
    reach = -1
    for start, end, number in zip(starts[order].tolist(), ends[order].tolist(),
                                  numbers[order].tolist(), strict=True):
        if clusters and start < reach:
            clusters[-1].append((start, end, number))
            reach = max(reach, end)
        else:
            clusters.append([(start, end, number)])
            reach = end
    kept = sorted((start, end, keys.reading_number[id(reading)])
                  for cluster in clusters for start, end, reading
                  in straightforward_cluster(cluster, keys, read))
    columns = np.array(kept, dtype=np.int64).reshape(-1, 3).T
    return columns[0], columns[1], columns[2]


def straightforward_general(rules, family, text, bounds, starts, ends):
    """Each text on its own: a match of a general pattern outside all its spans."""
    found = []
    for low, high in bounds:
        spans = [(s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
                 if low <= s < high]
        found.append(any(
            not any(s <= low + match.start() and low + match.end() <= e for s, e in spans)
            for pattern in rules.general_patterns[family]
            for match in pattern.finditer(text[low:high])))
    return found


@pytest.fixture(scope="module")
def linker():
    return Linker.load(load_gazetteer())


def made_up(number: int, document: str, **text: str) -> Unit:
    return Unit(id=f"{document}:f{number}", document=document, key=str(number),
                kind="measure", order=number, chapter_number=None,
                text={lang.replace("_", "-"): value for lang, value in text.items()})


def written() -> list[Unit]:
    """Guarded forms after their own and other places' names, at a text's start, after
    a name's last character; keep-inner forms; general and not general texts."""
    texts = [
        dict(zh_Hans="汕头滨海新区、天津滨海新区和滨海新区建设", en="Binhai New Area"),
        dict(zh_Hans="贵安新区与贵州贵安新区，贵阳贵安融合发展", zh_Hant="貴州貴安新區與貴安新區"),
        dict(zh_Hans="宁波江北新区，南京江北新区、江北新区", zh_Hant="寧波江北新區"),
        dict(zh_Hans="市贵安新区，省天府新区，四川天府新区，成都天府新区", en="Tianfu New Area"),
        dict(zh_Hans="支持有关新区加快发展，浦东新区、高新区", en="support the new areas"),
        dict(zh_Hans="上海浦东新区", en="the Pudong New Area and the high-tech zone"),
        dict(zh_Hans="对兰州、陕西西咸、贵州贵安、哈尔滨、长春等新区",
             zh_Hant="對蘭州、陝西西鹹新區"),
        dict(zh_Hant="陝西西鹹新區與西咸一體化、西安—咸陽一體化", en="Xi’an–Xianyang integration"),
        dict(en="new areas such as Lanzhou, Fuzhou and Nansha, Harbin, Changchun and others"),
        dict(zh_Hans="福州新区与平潭综合实验区，两江新区与天府新区协同"),
        dict(zh_Hans="“双安”（长安、贵安）协同", zh_Hant="長安"),
    ]
    return [made_up(n, document, **text) for document in ("ndrc-2024", "xixian-2023",
                                                          "mofcom-2025")
            for n, text in enumerate(texts)]


def corpus() -> list[Unit]:
    """The real units, under every document, and run together in pairs."""
    units = load_units()
    documents = sorted({unit.document for unit in units})
    moved = [dataclasses.replace(unit, id=f"{unit.id}@{document}", document=document)
             for unit in units for document in documents if document != unit.document]
    joined = [dataclasses.replace(a, id=f"{a.id}+{b.id}", text={
        lang: a.text.get(lang, "") + b.text.get(lang, "") for lang in a.text})
        for a, b in zip(units, units[1:] + units[:1], strict=True)]
    return units + moved + joined + written()


def test_the_shortcuts_link_as_the_rules_read_hit_by_hit(linker, monkeypatch):
    units = corpus()
    fast = linker.link(units)
    monkeypatch.setattr(linker_module, "resolve", straightforward_resolve)
    monkeypatch.setattr(linker_module, "readings_at", straightforward_readings)
    monkeypatch.setattr(linker_module, "settled", lambda *args: None)
    monkeypatch.setattr(linker_module, "speaking_to_all", straightforward_general)
    plain = linker.link(units)
    assert len(fast.mentions) > 1000 and len(fast.general_units) > 20
    pd.testing.assert_frame_equal(fast.mentions, plain.mentions)
    pd.testing.assert_frame_equal(fast.unit_places, plain.unit_places)
    assert fast.general_units == plain.general_units


def test_written_texts_exercise_every_shortcut(linker):
    links = linker.link(written())
    found = set(zip(links.mentions["unit_id"], links.mentions["place_id"], strict=True))
    assert ("ndrc-2024:f0", "binhai") in found  # 天津滨海新区 and the bare 滨海新区
    assert ("ndrc-2024:f3", "tianfu") in found
    assert "ndrc-2024:f4" in links.general_units
    assert "ndrc-2024:f5" not in links.general_units
    shantou = links.mentions[(links.mentions["unit_id"] == "ndrc-2024:f0")
                             & (links.mentions["lang"] == "zh-Hans")]
    assert (shantou["start"] > 2).all()  # 汕头滨海新区 names nothing


def test_a_covering_form_with_a_rule_that_keeps_what_it_holds(tmp_path, monkeypatch):
    # No shipped form has both a context rule and keep_inner: one is added for the test.
    # Read in its context, it stands and the places inside it count too.
    for name in ("aliases.yaml", "rules.yaml"):
        text = (linker_module.LINKING_DIR / name).read_text(encoding="utf-8")
        if name == "aliases.yaml":
            assert "zh: [西咸一体化]" in text
            text = text.replace("zh: [西咸一体化]",
                                "zh: [西咸一体化, {form: 西安咸阳走廊, when: xixian-report}]")
        (tmp_path / name).write_text(text, encoding="utf-8")
    linker = Linker.load(load_gazetteer(), tmp_path)
    units = [made_up(1, "xixian-2023", zh_Hans="推进西安咸阳走廊建设"),
             made_up(2, "ndrc-2024", zh_Hans="推进西安咸阳走廊建设")]
    fast = linker.link(units)
    monkeypatch.setattr(linker_module, "resolve", straightforward_resolve)
    monkeypatch.setattr(linker_module, "readings_at", straightforward_readings)
    plain = linker.link(units)
    pd.testing.assert_frame_equal(fast.mentions, plain.mentions)
    named = fast.unit_places.groupby("unit_id")["place_id"].apply(set).to_dict()
    assert named["xixian-2023:f1"] >= {"xian-xianyang", "xian", "xianyang"}
    assert "xian-xianyang" not in named.get("ndrc-2024:f2", set())


def test_english_folds_ascii_text_in_one_pass_as_any_text():
    # An ASCII text takes a one-pass translation; with one more character (é, its own
    # lower case and fold) it takes the general path: the folds must agree.
    rng = np.random.default_rng(15)
    for length in (0, 1, 5, 200, 5000):
        text = "".join(map(chr, rng.integers(0, 128, length).tolist()))
        text += " Pudong  New-Area\tGUI'AN  "
        folded, collapsed = english.fold(text)
        general, general_collapsed = english.fold(text + "é")
        assert folded + "é" == general
        assert (collapsed is None) == (general_collapsed is None)
        if collapsed is not None:
            np.testing.assert_array_equal(collapsed.folded_at, general_collapsed.folded_at)
            np.testing.assert_array_equal(collapsed.dropped, general_collapsed.dropped)


def test_clusters_remembered_by_shape_link_as_read_afresh(linker, monkeypatch):
    # The same clusters of overlapping forms in many texts and documents, some with a
    # form whose rule reads a context (两江新区 has one; 长安 reads as Xi'an only in
    # xixian-2023) and some that read none (a corridor over its places): a shape holds
    # each hit's reading, so one form read two ways makes two shapes. The second link
    # comes from the Linker's memory of shapes, and must link as the rule read afresh.
    texts = ["西安—咸阳一体化与两江新区与天府新区协同", "“双安”(长安、贵安)协同发展",
             "福州新区与平潭综合实验区，两江新区与天府新区", "推进西安—咸阳一体化"]
    units = [made_up(10 * n + k, document, zh_Hans=text, zh_Hant=text)
             for n, document in enumerate(("xixian-2023", "ndrc-2024", "mofcom-2025"))
             for k, text in enumerate(texts)]
    fresh = Linker.load(load_gazetteer())
    first = fresh.link(units)
    shapes = fresh.shapes["zh"]
    remembered = dict(shapes)
    assert any(len(outcome) > 1 for outcome in remembered.values())  # a corridor and more
    again = fresh.link(units)  # every shape now known
    assert shapes.keys() == remembered.keys()
    monkeypatch.setattr(linker_module, "resolve", straightforward_resolve)
    monkeypatch.setattr(linker_module, "readings_at", straightforward_readings)
    plain = fresh.link(units)
    for links in (first, again):
        pd.testing.assert_frame_equal(links.mentions, plain.mentions)
        pd.testing.assert_frame_equal(links.unit_places, plain.unit_places)
    named = plain.unit_places.groupby("unit_id")["place_id"].apply(set).to_dict()
    assert "xian" in named["xixian-2023:f1"] and "xian" not in named.get("ndrc-2024:f11", set())


def test_settled_reads_the_character_before_each_guarded_form_as_the_rule(linker):
    # context.settled picks the characters before all guarded hits at once; it must say
    # what rules.may_end_a_name says hit by hit: at a text's start, one character in,
    # after a name's last character (汕头, 宁波), after any other, alone or among many.
    from layers.linking import automaton, context
    from layers.linking.matching import matching_form
    from layers.linking.rules import may_end_a_name

    keys = linker.keys["zh"]
    groups = [["滨海新区"], ["汕滨海新区"], ["a滨海新区", "汕头滨海新区、宁波江北新区"],
              ["贵安新区与贵州贵安新区", "", "市江北新区", "头滨海新区"],
              [unit.text["zh-Hans"] for unit in load_units() if unit.text.get("zh-Hans")]]
    checked = 0
    for texts in groups:
        form = matching_form(texts, "zh-Hans")
        hits = automaton.scan(linker.automata["zh"], keys, form.text, words=False)
        found = context.settled(keys, form.text, hits, form.starts)
        for k in np.flatnonzero(keys.guarded[hits[2]]).tolist():
            start = int(hits[0][k])
            low = form.starts[int(form.texts_at(np.array([start]))[0])]
            assert found[k] == (not may_end_a_name(form.text, start, low, keys.guard_ends))
            checked += 1
        assert not found[~keys.guarded[hits[2]]].any()
    assert checked > 10


@pytest.mark.parametrize("separator", ["\x00", "\ue000"])
def test_general_patterns_over_joined_texts_find_what_each_text_alone_finds(linker, separator):
    # speaking_to_all reads a pattern without anchors or lookarounds over all texts at
    # once and reads again alone any text a match crosses into or out of: patterns that
    # match a separator, empty strings, word edges, and ones read text by text.
    import re

    from layers.linking.general import speaking_to_all

    patterns = ["新区", "新区.{0,3}", ".新区", "x*", r"\b", r"\bnew (?:areas?|districts?)\b",
                r"new(?<!\wnew) (?:areas?|districts?)\b",
                "(?<=a)新区", "^新区", "新区$", "[^新]区", r"区\s*新", "a|新区\\s*"]
    rng = np.random.default_rng(15)
    pieces = ["新", "区", "新区", "a", " ", "\n", "x", "new areas", "new", "区新"]
    # written: a match from a text not asked about running into the next one asked about
    written = [(["a", "新区", "新区"], [0, 2], [1]), (["新区", "", "区"], [0, 2], [3]),
               (["x新", "区新", "区"], [0, 1, 2], [10])]
    for trial in range(600):
        if trial < len(written):
            texts, chosen, chosen_patterns = written[trial]
        else:
            texts = ["".join(rng.choice(pieces, rng.integers(0, 8)).tolist())
                     for _ in range(rng.integers(1, 9))]
            chosen = sorted(set(rng.integers(0, len(texts), rng.integers(1, len(texts) + 1))
                                .tolist()))
            chosen_patterns = rng.choice(len(patterns), rng.integers(1, 3),
                                         replace=False).tolist()
        text = separator.join(texts)
        at = np.cumsum([0] + [len(t) + 1 for t in texts])
        bounds = [(int(at[i]), int(at[i + 1] - 1)) for i in chosen]
        spans = []  # standing forms lie inside a text
        for i in rng.integers(0, len(texts), rng.integers(0, 4)).tolist():
            if texts[i]:
                s = int(at[i] + rng.integers(0, len(texts[i])))
                spans.append((s, int(min(s + rng.integers(1, 4), at[i] + len(texts[i])))))
        spans.sort()
        starts = np.array([s for s, _ in spans], dtype=np.int64)
        ends = np.array([e for _, e in spans], dtype=np.int64)
        rules = dataclasses.replace(linker.rules, general_patterns={
            "zh": tuple(re.compile(patterns[i]) for i in chosen_patterns)})
        assert speaking_to_all(rules, "zh", text, bounds, starts, ends) == \
            straightforward_general(rules, "zh", text, bounds, starts, ends), (texts, chosen,
                                                                               chosen_patterns)


def test_the_rules_literal_first_english_patterns_match_as_their_word_boundary_forms(linker):
    # rules.yaml writes "\bnew" as "new(?<!\wnew)" so that the regex engine can search for
    # the literal: both must find the same matches, at a text's start, after a letter, a
    # digit, an underscore, a separator or punctuation, in the real English texts and in
    # windows cut anywhere from them.
    import re

    rules = linker.rules
    written = [rules.general_patterns["en"][0],
               rules.contexts["new-area-context"].by_family["en"][0][0]]
    assert all(p.pattern.startswith("new(?<!\\wnew) ") for p in written)
    english_texts = [english.fold(unit.text["en"])[0] for unit in load_units()
                     if unit.text.get("en")]
    texts = [f"{before}new {noun}{after}" for before in ("", " ", "re", "a", "1", "_", "\x00",
                                                          "\ue000", "-", "'", "é")
             for noun in ("areas such as lanzhou, harbin and ", "area", "districts,")
             for after in ("", " and changchun", "x")]
    rng = np.random.default_rng(15)
    joined = " ".join(english_texts)
    windows = [joined[a:a + 240] for a in rng.integers(0, len(joined), 400).tolist()]
    for pattern in written:
        boundary = re.compile(pattern.pattern.replace("new(?<!\\wnew) ", "\\bnew ", 1))
        for text in texts + english_texts + windows:
            assert [m.span() for m in pattern.finditer(text)] == \
                [m.span() for m in boundary.finditer(text)], (pattern.pattern, text)
    assert sum(bool(written[0].search(t)) for t in english_texts) > 5
