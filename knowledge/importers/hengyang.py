"""Importer of the 衡阳市 guide (source 000, lines 1–8157): 33 items under national codes.

The text was extracted from a PDF: lines are hard-wrapped at about 30 characters with a blank line after each,
the first line of every page starts with a space, page numbers stand on lines of their own (even inside lists
and sentences), and every item ends with the residue of its flowchart (node labels, then the 「…办理流程图」
title) followed by its forms dumped one table cell per line. The parser walks the numbered field headings
（一）…（十） of each item, keeps only the text of the fields, and reads the forms only for their titles and
their 温馨提示 / 注意事项 / 注 / 备注 points.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from knowledge.importers.common import (CIRCLED, CN_NUMBER, FIELD_NAMES, INTRO_ENDINGS, MAIN_CODE_LINE, MATERIAL_VERBS,
                                        MAX_EVIDENCE, NAMED_FORM, PART_LABEL, PERSONAL_PLEDGE, REMARK, SECTION_FIELDS,
                                        clean_spaces, condition_of, form_record, item_record, located, phone_record)
from knowledge.manifest import documents
from knowledge.text import SourceText, load_source, normalize

DOCUMENT = "hengyang"

# The 14 units of the office and phone lists (衡阳市 is the city level). The text writes them as 「名称：…」
# lines but does not otherwise mark which 「X：」 lines are units.
UNITS = ("衡阳市", "衡南县", "衡阳县", "衡山县", "衡东县", "祁东县", "常宁市", "耒阳市", "南岳区", "雁峰区",
         "石鼓区", "珠晖区", "蒸湘区", "高新区")

# The cells of 表4 (衡阳市灵活就业人员医保退休审批表, an H2 form whose title is on line 630) were extracted after
# the H3 heading (631); H3's own fields start at 738. These lines belong to H2's forms, not to H3.
DISPLACED_FORM_LINES = (632, 737)

# A material names a form differently from the title printed on the form itself (H31: 7588 vs 7728).
FORM_NAME_ALIASES = {"衡阳市定点零售药店申请表": "衡阳市定点零售、特门、特药药店申请表"}

# What a name in 《》 ends with when it is a form to fill in (not a certificate, licence or report).
FORM_SUFFIXES = ("表", "卡", "凭证", "函", "授权书")

ITEM_HEADING = re.compile(rf"^[{CN_NUMBER}]+、(?P<rest>.+)$")
ITEM_CODE = re.compile(r"（(002036\d{6})）$")
FIELD_HEADING = re.compile(rf"^（[{CN_NUMBER}]+）(?P<name>{'|'.join(FIELD_NAMES)})[：:]?(?P<rest>.*)$")
PAGE_NUMBER = re.compile(r"^\d{1,3}$")
ROW_SPACING = 4
EVALUATION_END = ("方面进行评价。", "方面进行评价")
FLOWCHART_TITLE_END = "办理流程图"
FORM_TITLE = re.compile(r"^(?P<name>.+?)（(?P<number>(?:参考样)?表\d+)）$")

LIST_MARKER = re.compile(r"^(?:\d+[.、．]|[①-⑳]|（\d+）)\s*")
STEP_MARKER = re.compile(r"^\d+(?:[.、．]|(?=[\u4e00-\u9fff]))")
FIELD_LABEL = re.compile(r"^[\u4e00-\u9fff]{2,6}[：:]")
PARAGRAPH_END = tuple("。；;：:")
UNIT_LINE = re.compile(rf"^(?P<unit>{'|'.join(UNITS)})\s*[：:]\s*(?P<rest>.*)$")
UNIT_LABEL = re.compile(rf"(?P<unit>{'|'.join(UNITS)})\s*[：:]")
PHONE = re.compile(r"(?P<number>0\d{2,3}-\d{7,8}|1\d{10})\s*(?:[（(](?P<qualifier>职工|居民)[）)])?")
HOSPITAL_LINE = re.compile(r"^(?P<name>[^()（）\d]+?)\s*[（(](?P<number>0\d{2,3}-\d{7,8}|1\d{10})[）)]$")
ONLINE_NAME = re.compile(r"(?P<before>微信公众号|公众号)?“(?P<name>[^”]+)”(?P<after>APP|小程序)?")
TIME_LIMIT = re.compile(r"^(?P<condition>.*?)(?P<limit>(?:不超过|即时|当场|承诺).*)$")

# Conditions a material is printed under: 「X的，需提供…」, 「X需提供…」, 「X，由…出具/上报…」.
CONDITION_PATTERNS = (
    re.compile(r"^(?P<condition>[^，。；：:]+?)的[，：:]?(?:需要|需|应|可)?(?:一并)?(?:提供|提交)"),
    re.compile(r"^(?P<condition>[^，。；：:的]+?)需提供"),
    re.compile(r"^(?P<condition>[^，。；：:]{2,12}?)，?由[^，。；]+?(?:上报|出具)"),
)
SHORT_MATERIAL = 10

# Points printed on a form: a header (温馨提示, 注 …) followed by numbered points, or a labelled paragraph.
FORM_NOTE_HEADER = re.compile(r"^(?:(?:温馨提示|注意事项)[：:]?|(?:注|备注|填报说明)[：:])(?P<rest>.*)$")
FORM_NOTE_LABELLED = re.compile(r"^(?:需提供资料|年限认定|[\u4e00-\u9fff]{2,12}承诺)[：:].+$")
FILLED_TEMPLATE = re.compile(r"填写“(?P<name>[^”]+)”")

Point = tuple[int, int, str | None]  # start, end and condition of one material inside a paragraph


@dataclass(frozen=True)
class Line:
    number: int
    text: str


@dataclass
class Paragraph:
    """Consecutive wrapped lines that form one sentence, list point or label."""

    pieces: list[Line]
    page_numbers: frozenset[int]

    @property
    def text(self) -> str:
        return "".join(piece.text for piece in self.pieces)

    @property
    def first(self) -> int:
        return self.pieces[0].number

    def locate(self, start: int, end: int) -> tuple[int, int]:
        """The first and last line of the characters start..end of the text."""
        numbers, offset = [], 0
        for piece in self.pieces:
            piece_end = offset + len(piece.text)
            if piece_end > start and offset < end:
                numbers.append(piece.number)
            offset = piece_end
        return (numbers[0], numbers[-1]) if numbers else (self.first, self.first)

    def fragments(self, start: int = 0, end: int | None = None) -> list[str]:
        """The characters start..end split where a page-number line interrupts the text."""
        end = len(self.text) if end is None else end
        cuts, offset = [], 0
        for piece, following in zip(self.pieces, self.pieces[1:]):
            offset += len(piece.text)
            if any(piece.number < gap < following.number for gap in self.page_numbers) and start < offset < end:
                cuts.append(offset)
        bounds = [start, *cuts, end]
        return [self.text[a:b] for a, b in zip(bounds, bounds[1:])]


@dataclass
class Item:
    code: str
    parent_code: str
    name: str
    first: int
    last: int
    heading_last: int
    body: list[Line] = field(default_factory=list)
    tail: list[Line] = field(default_factory=list)


def strip_list_marker(text: str) -> str:
    return LIST_MARKER.sub("", text, count=1)


def strip_trailing(text: str) -> str:
    return text.rstrip("；;。，,：: ")


class Document:
    """The guide's lines, with the page-number lines known so that wrapped text can be joined across them."""

    def __init__(self) -> None:
        manifest = documents()[DOCUMENT]
        self.source: SourceText = load_source(manifest.file)
        self.first_line, self.last_line = manifest.first_line, manifest.last_line
        bare_numbers = [number for number in range(self.first_line, self.last_line + 1)
                         if PAGE_NUMBER.match(self.text(number))]
        # A page number stands alone; the row numbers 1, 2, 3 … of a dumped form come every other line.
        self.page_numbers = frozenset(number for number in bare_numbers
                                      if not any(0 < abs(number - other) <= ROW_SPACING for other in bare_numbers))

    def text(self, number: int) -> str:
        return self.source.line(number).strip()

    def content(self, first: int, last: int) -> list[Line]:
        """The lines first..last without blank and page-number lines, page-start spaces removed."""
        return [Line(number, self.text(number)) for number in range(first, last + 1)
                if self.text(number) and number not in self.page_numbers]

    def record(self, value: str, first: int, last: int, fragments: Iterable[str] = ()) -> dict[str, Any]:
        """A sourced record (common.located); the evidence, where needed, is the longest of the fragments the
        value was read from."""
        pieces = [clean_spaces(strip_trailing(fragment)) for fragment in fragments]
        pieces = [piece for piece in dict.fromkeys(pieces) if len(normalize(piece)) > 1]
        if len(pieces) > MAX_EVIDENCE:
            pieces = sorted(pieces, key=len, reverse=True)[:MAX_EVIDENCE]
        return located(self.source, value, first, last, pieces)

    def paragraphs(self, lines: list[Line], steps: bool = False) -> list[Paragraph]:
        """Join wrapped lines into paragraphs: a new one starts at a list marker, a label, a hospital line or
        after 。；：, and a hospital line stands alone."""
        paragraphs: list[list[Line]] = []
        for line in lines:
            starts = (LIST_MARKER.match(line.text) or FIELD_LABEL.match(line.text) or HOSPITAL_LINE.match(line.text)
                      or (steps and STEP_MARKER.match(line.text)))
            ends = paragraphs and (paragraphs[-1][-1].text.endswith(PARAGRAPH_END)
                                   or HOSPITAL_LINE.match(paragraphs[-1][-1].text))
            if not paragraphs or starts or ends:
                paragraphs.append([line])
            else:
                paragraphs[-1].append(line)
        return [Paragraph(pieces, self.page_numbers) for pieces in paragraphs]


