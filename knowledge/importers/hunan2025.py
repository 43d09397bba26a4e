"""Importer of the 湖南省医疗保障经办政务服务事项清单（2025年版）: one item per 业务办理项 of its table.

The document is one table. A line starting with a tab starts a cell, a line without one continues the cell
before it. Every table row has ten cells in the order of COLUMNS; vertically merged cells (主项, 子项, 设定依据)
are printed on their first row only and are empty cells on the rows below. A row is found by its 业项序号
cell (a bare number not followed by a cell holding a 子项 code), its other cells by their position from it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from knowledge.importers.common import (CIRCLED, SEPARATORS, SPACE_NEAR_WIDE, Span, form_record, item_record,
                                        source_of, sourced)
from knowledge.text import SourceText

DOCUMENT = "hunan2025"

COLUMNS = ("主项", "子项序号", "子项", "业项序号", "业务办理项", "办理材料", "办理时限", "办理环节", "备注", "设定依据")
ROW_NUMBER_COLUMN = COLUMNS.index("业项序号")
LAST_HEADER_CELL = "设定依据"
FOOTER_LABELS = ("说明", "备注")

MAIN_CODE = re.compile(r"（\s*(002036\d{3}00Y)\s*）")
SUB_CODE = re.compile(r"（\s*(002036\d{6})\s*）")
ROW_NUMBER = re.compile(r"^\d+$")
# A numbered point: "1." at the start of a line, or inline after a colon / semicolon / full stop (「…提供：1.…；2.…」).
POINT_START = re.compile(r"(?:^|(?<=[\n：；。]))[ \t\u3000]*\d+\.")
POINT_NUMBER = re.compile(r"^\s*\d+\.")
SENTENCE_END = re.compile(r"(?<=。)(?=.)", re.S)
FOOTER_LABEL = re.compile(rf"(?:^|\n)\s*(?:{'|'.join(FOOTER_LABELS)})：")
# A remark on all materials printed after the numbered list, e.g. 「（以上办理资料均需加盖单位公章 ）」.
MATERIALS_REMARK = re.compile(r"^\s*（[^（）]*）\s*$")
# 「X的，需提供Y」「X时还需要提供Y」「如为X的需书面告知，即提交Y」: a material Y needed only when X.
CONDITIONAL_MATERIAL = re.compile(
    r"^(?:如为|如)?(?P<condition>[^，。；：]+?)(?:的|时)，?"
    r"(?P<verb>(?:还需要|还需|需要|需|应|可)?(?:[^，。；]{0,6}，即)?(?:一并)?(?:提供|提交|填写))"
)
TIME_LIMIT_CONDITION = re.compile(r"^.+?（(?P<condition>[^（）]{1,6})）$")
BRACKETED_FORM = re.compile(r"《([^《》]+?[表书])》")
# Forms named without 《》: 「或个人承诺书」「应填写参保人员意外伤害审核表」.
BARE_FORM = re.compile(r"(?:或|填写|提供)([^，。；、（）《》或]{0,16}?(?:承诺书|审核表))")


@dataclass
class Cell:
    first_line: int
    numbered_lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def span(self) -> Span:
        return Span.join(self.numbered_lines, "\n").strip()

    @property
    def text(self) -> str:
        return self.span.clean

    @property
    def lines(self) -> list[int]:
        span = self.span
        return span.lines if span.text else [self.first_line, self.first_line]


@dataclass
class TableRow:
    cells: dict[str, Cell]

    @property
    def number(self) -> int:
        return int(self.cells["业项序号"].text)

    @property
    def lines(self) -> list[int]:
        return [self.cells["主项"].first_line, self.cells["设定依据"].lines[1]]


def read_cells(source: SourceText) -> list[Cell]:
    """Every tab-started cell with its continuation lines (the title line before the table is no cell)."""
    cells: list[Cell] = []
    for number, line in enumerate(source.lines, start=1):
        if line.startswith("\t"):
            cells.append(Cell(number, [(number, line[1:])]))
        elif cells:
            cells[-1].numbered_lines.append((number, line))
    return cells


def split_table(cells: list[Cell]) -> tuple[list[TableRow], Cell]:
    """The table rows after the header, and the footer cell (说明 / 备注) that follows them."""
    header_end = next(index for index, cell in enumerate(cells) if cell.text == LAST_HEADER_CELL)
    if header_end + 1 != len(COLUMNS):
        raise ValueError(f"{DOCUMENT}: header has {header_end + 1} cells, expected {len(COLUMNS)}")
    body = cells[header_end + 1 :]
    footer_index = next(index for index, cell in enumerate(body) if cell.text.startswith(FOOTER_LABELS[0] + "："))
    footer, body = body[footer_index], body[:footer_index]
    starts = [
        index for index, cell in enumerate(body)
        if ROW_NUMBER.match(cell.text) and not SUB_CODE.search(body[index + 1].text)
    ]
    rows = []
    for expected_number, start in enumerate(starts, start=1):
        first = start - ROW_NUMBER_COLUMN
        row = TableRow(dict(zip(COLUMNS, body[first : first + len(COLUMNS)])))
        if row.number != expected_number or first != (expected_number - 1) * len(COLUMNS):
            raise ValueError(f"{DOCUMENT}: table row {expected_number} misread at line {body[start].first_line}")
        rows.append(row)
    if len(rows) * len(COLUMNS) != len(body):
        raise ValueError(f"{DOCUMENT}: {len(body)} cells do not make {len(rows)} rows")
    return rows, footer


def points(span: Span) -> list[Span]:
    """The numbered points of a cell; text before the first number is a point of its own."""
    return [piece.strip() for piece in span.split_before(POINT_START) if piece.strip().text]


def without_number(span: Span) -> Span:
    match = POINT_NUMBER.match(span.text)
    return span.cut(match.end()).strip() if match else span


def is_lead_in(point: Span, following: list[Span]) -> bool:
    """「特殊人群还需提供：」「需要的对应佐证材料包括：」: an unnumbered heading of the numbered points after it."""
    return bool(following) and not POINT_NUMBER.match(point.text) and point.text.rstrip().endswith("：")


def cleaned_record(span: Span, source: SourceText, strip_chars: str, **extra: Any) -> dict[str, Any]:
    """The record (common.sourced) of the span without `strip_chars` at its ends, its text cleaned."""
    span = span.strip(strip_chars)
    return sourced(span, source, span.clean, **extra)


def note_record(span: Span, source: SourceText) -> dict[str, Any]:
    return cleaned_record(span, source, SEPARATORS)


def material_record(span: Span, source: SourceText, condition: str | None) -> dict[str, Any]:
    return cleaned_record(span, source, SEPARATORS + "。", condition=condition)


def parse_materials_cell(cell: Cell, source: SourceText) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(materials, notes) of a 办理材料 cell: one material per numbered line; a bracketed remark becomes a note."""
    material_lines = [(n, line) for n, line in cell.numbered_lines if not MATERIALS_REMARK.match(line)]
    remark_lines = [(n, line) for n, line in cell.numbered_lines if MATERIALS_REMARK.match(line)]
    materials = [material_record(without_number(point), source, None)
                 for point in points(Span.join(material_lines, "\n").strip())]
    notes = [note_record(Span.join([line], "\n").strip(), source) for line in remark_lines]
    return materials, notes


