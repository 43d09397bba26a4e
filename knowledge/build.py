"""Validate every data file and build knowledge.db (sqlite-utils, with an FTS5 index)."""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable

import sqlite_utils

from knowledge.datafiles import load_document, load_yaml
from knowledge.importers import DOCUMENTS
from knowledge.manifest import documents
from knowledge.paths import DATA_DIR, DB_PATH
from knowledge.regions import load_regions
from knowledge.text import bigrams, load_source, normalize
from knowledge.trees import parse_tree, tree_problems
from knowledge.validate import Problem, validate_document

ASPECTS = {"materials", "office", "phone", "supervision", "time_limit", "process", "eligibility", "legal_basis",
           "online", "form", "amount", "name", "existence"}
PARENTHESES = re.compile(r"[（(][^（()）]*[)）]")
ITEM_LISTS = ("process", "materials", "time_limits", "notes", "legal_basis", "online_channels")


class BuildError(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems[:50])) + f"\n{len(problems)} problems")
        self.problems = problems


def _quote_problems(where: str, quote: dict[str, Any] | None) -> list[Problem]:
    if not quote or quote.get("text") is None:
        return []
    document = documents()[quote.get("document", "hunan2025")]
    first, last = quote["lines"]
    if not document.first_line <= first <= last <= document.last_line:
        return [Problem(where, f"lines {first}-{last} outside {document.id}")]
    if normalize(quote["text"]) not in load_source(document.file).normalized_span(first, last):
        return [Problem(where, f"not in {document.id} lines {first}-{last}: {quote['text']!r}")]
    return []


def eligibility_problems(trees: list[dict], codes: set[str]) -> list[Problem]:
    """Each tree is consistent and each rule's quote is in the lines it cites."""
    problems = []
    for data in trees:
        tree = parse_tree(data)
        problems += [Problem(f"eligibility.yml:{tree.id}", text) for text in tree_problems(tree, codes)]
        for leaf in data["leaves"]:
            for rule in leaf.get("rules") or []:
                problems += _quote_problems(f"eligibility.yml:{leaf['id']}",
                                            {"document": rule["document"], "lines": rule["lines"], "text": rule["quote"]})
    return problems


def validate_all(catalogue: dict[str, Any], conflicts: list[dict], gaps: list[dict],
                 trees: list[dict] | None = None) -> list[Problem]:
    problems = [problem for document in DOCUMENTS for problem in validate_document(document)]
    codes = {entry["code"] for entry in catalogue["main_items"] + catalogue["sub_items"]}
    for entry in catalogue["sub_items"]:
        if entry["parent"] not in codes:
            problems.append(Problem(f"items.yml:{entry['code']}", f"unknown parent {entry['parent']}"))
        merged = entry.get("hunan2025")
        if merged:
            if merged["merged_into"] not in codes:
                problems.append(Problem(f"items.yml:{entry['code']}", f"unknown code {merged['merged_into']}"))
            problems += _quote_problems(f"items.yml:{entry['code']}",
                                        {"document": "hunan2025", "lines": merged["lines"], "text": merged["evidence"]})
    for document in DOCUMENTS:
        for item in load_document(document)["items"]:
            if item["code"] is not None and item["code"] not in codes:
                problems.append(Problem(f"{document}:{item['key']}", f"code {item['code']} not in items.yml"))
    for conflict in conflicts:
        where = f"conflicts.yml:{conflict['id']}"
        if conflict["code"] not in codes or conflict["aspect"] not in ASPECTS:
            problems.append(Problem(where, "unknown code or aspect"))
        for statement in conflict["statements"]:
            problems += _quote_problems(where, statement)
        problems += _quote_problems(where, dict(conflict["hunan2025"], document="hunan2025"))
    for gap in gaps:
        where = f"gaps.yml:{gap['id']}"
        if not set(gap["aspects"]) <= ASPECTS:
            problems.append(Problem(where, f"unknown aspects {set(gap['aspects']) - ASPECTS}"))
        for quote in gap.get("evidence") or []:
            problems += _quote_problems(where, quote)
    problems += eligibility_problems(trees or [], codes)
    problems += _matching_aid_problems(codes)
    return problems


def _item_rows(document: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{document}:{item['key']}", "document": document, "key": item["key"], "code": item["code"],
        "parent_code": item["parent_code"], "local_code": item["local_code"], "row": item["row"],
        "name": item["name"], "first_line": item["lines"][0], "last_line": item["lines"][1],
    }