# Items ------------------------------------------------------------------------------------------------------

def find_items(doc: Document) -> list[Item]:
    """Every item heading with its parent code, and the lines up to the next item or part heading."""
    items: list[Item] = []
    boundaries: list[int] = []
    parent_code = ""
    number = doc.first_line
    while number <= doc.last_line:
        text = doc.text(number)
        if PART_LABEL.match(text):
            boundaries.append(number)
        elif MAIN_CODE_LINE.match(text):
            parent_code = MAIN_CODE_LINE.match(text).group(1)
        elif ITEM_HEADING.match(text):
            heading = _item_heading(doc, number)
            if heading:
                name, code, heading_last = heading
                boundaries.append(number)
                items.append(Item(code, parent_code, name, number, doc.last_line, heading_last))
                number = heading_last
        number += 1
    for item in items:
        following = [boundary for boundary in boundaries if boundary > item.first]
        end = following[0] - 1 if following else doc.last_line
        while not doc.text(end) or end in doc.page_numbers:
            end -= 1
        item.last = end
    _split_body_and_tail(doc, items)
    return items


def _item_heading(doc: Document, number: int) -> tuple[str, str, int] | None:
    """(name, code, last heading line) when the heading at `number` ends with a code within three lines."""
    parts = []
    for candidate in range(number, min(number + 3, doc.last_line) + 1):
        text = doc.text(candidate)
        if not text:
            continue
        parts.append(ITEM_HEADING.match(text).group("rest") if candidate == number else text)
        code = ITEM_CODE.search(text)
        if code:
            return clean_spaces(ITEM_CODE.sub("", "".join(parts))), code.group(1), candidate
    return None