def conditional_materials(sentence: Span, source: SourceText) -> list[dict[str, Any]]:
    """The materials a sentence such as 「出国定居的，需提供护照或永久居留证」 asks for; [] if it asks for none."""
    match = CONDITIONAL_MATERIAL.match(sentence.text)
    if not match:
        return []
    condition = SPACE_NEAR_WIDE.sub("", match.group("condition"))
    verb_keeps_meaning = "即" in match.group("verb")
    wanted = sentence.cut(match.start("verb") if verb_keeps_meaning else match.end("verb"))
    pieces = [piece for piece in wanted.split_before(CIRCLED) if piece.strip(SEPARATORS).text]
    return [material_record(piece.cut(1) if CIRCLED.match(piece.text) else piece, source, condition)
            for piece in pieces]


def parse_remarks_cell(cell: Cell, source: SourceText) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(conditional materials, notes) of a 备注 cell; a point may hold a note sentence and a material sentence."""
    materials: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    cell_points = points(cell.span)
    for index, point in enumerate(cell_points):
        if is_lead_in(point, cell_points[index + 1 :]):
            continue
        note_sentences: list[Span] = []
        for sentence in without_number(point).split_before(SENTENCE_END):
            found = conditional_materials(sentence.strip(), source)
            materials += found
            if not found:
                note_sentences.append(sentence)
        if note_sentences:
            notes.append(note_record(sum(note_sentences[1:], note_sentences[0]).strip(), source))
    return materials, notes


def parse_time_limits(cell: Cell, source: SourceText) -> list[dict[str, Any]]:
    """「即时办结（现场），2个工作日（线上）」 gives one record per bracketed condition; other cells one record."""
    span = cell.span
    parts = [part.strip(SEPARATORS) for part in span.split_before(re.compile(r"(?<=，)"))]
    matches = [TIME_LIMIT_CONDITION.match(part.clean) for part in parts]
    if len(parts) < 2 or not all(matches):
        return [cleaned_record(span, source, SEPARATORS + "。", condition=None)]
    records = []
    for part, match in zip(parts, matches):
        text = part.cut(0, part.text.rindex("（"))
        records.append(cleaned_record(text, source, SEPARATORS, condition=match.group("condition")))
    return records


def legal_basis_points(cell: Cell) -> list[Span]:
    return [without_number(point) for point in points(cell.span)]


def is_unfinished(point: Span) -> bool:
    return not point.text.rstrip().endswith(("。", "；", "）", "》"))


def legal_basis_by_row(rows: list[TableRow]) -> dict[int, list[Span]]:
    """Each row's 设定依据. A merged cell's empty continuation inherits the cell above (within its 主项); a
    cell that continues the previous row's unfinished last law (row 34 → 35) is joined to it."""
    own: dict[int, list[Span]] = {}
    previous_with_basis = 0
    for row in rows:
        basis = legal_basis_points(row.cells["设定依据"])
        if not basis:
            continue
        earlier = own.get(previous_with_basis)
        if earlier and is_unfinished(earlier[-1]) and not POINT_NUMBER.match(row.cells["设定依据"].span.text):
            earlier[-1] = earlier[-1] + basis[0]
            earlier += basis[1:]
            continue
        own[row.number] = basis
        previous_with_basis = row.number
    inherited: dict[int, list[Span]] = {}
    current: list[Span] = []
    for row in rows:
        if row.cells["主项"].text:
            current = []
        current = own.get(row.number, current)
        inherited[row.number] = current
    return inherited