def _sourced(item_id: str, records: Iterable[dict[str, Any]], **extra: Any) -> list[dict[str, Any]]:
    rows = []
    for seq, record in enumerate(records):
        row = {key: value for key, value in record.items() if key not in ("lines", "evidence", "notes")}
        row.update(item_id=item_id, seq=seq, first_line=record["lines"][0], last_line=record["lines"][1], **extra)
        rows.append(row)
    return rows


def _insert_documents(db: sqlite_utils.Database) -> dict[str, list[dict[str, Any]]]:
    db["documents"].insert_all(
        ({"id": d.id, "file": d.file, "title": d.title, "short": d.short, "issuer": d.issuer, "region": d.region,
          "year": d.year, "date_note": d.date_note} for d in documents().values()), pk="id")
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in
                                               ("items", "sections", "forms", "form_notes", "offices", "phones",
                                                "general_notes", *ITEM_LISTS)}
    for document in DOCUMENTS:
        data = load_document(document)
        tables["general_notes"] += [
            {"document": document, "seq": seq, "text": note["text"], "first_line": note["lines"][0],
             "last_line": note["lines"][1]} for seq, note in enumerate(data.get("general_notes", []))]
        for item in data["items"]:
            item_id = f"{document}:{item['key']}"
            tables["items"].append(_item_rows(document, item))
            tables["sections"] += [
                {"item_id": item_id, "name": name, "text": section["text"], "first_line": section["lines"][0],
                 "last_line": section["lines"][1]} for name, section in item["sections"].items()]
            for list_name in ITEM_LISTS:
                tables[list_name] += _sourced(item_id, item[list_name])
            tables["forms"] += _sourced(item_id, item["forms"])
            for form_seq, form in enumerate(item["forms"]):
                tables["form_notes"] += _sourced(item_id, form.get("notes") or [], form_seq=form_seq)
            tables["offices"] += _sourced(item_id, item["offices"])
            tables["phones"] += _sourced(item_id, item["phones"])
    db["items"].insert_all(tables.pop("items"), pk="id", foreign_keys=[("document", "documents")],
                           columns={"row": int, "code": str, "local_code": str})
    for name, rows in tables.items():
        if rows:
            db[name].insert_all(rows, alter=True)
    return tables


def _insert_catalogue(db: sqlite_utils.Database, catalogue: dict[str, Any]) -> None:
    rows, aliases = [], []
    for level, entries in (("main", catalogue["main_items"]), ("sub", catalogue["sub_items"])):
        for entry in entries:
            rows.append({"code": entry["code"], "level": level, "parent": entry.get("parent"),
                         "name": entry["names"][0], "names": json.dumps(entry["names"], ensure_ascii=False),
                         "cues": json.dumps(entry.get("cues", []), ensure_ascii=False),
                         "hunan2025_merged_into": json.dumps(entry.get("hunan2025"), ensure_ascii=False)})
            aliases += [{"alias": alias, "code": entry["code"], "kind": "name"} for alias in entry["names"]]
            aliases += [{"alias": alias, "code": entry["code"], "kind": "alias"} for alias in entry["aliases"]]
    db["catalogue"].insert_all(rows, pk="code")
    for item in db["items"].rows:
        name = re.sub(r"[《》“”\"]", "", item["name"])
        value = item["local_code"] or item["code"]
        if value:
            aliases += [{"alias": text, "code": value, "kind": "document"} for text in {name, PARENTHESES.sub("", name)}]
    db["aliases"].insert_all(aliases)
    db["aliases"].create_index(["alias"])


def _insert_regions(db: sqlite_utils.Database) -> None:
    regions = load_regions()
    db["regions"].insert_all(
        ({"id": r.id, "name": r.name, "level": r.level, "province": r.province, "city": r.city,
          "document": r.document, "unit": r.unit} for r in regions), pk="id")
    db["region_names"].insert_all(
        ({"name": name, "normalized": normalize(name).lower(), "region_id": r.id} for r in regions
         for name in sorted(r.names)))
    db["region_names"].create_index(["normalized"])


ABOUT_SECTIONS = ("服务对象", "事项名称", "申请条件", "办理条件")
PASSAGE_TABLES = ("notes", "form_notes", "process", "sections", "materials", "time_limits")
PASSAGE_SKIPPED_SECTIONS = ("事项名称", "评价渠道", "监督电话", "办理材料", "办理时限")
SENTENCE_END = re.compile(r"(?<=[。；;！？!?])|\n+")
SHORTEST_PASSAGE = 12
NUMBERED = re.compile(r"\d+[.、．]|[①-⑳]")


