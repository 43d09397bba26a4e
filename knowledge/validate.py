"""Validation of the data files: schema, line ranges, and that every fact's text is in its source lines."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, Iterator

from knowledge.datafiles import load_document
from knowledge.importers import DOCUMENTS
from knowledge.manifest import Document, documents
from knowledge.text import SourceText, digits, load_source, normalize

ITEM_FIELDS = {
    "key": str, "code": (str, type(None)), "parent_code": str, "local_code": (str, type(None)),
    "row": (int, type(None)), "name": str, "lines": list, "sections": dict, "process": list,
    "materials": list, "time_limits": list, "notes": list, "legal_basis": list, "forms": list,
    "online_channels": list, "offices": list, "phones": list,
}
SECTION_NAMES = {
    "事项名称", "受理单位", "服务对象", "办理渠道", "办理流程", "办理材料", "办理时限", "查询方式", "咨询方式",
    "监督电话", "评价渠道", "办理环节", "备注", "设定依据",
}
PHONE_KINDS = {"查询", "监督", "办理", "医院"}
CODE = re.compile(r"^002036\d{6}$")
PARENT_CODE = re.compile(r"^002036\d{3}00Y$")


@dataclass
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _records(item: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(path, record, the value that must be found in the record's lines) for every sourced record."""
    for name, section in item["sections"].items():
        yield f"sections.{name}", section, section["text"]
    for list_name in ("process", "materials", "time_limits", "notes", "legal_basis"):
        for index, record in enumerate(item[list_name]):
            yield f"{list_name}[{index}]", record, record["text"]
    for index, form in enumerate(item["forms"]):
        yield f"forms[{index}]", form, form["name"]
        for note_index, note in enumerate(form.get("notes") or []):
            yield f"forms[{index}].notes[{note_index}]", note, note["text"]
    for index, channel in enumerate(item["online_channels"]):
        yield f"online_channels[{index}]", channel, channel["text"]
    for index, office in enumerate(item["offices"]):
        yield f"offices[{index}]", office, office["address"]


def _check_lines(where: str, record: dict[str, Any], document: Document, source: SourceText) -> list[Problem]:
    lines = record.get("lines")
    if not (isinstance(lines, list) and len(lines) == 2 and all(isinstance(n, int) for n in lines)):
        return [Problem(where, f"lines must be [first, last], got {lines!r}")]
    first, last = lines
    if not (document.first_line <= first <= last <= document.last_line):
        return [Problem(where, f"lines {first}-{last} outside the document ({document.first_line}-{document.last_line})")]
    return []


def _check_text(where: str, record: dict[str, Any], value: str, source: SourceText) -> list[Problem]:
    haystack = source.normalized_span(*record["lines"])
    needles = record.get("evidence") or [value]
    missing = [needle for needle in needles if normalize(needle) not in haystack]
    if missing:
        return [Problem(where, f"not in lines {record['lines'][0]}-{record['lines'][1]}: {missing[0]!r}")]
    return []


def validate_item(document: Document, source: SourceText, item: dict[str, Any]) -> list[Problem]:
    where = f"{document.id}:{item.get('key')}"
    problems = []
    for field, kind in ITEM_FIELDS.items():
        if not isinstance(item.get(field), kind):
            problems.append(Problem(where, f"field {field!r} missing or of the wrong type"))
    if problems:
        return problems
    if item["code"] is not None and not CODE.match(item["code"]):
        problems.append(Problem(where, f"bad code {item['code']!r}"))
    if not PARENT_CODE.match(item["parent_code"]):
        problems.append(Problem(where, f"bad parent code {item['parent_code']!r}"))
    problems += _check_lines(where, item, document, source)
    for name in item["sections"]:
        if name not in SECTION_NAMES:
            problems.append(Problem(where, f"unknown section {name!r}"))
    for path, record, value in _records(item):
        record_where = f"{where}.{path}"
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(record_where, "empty text"))
            continue
        line_problems = _check_lines(record_where, record, document, source)
        problems += line_problems or _check_text(record_where, record, value, source)
    for index, phone in enumerate(item["phones"]):
        phone_where = f"{where}.phones[{index}]"
        if phone.get("kind") not in PHONE_KINDS:
            problems.append(Problem(phone_where, f"kind must be one of {sorted(PHONE_KINDS)}"))
        line_problems = _check_lines(phone_where, phone, document, source)
        if line_problems:
            problems += line_problems
            continue
        span = source.span(*phone["lines"])
        if digits(phone.get("number", "")) not in digits(span) or len(digits(phone["number"])) < 8:
            problems.append(Problem(phone_where, f"number {phone.get('number')!r} not in its lines"))
        elif phone.get("unit") and normalize(phone["unit"]) not in normalize(span) and phone["kind"] != "医院":
            problems.append(Problem(phone_where, f"unit {phone['unit']!r} not in its lines"))
    return problems


def validate_document(document_id: str) -> list[Problem]:
    document = documents()[document_id]
    source = load_source(document.file)
    data = load_document(document_id)
    if data.get("document") != document_id:
        return [Problem(document_id, "the file's `document` does not name it")]
    problems: list[Problem] = []
    keys: set[str] = set()
    for item in data.get("items", []):
        if item.get("key") in keys:
            problems.append(Problem(f"{document_id}:{item.get('key')}", "duplicate key"))
        keys.add(item.get("key"))
        problems += validate_item(document, source, item)
    return problems


def main(argv: list[str]) -> int:
    problems = [problem for document in (argv or DOCUMENTS) for problem in validate_document(document)]
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