def _split_body_and_tail(doc: Document, items: list[Item]) -> None:
    """Field lines go to `body`; the flowchart residue and the forms after 评价渠道 go to `tail`."""
    displaced = range(DISPLACED_FORM_LINES[0], DISPLACED_FORM_LINES[1] + 1)
    for index, item in enumerate(items):
        lines = [line for line in doc.content(item.heading_last + 1, item.last) if line.number not in displaced]
        end = _evaluation_end(lines)
        item.body, item.tail = lines[: end + 1], lines[end + 1:]
        if index and item.first < DISPLACED_FORM_LINES[0] <= item.last:
            items[index - 1].tail += doc.content(*DISPLACED_FORM_LINES)


def _evaluation_end(lines: list[Line]) -> int:
    """The index of the last line of 评价渠道, the last field of every item."""
    start = next(i for i, line in enumerate(lines)
                 if (heading := _field_heading(line.text)) and heading.group("name") == "评价渠道")
    text = ""
    for index in range(start, len(lines)):
        text += normalize(lines[index].text)
        if text.endswith(EVALUATION_END):
            return index
    raise ValueError(f"{DOCUMENT}: 评价渠道 at line {lines[start].number} has no end")


def _field_heading(text: str) -> re.Match[str] | None:
    return FIELD_HEADING.match(re.sub(r"\s+", "", text))


def split_fields(item: Item) -> dict[str, tuple[int, list[Line]]]:
    """Field name → (heading line, content lines); text after the heading's colon is the first content line."""
    fields: dict[str, tuple[int, list[Line]]] = {}
    current: list[Line] = []
    for line in item.body:
        heading = _field_heading(line.text)
        if heading:
            current = []
            fields[heading.group("name")] = (line.number, current)
            rest = heading.group("rest").lstrip("、，, ")
            if rest:
                current.append(Line(line.number, rest))
        else:
            current.append(line)
    return fields