def _insert_search_index(db: sqlite_utils.Database, tables: dict[str, list[dict[str, Any]]]) -> None:
    """One FTS5 row per item (character bigrams): its name, the catalogue names and aliases of its code, the
    situations that describe it, what it says of whom it serves (服务对象, conditions, notes), and its materials."""
    aliases: dict[str, list[str]] = {}
    for row in db["aliases"].rows:
        aliases.setdefault(row["code"], []).append(row["alias"])
    situations: dict[str, list[str]] = {}
    for row in db["situations"].rows:
        situations.setdefault(row["code"], []).append(row["pattern"].replace("+", " "))
    catalogue = {row["code"]: row for row in db["catalogue"].rows}
    texts: dict[str, dict[str, list[str]]] = {"materials": {}, "about": {}}
    for row in tables["materials"]:
        texts["materials"].setdefault(row["item_id"], []).append(row["text"])
    for row in tables["notes"] + [s for s in tables["sections"] if s["name"] in ABOUT_SECTIONS]:
        texts["about"].setdefault(row["item_id"], []).append(row["text"])
    rows = []
    for item in db["items"].rows:
        code_aliases = aliases.get(item["code"], []) + aliases.get(item["parent_code"], [])
        if item["code"] in catalogue:
            code_aliases += [catalogue[item["code"]]["name"]]
        own = item["local_code"] or item["code"]
        rows.append({"item_id": item["id"], "name": bigrams(item["name"]),
                     "aliases": bigrams(" ".join(code_aliases)),
                     "situations": bigrams(" ".join(situations.get(own, []))),
                     "about": bigrams(" ".join(texts["about"].get(item["id"], []))),
                     "materials": bigrams(" ".join(texts["materials"].get(item["id"], [])))})
    db["search"].insert_all(rows, pk="item_id")
    db["search"].enable_fts(["name", "aliases", "situations", "about", "materials"], fts_version="FTS5",
                            tokenize="unicode61")


def sentences(text: str) -> list[str]:
    """A text cut into its sentences (。；！？ or a line break); a short piece is joined to the one after it,
    a numbered step (3.审批。) always starts a new one."""
    found: list[str] = []
    pending = ""
    for piece in (piece.strip() for piece in SENTENCE_END.split(text) if piece and piece.strip()):
        if pending and NUMBERED.match(piece):
            found.append(pending)
            pending = ""
        pending += piece
        if len(pending) >= SHORTEST_PASSAGE:
            found.append(pending)
            pending = ""
    if pending:
        found.append(pending)
    return found


def _insert_passages(db: sqlite_utils.Database, tables: dict[str, list[dict[str, Any]]]) -> None:
    """One FTS5 row per sentence of each item's own text (notes, the notes of its forms, its steps, its sections,
    its materials with their conditions, its time limits), so an answer can quote the sentence a question is about."""
    rows = []
    for table in PASSAGE_TABLES:
        for record in tables[table]:
            if table == "sections" and record["name"] in PASSAGE_SKIPPED_SECTIONS:
                continue
            text = record["text"] + (f"（{record['condition']}）" if record.get("condition") else "")
            for sentence in sentences(text):
                rows.append({"item_id": record["item_id"], "kind": table, "text": sentence,
                             "grams": bigrams(sentence), "first_line": record["first_line"],
                             "last_line": record["last_line"]})
    db["passages"].insert_all(rows)
    db["passages"].enable_fts(["grams"], fts_version="FTS5", tokenize="unicode61")


def _item_keys(codes: set[str]) -> set[str]:
    """Every value an item can be named by: catalogue codes and the documents' local keys (长沙 0731-1 …)."""
    return codes | {item["local_code"] or item["key"] for document in DOCUMENTS
                    for item in load_document(document)["items"]}


def situation_patterns() -> dict[str, list[str]]:
    """The situation patterns of every item: situations.yml, then those reviewed in the operations console
    (reviewed.yml, written by bot/ops/labels.py)."""
    patterns = {str(key): list(values) for key, values in (load_yaml(DATA_DIR / "situations.yml") or {}).items()}
    reviewed = DATA_DIR / "reviewed.yml"
    for entry in (load_yaml(reviewed) or {}).get("situations", []) if reviewed.exists() else []:
        patterns.setdefault(str(entry["item"]), []).append(entry["pattern"])
    return patterns


