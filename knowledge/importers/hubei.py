"""Importer of the 湖北省医疗保障经办政务服务事项办事指南 (附件2, source 004): 28 items, no codes printed.

Each item starts with a heading 「N. 名称」 whose next non-blank line is 「一、事项名称」; its fields are the headings
「一、事项名称」 … 「十、评价渠道」, each followed by its value on the next non-blank lines. Blank and space-only
lines (page-break residue) separate everything, and some phrases are wrapped with a blank line between the
halves, so a line that does not start a numbered point or a 「备注：」 continues the line before it. Every item
ends with the title of its lost flowchart (「…办理流程图」) and sometimes an orphan node (「需要补正申请材料」):
both are skipped. The document prints no codes, offices, phones or URLs; items are keyed by the national code
that their name maps to (NATIONAL_CODES).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from knowledge.codes import main_of
from knowledge.text import SourceText, load_source, normalize

DOCUMENT = "hubei"
SOURCE_FILE = "004_83cfbee7835dec45.txt"
ITEM_COUNT = 28

# The document prints no codes: each item name (as in its heading, spaces removed) is mapped by hand to the
# national 子项 code of the same item (SOURCES-INVENTORY §1.7). Every item must map, and no code twice.
NATIONAL_CODES = {
    "单位参保登记": "002036001001",
    "职工参保登记": "002036001002",
    "城乡居民参保登记": "002036001003",
    "单位参保信息变更登记": "002036001004",
    "职工参保信息变更登记": "002036001005",
    "城乡居民参保信息变更登记": "002036001006",
    "参保单位参保信息查询": "002036002001",
    "参保人员参保信息查询": "002036002002",
    "参保人员个人账户一次性支取": "002036002003",
    "出具《参保凭证》": "002036003001",
    "转移接续手续办理": "002036003002",
    "异地安置退休人员备案": "002036004001",
    "异地长期居住人员备案": "002036004002",
    "常驻异地工作人员备案": "002036004003",
    "异地转诊人员备案": "002036004004",
    "基本医疗保险参保人员享受门诊慢特病病种待遇认定": "002036005001",
    "门诊费用报销": "002036006001",
    "住院费用报销": "002036006002",
    "产前检查费支付": "002036007001",
    "生育医疗费支付": "002036007002",
    "计划生育医疗费支付": "002036007003",
    "生育津贴支付": "002036007004",
    "符合资助条件的救助对象参加城乡居民基本医疗保险个人缴费补贴": "002036008001",
    "医疗救助对象手工（零星）报销": "002036008002",
    "医疗机构申请定点协议管理": "002036009001",
    "零售药店申请定点协议管理": "002036009002",
    "基本医疗保险定点医疗机构费用结算": "002036010001",
    "基本医疗保险定点零售药店费用结算": "002036010002",
}

FIELD_NAMES = ("事项名称", "受理单位", "服务对象", "办理渠道", "办理流程", "办理材料", "办理时限", "咨询方式",
               "监督电话", "评价渠道")
CN_NUMBER = "一二三四五六七八九十"
FIELD_HEADING = re.compile(rf"^[{CN_NUMBER}]+、(?P<name>{'|'.join(FIELD_NAMES)})$")
ITEM_HEADING = re.compile(r"^(?P<number>\d+)\.\s*(?P<name>\S.*)$")
FLOWCHART_TITLE_END = "办理流程图"

MARKDOWN_BULLET = re.compile(r"^\s*-\s+(?=\d+\.)")
POINT_NUMBER = re.compile(r"^\d+\.\s*")
REMARK_LABEL = re.compile(r"^备注[：:]\s*")
PARAGRAPH_START = re.compile(r"^(?:\d+\.|备注[：:])")
# 「在职职工：①…②…」: materials printed under a label naming who they are for.
CONDITION_LABEL = re.compile(r"^(?P<label>[^：:，,。；;（）《》①-⑳]{2,8})[：:]\s*(?=[①-⑳])")
CIRCLED = re.compile(r"[①-⑳]")
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
SPACE_NEAR_WIDE = re.compile(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+")
LIST_SEPARATORS = "；;，,、 \t\n"
TRAILING_SEPARATORS = LIST_SEPARATORS + "。"
MAX_EVIDENCE = 4


@dataclass(frozen=True)
class Span:
    """Text taken from the document with the source line of each character, so that any cut knows its lines."""

    text: str
    line_of: tuple[int, ...]

    @classmethod
    def join(cls, pieces: Iterable[tuple[int, str]]) -> Span:
        """The pieces (line number, text) run together, as a wrapped line is read."""
        text, line_of = "", []
        for number, piece in pieces:
            text += piece
            line_of += [number] * len(piece)
        return cls(text, tuple(line_of))

    def __add__(self, other: Span) -> Span:
        return Span(self.text + other.text, self.line_of + other.line_of)

    def cut(self, start: int, end: int | None = None) -> Span:
        return Span(self.text[start:end], self.line_of[start:end])

    def strip(self, chars: str = TRAILING_SEPARATORS) -> Span:
        left = len(self.text) - len(self.text.lstrip(chars))
        return self.cut(left, max(left, len(self.text.rstrip(chars))))

    def split(self, pattern: re.Pattern[str]) -> list[Span]:
        """The pieces between the matches of pattern (the matches themselves dropped), empty pieces left out."""
        bounds = [0]
        for match in pattern.finditer(self.text):
            bounds += [match.start(), match.end()]
        bounds.append(len(self.text))
        pieces = [self.cut(start, end).strip() for start, end in zip(bounds[::2], bounds[1::2])]
        return [piece for piece in pieces if piece.text]

    def after(self, match: re.Match[str] | None) -> Span:
        return self.cut(match.end()) if match else self

    @property
    def lines(self) -> list[int]:
        return [self.line_of[0], self.line_of[-1]]


@dataclass
class Field:
    name: str
    paragraphs: list[Span]

    @property
    def span(self) -> Span:
        joined = self.paragraphs[0]
        for paragraph in self.paragraphs[1:]:
            joined = joined + Span("\n", (paragraph.line_of[0],)) + paragraph
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


def sourced(span: Span, source: SourceText, **extra: Any) -> dict[str, Any]:
    """A record of the span's text and lines; evidence where the text is not one piece of those lines."""
    record: dict[str, Any] = {"text": span.text, **extra, "lines": span.lines}
    if normalize(span.text) not in source.normalized_span(*span.lines):
        pieces: dict[int, str] = {}
        for char, line in zip(span.text, span.line_of):
            pieces[line] = pieces.get(line, "") + char
        record["evidence"] = [piece.strip() for piece in pieces.values() if piece.strip()][:MAX_EVIDENCE]
    return record