def find_forms(materials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The forms (登记表, 申请表, 申领表, 授权书, 承诺书, 审核表) named in the materials, first mention each."""
    forms: dict[str, dict[str, Any]] = {}
    for material in materials:
        names = BRACKETED_FORM.findall(material["text"]) + BARE_FORM.findall(material["text"])
        for name in names:
            if name not in forms:
                forms[name] = form_record(name, list(material["lines"]))
    return list(forms.values())


def sub_item_name(cell: Cell) -> Span:
    span = cell.span
    return span.cut(0, SUB_CODE.search(span.text).start()).strip()


def build_item(row: TableRow, main_cell: Cell, sub_cell: Cell, legal_basis: list[Span],
               source: SourceText) -> dict[str, Any]:
    code = SUB_CODE.search(sub_cell.span.text).group(1)
    materials, material_notes = parse_materials_cell(row.cells["办理材料"], source)
    remark_materials, notes = parse_remarks_cell(row.cells["备注"], source)
    materials += remark_materials
    name = sub_item_name(sub_cell)
    return item_record(
        key=f"{code}#{row.number}", code=code, parent_code=MAIN_CODE.search(main_cell.span.text).group(1),
        row=row.number, name=row.cells["业务办理项"].text, lines=row.lines,
        sections={
            "事项名称": {"text": name.clean, "lines": sub_cell.lines},
            "办理环节": {"text": row.cells["办理环节"].text, "lines": row.cells["办理环节"].lines},
        },
        materials=materials,
        time_limits=parse_time_limits(row.cells["办理时限"], source),
        notes=material_notes + notes,
        legal_basis=[cleaned_record(law, source, SEPARATORS + "。") for law in legal_basis],
        forms=find_forms(materials),
    )


def parse_footer(footer: Cell, source: SourceText) -> list[dict[str, Any]]:
    """The 说明 points and the closing 备注 under the table: rules for every item of the list."""
    records = []
    for labelled in footer.span.split_before(FOOTER_LABEL):
        body = labelled.strip()
        body = body.cut(body.text.index("：") + 1).strip()
        records += [note_record(without_number(point), source) for point in points(body)]
    return records


def parse() -> dict[str, Any]:
    source = source_of(DOCUMENT)
    rows, footer = split_table(read_cells(source))
    legal_basis = legal_basis_by_row(rows)
    items = []
    main_cell = sub_cell = None
    for row in rows:
        main_cell = row.cells["主项"] if row.cells["主项"].text else main_cell
        sub_cell = row.cells["子项"] if row.cells["子项"].text else sub_cell
        items.append(build_item(row, main_cell, sub_cell, legal_basis[row.number], source))
    return {"document": DOCUMENT, "items": items, "general_notes": parse_footer(footer, source)}
