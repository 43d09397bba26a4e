"""Importer of the 湖北省医疗保障经办政务服务事项办事指南 (附件2, source 004): 28 items, no codes printed.

Each item starts with a heading 「N. 名称」 whose next non-blank line is 「一、事项名称」; its fields are the headings
「一、事项名称」 … 「十、评价渠道」, each followed by its value on the next non-blank lines. Blank and space-only
lines (page-break residue) separate everything, and some phrases are wrapped with a blank line between the
halves, so a line that does not start a numbered point or a 「备注：」 continues the line before it. Every item
ends with the title of its lost flowchart (「…办理流程图」) and sometimes an orphan node (「需要补正申请材料」):
both are skipped. The document prints no codes, offices, phones or URLs; items are keyed by the national code
of the items.yml 子项 whose name they bear (national_codes).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from knowledge.codes import main_of
from knowledge.datafiles import load_yaml
from knowledge.importers.common import (CIRCLED, CN_NUMBER, FIELD_NAMES, REMARK, SEPARATORS, SPACE_NEAR_WIDE, Span,
                                        form_record, item_record, source_of, sourced)
from knowledge.paths import DATA_DIR
from knowledge.text import SourceText, normalize

DOCUMENT = "hubei"
ITEM_COUNT = 28

# The city guides' fields, the eighth named 咨询方式.
FIELDS = tuple("咨询方式" if name == "查询方式" else name for name in FIELD_NAMES)
FIELD_HEADING = re.compile(rf"^[{CN_NUMBER}]+、(?P<name>{'|'.join(FIELDS)})$")
ITEM_HEADING = re.compile(r"^(?P<number>\d+)\.\s*(?P<name>\S.*)$")
FLOWCHART_TITLE_END = "办理流程图"

MARKDOWN_BULLET = re.compile(r"^\s*-\s+(?=\d+\.)")
POINT_NUMBER = re.compile(r"^\d+\.\s*")
PARAGRAPH_START = re.compile(r"^(?:\d+\.|备注[：:])")
# 「在职职工：①…②…」: materials printed under a label naming who they are for.
CONDITION_LABEL = re.compile(r"^(?P<label>[^：:，,。；;（）《》①-⑳]{2,8})[：:]\s*(?=[①-⑳])")
# 「X的，需提供Y」「X的办理停保后，提供Y」「X需提供Y」「X的应提供Y」: material Y is needed only when X.
CONDITIONAL_CLAUSE = re.compile(
    r"^(?P<condition>[^，,；;。]+?)(?:的(?:[^，,；;。]*?后)?[，,]?(?:需|应)?|[，,]?(?:需|应))提供(?P<material>.+)$"
)
# A material whose bracket lists the cases needing more (B9 「…代办说明（因死亡支取的…提供…；…）」): its
# clauses are cut at 。；（） and after a 《form》, and each clause is read on its own.
CLAUSE_BRACKET = re.compile(r"（[^（）]*提供[^（）]*）")
CLAUSE_BREAK = re.compile(r"[；;。（）]|(?<=》)[，,]")
# The 生育 items' fallback: 「…如无法通过其他部门获得相关证明等，由办理人提供，无法提供的，需提供个人承诺书」.
PLEDGE_FALLBACK = re.compile(r"获得(?P<proof>[^，,；;。]+?)等?[，,]由办理人提供[，,]无法提供的[，,]需提供(?P<pledge>[^，,；;。]+)")
SENTENCE_BREAK = re.compile(r"[；;。]")
TIME_LIMIT = re.compile(r"^(?P<condition>[^；;，,]*?)(?P<limit>(?:不超过|即时).*)$")
NAMED_FORM = re.compile(r"《(?P<name>[^《》]+?(?:表|书|申请卡))》")
BARE_PLEDGE = re.compile(r"(?<!《)(?P<name>个人承诺书)(?!》)")
TRAILING_SEPARATORS = SEPARATORS + "。"


@dataclass
class Field:
    name: str
    paragraphs: list[Span]

    @property
    def span(self) -> Span:
        joined = self.paragraphs[0]
        for paragraph in self.paragraphs[1:]:
            joined = joined + Span("\n", (paragraph.line_numbers[0],)) + paragraph
        return joined


@dataclass
class Item:
    number: int
    name: str
    heading_line: int
    last_line: int
    fields: dict[str, Field]


def clean_line(line: str) -> str:
    """A line without Markdown bullet and without whitespace next to Chinese characters."""
    return SPACE_NEAR_WIDE.sub("", MARKDOWN_BULLET.sub("", line)).strip()


def is_flowchart_title(line: str) -> bool:
    return normalize(line).endswith(FLOWCHART_TITLE_END)


def find_item_headings(source: SourceText) -> list[tuple[int, re.Match[str]]]:
    """(line, match) of every 「N. 名称」 line whose next non-blank line is 「一、事项名称」."""
    headings = []
    for number, line in enumerate(source.lines, start=1):
        match = ITEM_HEADING.match(line.strip())
        if not match:
            continue
        following = FIELD_HEADING.match(next((text.strip() for text in source.lines[number:] if text.strip()), ""))
        if following and following.group("name") == FIELD_NAMES[0]:
            headings.append((number, match))
    return headings


def paragraphs(numbered_lines: list[tuple[int, str]]) -> list[Span]:
    """The value lines joined into paragraphs: a numbered point or 「备注：」 starts one, other lines continue it."""
    result: list[list[tuple[int, str]]] = []
    for number, line in numbered_lines:
        text = clean_line(line)
        if not text:
            continue
        if result and not PARAGRAPH_START.match(text):
            result[-1].append((number, text))
        else:
            result.append([(number, text)])
    return [Span.join(pieces) for pieces in result]


def read_fields(source: SourceText, first: int, last: int) -> dict[str, Field]:
    """The fields of the item body (lines first..last), up to its flowchart title."""
    collected: dict[str, list[tuple[int, str]]] = {}
    current: list[tuple[int, str]] | None = None
    for number in range(first, last + 1):
        line = source.line(number)
        if is_flowchart_title(line):
            break
        heading = FIELD_HEADING.match(line.strip())
        if heading:
            current = collected.setdefault(heading.group("name"), [])
        elif current is not None:
            current.append((number, line))
    return {name: Field(name, paragraphs(lines)) for name, lines in collected.items()}


def find_items(source: SourceText) -> list[Item]:
    headings = find_item_headings(source)
    items = []
    for index, (first, match) in enumerate(headings):
        end = headings[index + 1][0] - 1 if index + 1 < len(headings) else len(source)
        last = max(number for number in range(first, end + 1) if source.line(number).strip())
        items.append(Item(int(match.group("number")), clean_line(match.group("name")), first, last,
                          read_fields(source, first + 1, last)))
    return items


def without_number(paragraph: Span) -> Span:
    return paragraph.after(POINT_NUMBER.match(paragraph.text)).strip(TRAILING_SEPARATORS)


def clause_materials(point: Span) -> tuple[list[tuple[Span, str | None]], list[Span]]:
    """(materials with condition, notes) of one material point that may hold conditional clauses."""
    clauses = point.split(CLAUSE_BREAK, TRAILING_SEPARATORS) if CLAUSE_BRACKET.search(point.text) else [point]
    materials: list[tuple[Span, str | None]] = []
    notes: list[Span] = []
    for index, clause in enumerate(clauses):
        match = CONDITIONAL_CLAUSE.match(clause.text)
        if match:
            materials.append((clause, match.group("condition")))
        elif index == 0:
            materials.append((clause, None))
        else:
            notes.append(clause)
    return materials, notes


def labelled_materials(point: Span) -> list[tuple[Span, str | None]] | None:
    """「在职职工：①A②B」 → [(A, 在职职工), (B, 在职职工)]; None if the point has no such label."""
    match = CONDITION_LABEL.match(point.text)
    if not match:
        return None
    return [(piece, match.group("label")) for piece in point.after(match).split(CIRCLED, TRAILING_SEPARATORS)]


def remark_materials(remark: Span) -> tuple[list[tuple[Span, str | None]], list[Span]]:
    """(materials with condition, notes) of a 「备注：」 under the materials, one sentence at a time."""
    materials: list[tuple[Span, str | None]] = []
    notes: list[Span] = []
    for sentence in remark.after(REMARK.match(remark.text)).split(SENTENCE_BREAK, TRAILING_SEPARATORS):
        fallback = PLEDGE_FALLBACK.search(sentence.text)
        conditional = CONDITIONAL_CLAUSE.match(sentence.text)
        if fallback:
            materials.append((sentence, f"无法提供{fallback.group('proof')}"))
        elif conditional:
            materials.append((sentence, conditional.group("condition")))
        else:
            notes.append(sentence)
    return materials, notes


def service_object_materials(field: Field) -> list[tuple[Span, str | None]]:
    """Materials the 服务对象 text asks of some applicants (「符合救助条件但未经认定的，应提供《…》」)."""
    found = []
    for sentence in field.span.split(SENTENCE_BREAK, TRAILING_SEPARATORS):
        match = CONDITIONAL_CLAUSE.match(sentence.text)
        if match:
            found.append((sentence, match.group("condition")))
    return found


def parse_materials(fields: dict[str, Field]) -> tuple[list[tuple[Span, str | None]], list[Span]]:
    """(materials with condition, notes) of an item: its numbered materials, their 备注, its 服务对象 demands."""
    materials: list[tuple[Span, str | None]] = []
    notes: list[Span] = []
    for paragraph in fields["办理材料"].paragraphs:
        if REMARK.match(paragraph.text):
            found, remarks = remark_materials(paragraph)
        else:
            point = without_number(paragraph)
            labelled = labelled_materials(point)
            found, remarks = (labelled, []) if labelled is not None else clause_materials(point)
        materials += found
        notes += remarks
    known = "".join(normalize(span.text) for span, _ in materials)
    materials += [(span, condition) for span, condition in service_object_materials(fields["服务对象"])
                  if normalize(span.text.split("提供", 1)[1]) not in known]
    return ([(span.strip(TRAILING_SEPARATORS), condition) for span, condition in materials],
            [note.strip(TRAILING_SEPARATORS) for note in notes])


def parse_time_limits(field: Field, source: SourceText) -> list[dict[str, Any]]:
    """「在职职工不超过5个工作日；灵活就业人员即时办结」 → one record per condition; else one record."""
    parts = field.span.split(SENTENCE_BREAK, TRAILING_SEPARATORS)
    matches = [TIME_LIMIT.match(part.text) for part in parts]
    if len(parts) < 2 or not all(match and match.group("condition") for match in matches):
        return [sourced(field.span.strip(TRAILING_SEPARATORS), source, condition=None)]
    return [sourced(part.cut(match.start("limit")), source, condition=match.group("condition"))
            for part, match in zip(parts, matches)]


def find_forms(materials: list[tuple[Span, str | None]]) -> list[dict[str, Any]]:
    """The forms (登记表, 申请表, 申请卡, 授权书, 承诺书) the materials name, first mention of each."""
    forms: dict[str, dict[str, Any]] = {}
    for span, _ in materials:
        for match in [*NAMED_FORM.finditer(span.text), *BARE_PLEDGE.finditer(span.text)]:
            name = match.group("name")
            if name not in forms:
                named = span.cut(match.start("name"), match.end("name"))
                forms[name] = form_record(name, named.lines)
    return list(forms.values())


@lru_cache(maxsize=1)
def national_codes() -> dict[str, str]:
    """The 子项 codes of data/items.yml by their names (the document's item names are among them)."""
    catalogue = load_yaml(DATA_DIR / "items.yml")
    return {name: entry["code"] for entry in catalogue["sub_items"] for name in entry["names"]}


def national_code(name: str) -> str:
    if name not in national_codes():
        raise ValueError(f"{DOCUMENT}: item {name!r} is no 子项 name of items.yml")
    return national_codes()[name]


def build_item(item: Item, source: SourceText) -> dict[str, Any]:
    code = national_code(item.name)
    fields = item.fields
    titled = normalize(fields["事项名称"].span.text)
    if titled != normalize(item.name):
        raise ValueError(f"{DOCUMENT}:{item.heading_line}: heading {item.name!r} but 事项名称 {titled!r}")
    materials, notes = parse_materials(fields)
    return item_record(
        key=code, code=code, parent_code=main_of(code), name=item.name, lines=[item.heading_line, item.last_line],
        sections={name: sourced(field.span, source) for name, field in fields.items()},
        process=[sourced(step.strip(SEPARATORS), source) for step in fields["办理流程"].paragraphs],
        materials=[sourced(span, source, condition=condition) for span, condition in materials],
        time_limits=parse_time_limits(fields["办理时限"], source),
        notes=[sourced(note, source) for note in notes],
        forms=find_forms(materials),
    )


def check_items(items: list[Item]) -> None:
    """All 28 items found in order, every field given, every name mapped, no code twice."""
    numbers = [item.number for item in items]
    if numbers != list(range(1, ITEM_COUNT + 1)):
        raise ValueError(f"{DOCUMENT}: expected items 1–{ITEM_COUNT}, found {numbers}")
    for item in items:
        missing = [name for name in FIELDS if name not in item.fields or not item.fields[name].paragraphs]
        if missing:
            raise ValueError(f"{DOCUMENT}:{item.heading_line}: item {item.number} lacks {missing}")
    codes = [national_code(item.name) for item in items]
    if len(set(codes)) != len(codes):
        raise ValueError(f"{DOCUMENT}: two items have the same national code")


def parse() -> dict[str, Any]:
    source = source_of(DOCUMENT)
    items = find_items(source)
    check_items(items)
    return {"document": DOCUMENT, "items": [build_item(item, source) for item in items]}