# Fields -----------------------------------------------------------------------------------------------------

def section(doc: Document, heading: int, paragraphs: list[Paragraph], last: int) -> dict[str, Any]:
    """The field's own text (its paragraphs joined by newlines) with the lines from its heading on."""
    value = "\n".join(clean_spaces(paragraph.text) for paragraph in paragraphs)
    fragments = [fragment for paragraph in paragraphs for fragment in paragraph.fragments()]
    return doc.record(value, heading, last, fragments)


def sliced(doc: Document, paragraph: Paragraph, value: str, start: int, end: int) -> dict[str, Any]:
    first, last = paragraph.locate(start, end)
    return doc.record(value, first, last, paragraph.fragments(start, end))


def parse_channels(doc: Document, lines: list[Line]) -> tuple[list[Paragraph], list[dict], list[dict], list[dict]]:
    """办理渠道: (text paragraphs, offices, hospital phones, online channels)."""
    office_lines: list[Line] = []
    text_lines: list[Line] = []
    hospitals: list[dict[str, Any]] = []
    in_offices = False
    for line in lines:
        if UNIT_LINE.match(line.text):
            in_offices = True
        elif in_offices and LIST_MARKER.match(line.text):
            in_offices = False
        (office_lines if in_offices else text_lines).append(line)
        hospital = HOSPITAL_LINE.match(line.text)
        if hospital and not in_offices:
            hospitals.append(phone_record(None, hospital.group("number"), "医院", [line.number, line.number],
                                          hospital=hospital.group("name").strip()))
    paragraphs = doc.paragraphs(text_lines)
    offices = parse_offices(doc, office_lines) if office_lines else []
    channels = [channel for paragraph in paragraphs if "线上" in paragraph.text
                for channel in parse_online(doc, paragraph)]
    return paragraphs, offices, hospitals, channels


def parse_offices(doc: Document, lines: list[Line]) -> list[dict[str, Any]]:
    """「单位：地址」 entries; the unit label may itself be wrapped into the previous address (H2 蒸湘区)."""
    block = Paragraph(lines, doc.page_numbers)
    labels = list(UNIT_LABEL.finditer(block.text))
    offices = []
    for label, following in zip(labels, labels[1:] + [None]):
        end = following.start() if following else len(block.text)
        address = clean_spaces(block.text[label.end():end])
        record = sliced(doc, block, address, label.start(), end)
        offices.append({"unit": label.group("unit"), "address": record.pop("text"), **record})
    return offices


def parse_online(doc: Document, paragraph: Paragraph) -> list[dict[str, Any]]:
    channels = []
    for match in ONLINE_NAME.finditer(paragraph.text):
        record = sliced(doc, paragraph, clean_spaces(match.group(0)), match.start(), match.end())
        channels.append({"name": match.group("name"), **record})
    return channels


def parse_phone_list(lines: list[Line], kind: str) -> tuple[list[Line], list[dict[str, Any]]]:
    """(the lines that are not phone lines, one phone record per number of every 「单位：号码」 line)."""
    other, phones = [], []
    for line in lines:
        entry = UNIT_LINE.match(line.text)
        numbers = list(PHONE.finditer(entry.group("rest"))) if entry else []
        if not numbers:
            other.append(line)
            continue
        phones += [phone_record(entry.group("unit"), number.group("number"), kind, [line.number, line.number],
                                number.group("qualifier")) for number in numbers]
    return other, phones


def parse_process(doc: Document, lines: list[Line]) -> tuple[list[dict], list[dict]]:
    """办理流程: one record per numbered step (unnumbered wrapped text joins its step); 备注 go to notes."""
    steps: list[list[Paragraph]] = []
    notes = []
    for paragraph in doc.paragraphs(lines, steps=True):
        if REMARK.match(paragraph.text):
            notes.append(remark_note(doc, paragraph))
        elif STEP_MARKER.match(paragraph.text) or not steps:
            steps.append([paragraph])
        else:
            steps[-1].append(paragraph)
    process = []
    for step in steps:
        merged = Paragraph([piece for paragraph in step for piece in paragraph.pieces], doc.page_numbers)
        process.append(sliced(doc, merged, clean_spaces(merged.text), 0, len(merged.text)))
    return process, notes


def remark_note(doc: Document, paragraph: Paragraph) -> dict[str, Any]:
    start = REMARK.match(paragraph.text).end()
    return sliced(doc, paragraph, clean_spaces(paragraph.text[start:]), start, len(paragraph.text))


