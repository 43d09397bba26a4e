"""The data files, their validation, the importers' agreement with them, and the built database."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from knowledge.build import eligibility_problems, build
from knowledge.datafiles import load_document, load_yaml
from knowledge.importers import DOCUMENTS
from knowledge.manifest import documents
from knowledge.paths import DATA_DIR
from knowledge.query import KnowledgeBase, KnowledgeBaseError
from knowledge.review import unrecorded_differences
from knowledge.text import load_source
from knowledge.trees import parse_tree, tree_problems
from knowledge.validate import validate_item


@pytest.mark.parametrize(
    ("document", "items", "offices", "phones"),
    [("hengyang", 33, 14, 64), ("chenzhou", 33, 0, 0), ("changsha", 55, 11, 29), ("hunan2025", 39, 0, 0),
     ("hubei", 28, 0, 0)],
)
def test_stats_match_the_documents(kb: KnowledgeBase, document: str, items: int, offices: int, phones: int) -> None:
    row = kb.stats()[document]
    assert (row["items"], row["offices"], row["phones"]) == (items, offices, phones)
    assert row["materials"] > items and row["time_limits"] >= items - 1


def test_93_distinct_phone_numbers_in_the_hengyang_and_changsha_guides(kb: KnowledgeBase) -> None:
    numbers = {row[0] for row in kb.connection.execute("select distinct number from phones")}
    assert len(numbers) == 93


def test_every_hengyang_and_changsha_office_has_an_address(kb: KnowledgeBase) -> None:
    rows = kb.connection.execute(
        "select items.document, offices.unit, count(*) from offices join items on items.id = offices.item_id "
        "where offices.address != '' group by 1, 2").fetchall()
    units = {(document, unit) for document, unit, _ in rows}
    assert len([u for u in units if u[0] == "hengyang"]) == 14
    assert len([u for u in units if u[0] == "changsha"]) == 11
    assert ("hengyang", "高新区") in units and ("changsha", "高新区") in units


def test_2025_list_has_ten_main_items_and_27_sub_items(kb: KnowledgeBase) -> None:
    parents, codes = zip(*kb.connection.execute(
        "select parent_code, code from items where document = 'hunan2025'").fetchall())
    assert len(set(parents)) == 10 and len(set(codes)) == 27


def test_hubei_items_are_all_mapped_to_national_codes(kb: KnowledgeBase) -> None:
    codes = [row[0] for row in kb.connection.execute("select code from items where document = 'hubei'")]
    assert len(codes) == len(set(codes)) == 28 and all(code.startswith("002036") for code in codes)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_reviewed_file_equals_importer_output_plus_recorded_corrections(document: str) -> None:
    differences = unrecorded_differences(document)
    assert differences == [], (
        f"{len(differences)} unrecorded hand edits in knowledge/data/documents/{document}.yml; record them with "
        f"`python -m knowledge corrections {document} --reason '...'`. First: {differences[:1]}")


def test_every_item_of_every_document_has_a_name_materials_and_a_time_limit() -> None:
    for document in DOCUMENTS:
        for item in load_document(document)["items"]:
            assert item["name"], (document, item["key"])
            if item["key"] != "002036010002#39":  # the 2025 list leaves row 39's 办理材料 cell empty (003:625)
                assert item["materials"], (document, item["key"])
            assert item["time_limits"], (document, item["key"])


def _item(**changes: object) -> dict:
    item = dict(load_document("hengyang")["items"][13])
    item.update(changes)
    return item


def test_validation_accepts_the_reviewed_record() -> None:
    document = documents()["hengyang"]
    assert validate_item(document, load_source(document.file), _item()) == []


def test_validation_rejects_a_material_that_is_not_in_its_lines() -> None:
    document = documents()["hengyang"]
    bad = _item(materials=[{"text": "户口本原件及复印件三份", "condition": None, "lines": [3527, 3527]}])
    problems = validate_item(document, load_source(document.file), bad)
    assert len(problems) == 1 and "not in lines" in problems[0].message


def test_validation_rejects_a_phone_number_that_is_not_in_its_lines() -> None:
    document = documents()["hengyang"]
    item = _item()
    phone = dict(item["phones"][0], number="0734-1234567")
    problems = validate_item(document, load_source(document.file), dict(item, phones=[phone]))
    assert problems and "not in its lines" in problems[0].message


def test_validation_rejects_citations_of_the_2020_list_for_hengyang() -> None:
    document = documents()["hengyang"]
    bad = _item(time_limits=[{"text": "即时办结", "condition": None, "lines": [9010, 9012]}])
    problems = validate_item(document, load_source(document.file), bad)
    assert problems and "outside the document" in problems[0].message


def test_build_writes_a_complete_database(tmp_path: Path) -> None:
    path = build(tmp_path / "knowledge.db")
    kb = KnowledgeBase(path)
    assert kb.stats()["hengyang"]["items"] == 33
    fts = kb.connection.execute("select count(*) from search_fts").fetchone()[0]
    assert fts == sum(kb.stats()[d]["items"] for d in DOCUMENTS)


def test_a_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="python -m knowledge build"):
        KnowledgeBase(tmp_path / "absent.db")


def test_a_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(KnowledgeBaseError):
        KnowledgeBase(path)


def test_an_empty_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    with pytest.raises(KnowledgeBaseError, match="lacks tables"):
        KnowledgeBase(path)


def _trees() -> list[dict]:
    return load_yaml(DATA_DIR / "eligibility.yml")["trees"]


def test_the_eligibility_trees_validate_and_every_rule_quotes_its_lines(kb: KnowledgeBase) -> None:
    catalogue = load_yaml(DATA_DIR / "items.yml")
    codes = {entry["code"] for entry in catalogue["main_items"] + catalogue["sub_items"]}
    assert eligibility_problems(_trees(), codes) == []
    rules = [rule for tree in kb.trees.values() for leaf in tree.leaves for rule in leaf.rules]
    assert len(rules) > 40
    hengyang = next(leaf for leaf in kb.trees["remote_care"].leaves if leaf.id == "remote_care_emergency").rules_for("hengyang")
    assert hengyang[0].quote == "参保人在急诊后三个工作日内" and hengyang[0].citation == "衡阳市办事指南第4537–4539行"


def test_a_tree_rule_whose_quote_is_not_in_its_lines_is_rejected() -> None:
    trees = _trees()
    trees[0]["leaves"][0]["rules"][0]["quote"] = "户口簿或居住证明均可"
    problems = eligibility_problems(trees, {"00203600400Y", "002036004001", "002036004002", "002036004003",
                                      "002036004004", "002036004005", "002036006002"})
    assert any("not in" in problem.message and "户口簿或居住证明均可" in problem.message for problem in problems)


def test_a_tree_leaf_with_an_unknown_answer_is_rejected() -> None:
    tree = parse_tree(_trees()[0])
    broken = {**_trees()[0], "leaves": [{**_trees()[0]["leaves"][0], "when": {"plan": "forever"}}]}
    assert any("when unknown plan=forever" in problem for problem in tree_problems(parse_tree(broken), {tree.item}))


def test_each_leaf_is_reached_by_its_own_answers_and_asks_nothing_more(kb: KnowledgeBase) -> None:
    for tree in kb.trees.values():
        assert tree.leaf({}) is None and tree.next_question({}) is tree.questions[0]
        for leaf in tree.leaves:
            assert tree.leaf(dict(leaf.when)) is leaf