def without_number(paragraph: Span) -> Span:
    return paragraph.after(POINT_NUMBER.match(paragraph.text)).strip()


def clause_materials(point: Span) -> tuple[list[tuple[Span, str | None]], list[Span]]:
    """(materials with condition, notes) of one material point that may hold conditional clauses."""
    clauses = point.split(CLAUSE_BREAK) if CLAUSE_BRACKET.search(point.text) else [point]
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
    return [(piece, match.group("label")) for piece in point.after(match).split(CIRCLED)]


def remark_materials(remark: Span) -> tuple[list[tuple[Span, str | None]], list[Span]]:
    """(materials with condition, notes) of a 「备注：」 under the materials, one sentence at a time."""
    materials: list[tuple[Span, str | None]] = []
    notes: list[Span] = []
    for sentence in remark.after(REMARK_LABEL.match(remark.text)).split(SENTENCE_BREAK):
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
    for sentence in field.span.split(SENTENCE_BREAK):
        match = CONDITIONAL_CLAUSE.match(sentence.text)
        if match:
            found.append((sentence, match.group("condition")))
    return found


def parse_materials(fields: dict[str, Field]) -> tuple[list[tuple[Span, str | None]], list[Span]]:
    """(materials with condition, notes) of an item: its numbered materials, their 备注, its 服务对象 demands."""
    materials: list[tuple[Span, str | None]] = []
    notes: list[Span] = []
    for paragraph in fields["办理材料"].paragraphs:
        if REMARK_LABEL.match(paragraph.text):
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
    return [(span.strip(), condition) for span, condition in materials], [note.strip() for note in notes]


def parse_time_limits(field: Field, source: SourceText) -> list[dict[str, Any]]:
    """「在职职工不超过5个工作日；灵活就业人员即时办结」 → one record per condition; else one record."""
    parts = field.span.split(SENTENCE_BREAK)
    matches = [TIME_LIMIT.match(part.text) for part in parts]
    if len(parts) < 2 or not all(match and match.group("condition") for match in matches):
        return [sourced(field.span.strip(), source, condition=None)]
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
                forms[name] = {"name": name, "number": None, "attached": False, "lines": named.lines, "notes": []}
    return list(forms.values())


def national_code(name: str) -> str:
    if name not in NATIONAL_CODES:
        raise ValueError(f"{SOURCE_FILE}: item {name!r} has no national code in NATIONAL_CODES")
    return NATIONAL_CODES[name]


def build_item(item: Item, source: SourceText) -> dict[str, Any]:
    code = national_code(item.name)
    fields = item.fields
    titled = normalize(fields["事项名称"].span.text)
    if titled != normalize(item.name):
        raise ValueError(f"{SOURCE_FILE}:{item.heading_line}: heading {item.name!r} but 事项名称 {titled!r}")
    materials, notes = parse_materials(fields)
    return {
        "key": code,
        "code": code,
        "parent_code": main_of(code),
        "local_code": None,
        "row": None,
        "name": item.name,
        "lines": [item.heading_line, item.last_line],
        "sections": {name: sourced(field.span, source) for name, field in fields.items()},
        "process": [sourced(step.strip(LIST_SEPARATORS), source) for step in fields["办理流程"].paragraphs],
        "materials": [sourced(span, source, condition=condition) for span, condition in materials],
        "time_limits": parse_time_limits(fields["办理时限"], source),
        "notes": [sourced(note, source) for note in notes],
        "legal_basis": [],
        "forms": find_forms(materials),
        "online_channels": [],
        "offices": [],
        "phones": [],
    }


def check_items(items: list[Item]) -> None:
    """All 28 items found in order, every field given, every name mapped, no code twice."""
    numbers = [item.number for item in items]
    if numbers != list(range(1, ITEM_COUNT + 1)):
        raise ValueError(f"{SOURCE_FILE}: expected items 1–{ITEM_COUNT}, found {numbers}")
    for item in items:
        missing = [name for name in FIELD_NAMES if name not in item.fields or not item.fields[name].paragraphs]
        if missing:
            raise ValueError(f"{SOURCE_FILE}:{item.heading_line}: item {item.number} lacks {missing}")
    codes = [national_code(item.name) for item in items]
    if len(set(codes)) != len(codes) or set(NATIONAL_CODES) != {item.name for item in items}:
        raise ValueError(f"{SOURCE_FILE}: item names and NATIONAL_CODES do not match one to one")


def parse() -> dict[str, Any]:
    source = load_source(SOURCE_FILE)
    items = find_items(source)
    check_items(items)
    return {"document": DOCUMENT, "items": [build_item(item, source) for item in items]}