def parse_time_limits(doc: Document, lines: list[Line]) -> tuple[list[dict], list[dict]]:
    """办理时限: one record per 「；」-separated condition; 备注 go to notes."""
    limits, notes = [], []
    for paragraph in doc.paragraphs(lines):
        if REMARK.match(paragraph.text):
            notes.append(remark_note(doc, paragraph))
            continue
        offset = 0
        for part in re.split(r"(?<=[；;])", paragraph.text):
            match = TIME_LIMIT.match(part)
            if match:
                start = offset + match.start("limit")
                value = clean_spaces(strip_trailing(match.group("limit")))
                record = sliced(doc, paragraph, value, start, start + len(match.group("limit")))
                limits.append({"text": record.pop("text"), "condition": clean_spaces(match.group("condition")) or None,
                               **record})
            offset += len(part)
    return limits, notes


def parse_materials(doc: Document, lines: list[Line]) -> tuple[list[dict], list[dict]]:
    """办理材料: one record per numbered material or ①② point; a 备注 point that names no material is a note."""
    materials, notes = [], []
    in_remark = False
    inherited: str | None = None
    for paragraph in doc.paragraphs(lines):
        text, start = paragraph.text, 0
        remark = REMARK.match(text)
        if remark:
            in_remark, start = True, remark.end()
        marker = LIST_MARKER.match(text[start:])
        if marker and not CIRCLED.match(marker.group(0)):
            start, inherited = start + marker.end(), None
        inherited, points = material_points(text, start, inherited)
        for point_start, point_end, condition in points:
            value = clean_spaces(strip_trailing(text[point_start:point_end]))
            if in_remark and condition is None and not names_a_material(value):
                note = clean_spaces(text[point_start:point_end].rstrip("；; "))
                notes.append(sliced(doc, paragraph, note, point_start, point_end))
            else:
                record = sliced(doc, paragraph, value, point_start, point_end)
                materials.append({"text": record.pop("text"), "condition": condition, **record})
    return materials, notes


def material_points(text: str, start: int, inherited: str | None) -> tuple[str | None, list[Point]]:
    """(the condition a head passes on to ①② points, [(start, end, condition)] of each point of a paragraph)."""
    circled = [match.start() for match in CIRCLED.finditer(text, start)]
    head = clean_spaces(text[start: circled[0]] if circled else text[start:])
    if not circled:
        if head.endswith(tuple(ending + colon for ending in INTRO_ENDINGS for colon in "：:")):
            return None, []
        return None, [(start, len(text), condition_of(head, CONDITION_PATTERNS))]
    head_condition = inherited
    label = head.rstrip("：:")
    if label:
        head_condition = condition_of(label, CONDITION_PATTERNS[:1]) or (
            None if label.endswith(INTRO_ENDINGS) else label)
    points = [(point_start + 1, point_end,
               condition_of(clean_spaces(text[point_start + 1:point_end]), CONDITION_PATTERNS) or head_condition)
              for point_start, point_end in zip(circled, circled[1:] + [len(text)])]
    return head_condition, points


def names_a_material(text: str) -> bool:
    """Whether a 备注 point asks for a document (rather than defining a term or announcing changes)."""
    return any(verb in text for verb in MATERIAL_VERBS) or (len(text) <= SHORT_MATERIAL and "包括" not in text)


# Forms ------------------------------------------------------------------------------------------------------

def printed_forms(doc: Document, tail: list[Line]) -> list[dict[str, Any]]:
    """Forms printed after the flowchart: title, number and the points printed on them."""
    title_index = next((i for i, line in enumerate(tail) if line.text.endswith(FLOWCHART_TITLE_END)), -1)
    region = tail[title_index + 1:]
    forms: list[dict[str, Any]] = []
    pending_notes: list[dict[str, Any]] = []
    for kind, payload in scan_form_region(doc, region):
        if kind == "title":
            title, line = payload
            forms.append(form_record(clean_spaces(title.group("name")), [line.number, line.number],
                                     title.group("number"), attached=True, notes=pending_notes))
            pending_notes = []
        elif forms:
            forms[-1]["notes"].append(payload)
        else:
            pending_notes.append(payload)
    if pending_notes:
        raise ValueError(f"{DOCUMENT}: form notes without a form: {pending_notes}")
    return forms