def _matching_aid_problems(codes: set[str]) -> list[Problem]:
    """situations.yml, reviewed.yml and unanswered.yml name only items that exist, with patterns that are not
    empty."""
    keys = _item_keys(codes)
    problems = []
    for key, patterns in situation_patterns().items():
        if key not in keys:
            problems.append(Problem(f"situations.yml:{key}", "unknown item code or key"))
        problems += [Problem(f"situations.yml:{key}", f"empty part in {p!r}") for p in patterns
                     if not all(p.split("+"))]
    for topic in load_yaml(DATA_DIR / "unanswered.yml")["topics"]:
        where = f"unanswered.yml:{topic['id']}"
        problems += [Problem(where, f"unknown item {key}") for key in topic["nearest"] + topic.get("answered_in", [])
                     if key not in keys]
        problems += [Problem(where, f"empty part in {p!r}") for p in topic["patterns"] if not all(p.split("+"))]
    return problems


def _insert_matching_aids(db: sqlite_utils.Database) -> None:
    """The situation patterns of items, and the topics the documents do not answer."""
    db["situations"].insert_all(({"pattern": pattern, "code": str(code)}
                                 for code, patterns in situation_patterns().items()
                                 for pattern in patterns), columns={"pattern": str, "code": str})
    db["unanswered"].insert_all(({"id": t["id"], "refuse": bool(t.get("refuse")),
                                  "patterns": json.dumps(t["patterns"], ensure_ascii=False),
                                  "statement": t["statement"], "nearest": json.dumps(t["nearest"]),
                                  "answered_in": json.dumps(t.get("answered_in") or [])}
                                 for t in load_yaml(DATA_DIR / "unanswered.yml")["topics"]), pk="id")


def _insert_conflicts_and_gaps(db: sqlite_utils.Database, conflicts: list[dict], gaps: list[dict]) -> None:
    db["conflicts"].insert_all(
        ({"id": c["id"], "code": c["code"], "aspect": c["aspect"], "topic": c["topic"],
          "documents": json.dumps(c["documents"], ensure_ascii=False),
          "statements": json.dumps(c["statements"], ensure_ascii=False),
          "hunan2025_text": c["hunan2025"]["text"],
          "hunan2025_first_line": (c["hunan2025"]["lines"] or [None])[0],
          "hunan2025_last_line": (c["hunan2025"]["lines"] or [None, None])[1],
          "note": c.get("note")} for c in conflicts), pk="id")
    db["gaps"].insert_all(
        ({"id": g["id"], "documents": json.dumps(g["documents"]), "codes": json.dumps(g["codes"]),
          "aspects": json.dumps(g["aspects"]), "statement": g["statement"],
          "offer": json.dumps(g.get("offer") or []),
          "evidence": json.dumps(g.get("evidence") or [], ensure_ascii=False)} for g in gaps), pk="id")


def _create_indexes(db: sqlite_utils.Database) -> None:
    db["items"].create_index(["document", "code"])
    db["items"].create_index(["document", "key"])
    for name in ("sections", "forms", "form_notes", "offices", "phones", "passages", *ITEM_LISTS):
        if db[name].exists():
            db[name].create_index(["item_id"])
    db["conflicts"].create_index(["code"])


def build(path: Path = DB_PATH) -> Path:
    """Validate all data files, then write the database atomically to `path`."""
    catalogue = load_yaml(DATA_DIR / "items.yml")
    conflicts = load_yaml(DATA_DIR / "conflicts.yml") or []
    gaps = load_yaml(DATA_DIR / "gaps.yml") or []
    trees = load_yaml(DATA_DIR / "eligibility.yml")["trees"]
    problems = validate_all(catalogue, conflicts, gaps, trees)
    if problems:
        raise BuildError(problems)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(suffix=".db", dir=path.parent)
    os.close(handle)
    db = sqlite_utils.Database(temp_name, recreate=True)
    tables = _insert_documents(db)
    _insert_catalogue(db, catalogue)
    _insert_regions(db)
    _insert_matching_aids(db)
    _insert_search_index(db, tables)
    _insert_passages(db, tables)
    _insert_conflicts_and_gaps(db, conflicts, gaps)
    db["eligibility_trees"].insert_all(({"id": tree["id"], "spec": json.dumps(tree, ensure_ascii=False)}
                                        for tree in trees), pk="id")
    _create_indexes(db)
    db.conn.commit()
    db.close()
    os.replace(temp_name, path)
    return path