def scan_form_region(doc: Document, region: list[Line]) -> Iterable[tuple[str, Any]]:
    """Yield ("title", (match, line)) for each form title and ("note", record) for each point printed on it."""
    note: list[Line] = []
    keeps_label = in_block = False
    for line in region:
        text = re.sub(r"\s+", "", line.text)
        title, header, labelled = FORM_TITLE.match(text), FORM_NOTE_HEADER.match(text), FORM_NOTE_LABELLED.match(text)
        continues = bool(note) and not note[-1].text.endswith(("。", "；", ";"))
        if in_block and not (title or header or labelled) and continues and not LIST_MARKER.match(line.text):
            note.append(line)
            continue
        if note:
            yield "note", form_note(doc, note, keeps_label)
        note, keeps_label = [], False
        if title:
            in_block = False
            yield "title", (title, line)
        elif header:
            in_block = True
            note = [Line(line.number, header.group("rest"))] if header.group("rest") else []
        elif labelled:
            in_block, keeps_label, note = True, True, [line]
        elif in_block and LIST_MARKER.match(line.text):
            note = [line]
        else:
            in_block = False
    if note:
        yield "note", form_note(doc, note, keeps_label)


def form_note(doc: Document, lines: list[Line], keeps_label: bool) -> dict[str, Any]:
    paragraph = Paragraph(lines, doc.page_numbers)
    text = paragraph.text
    start = 0 if keeps_label else len(text) - len(strip_list_marker(text))
    end = len(text.rstrip("；; "))
    return sliced(doc, paragraph, clean_spaces(text[start:end]), start, end)


def named_forms(records: list[dict[str, Any]], printed: list[dict]) -> list[dict[str, Any]]:
    """Forms the materials name but the item does not print; a name matching a printed title is that form."""
    printed_names = {normalize(form["name"]) for form in printed}
    forms: dict[str, dict[str, Any]] = {}
    for record in records:
        names = [match.group("name") for match in NAMED_FORM.finditer(record["text"])
                 if match.group("name").endswith(FORM_SUFFIXES)]
        names += [match.group("name") for match in FILLED_TEMPLATE.finditer(record["text"])]
        if PERSONAL_PLEDGE in NAMED_FORM.sub("", record["text"]):  # its template (8158) lies outside the guide's lines
            names.append(PERSONAL_PLEDGE)
        for name in names:
            canonical = normalize(FORM_NAME_ALIASES.get(name, name))
            longer = any(other != name and other.endswith(name) for other in names)
            if canonical in printed_names or canonical in forms or longer:
                continue
            forms[canonical] = form_record(name, list(record["lines"]))
    return list(forms.values())


# Assembly ---------------------------------------------------------------------------------------------------

PHONE_FIELDS = {"查询方式": "查询", "监督电话": "监督"}
LIST_FIELDS = {"办理流程": ("process", parse_process), "办理材料": ("materials", parse_materials),
               "办理时限": ("time_limits", parse_time_limits)}


def parse_item(doc: Document, item: Item) -> dict[str, Any]:
    record = item_record(key=item.code, code=item.code, parent_code=item.parent_code, name=item.name,
                         lines=[item.first, item.last])
    for name, (heading, lines) in split_fields(item).items():
        paragraphs = read_field(doc, name, lines, record)
        if name in SECTION_FIELDS and paragraphs:
            record["sections"][name] = section(doc, heading, paragraphs, lines[-1].number)
    printed = printed_forms(doc, item.tail)
    record["forms"] = printed + named_forms(record["materials"] + record["process"], printed)
    return record


def read_field(doc: Document, name: str, lines: list[Line], record: dict[str, Any]) -> list[Paragraph]:
    """Fill the item's lists from one field; return the paragraphs that are the field's own text."""
    if name == "办理渠道":
        paragraphs, record["offices"], hospitals, record["online_channels"] = parse_channels(doc, lines)
        record["phones"] += hospitals
        return paragraphs
    if name in PHONE_FIELDS:
        other, phones = parse_phone_list(lines, PHONE_FIELDS[name])
        record["phones"] += phones
        return doc.paragraphs(other)
    if name in LIST_FIELDS:
        list_name, parser = LIST_FIELDS[name]
        record[list_name], notes = parser(doc, lines)
        record["notes"] += notes
        return []
    return doc.paragraphs(lines)


def parse() -> dict[str, Any]:
    doc = Document()
    return {"document": DOCUMENT, "items": [parse_item(doc, item) for item in find_items(doc)]}
