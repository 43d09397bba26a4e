"""Importer of the 郴州市 guide (source 001, lines 1–3897): 33 items under national codes.

The text was converted from a Word file: one paragraph per line, `[bookmark: _TocNNN]` tags glued to headings,
table cells of the printed forms prefixed with tabs, ideographic spaces, and page footers 「— 24 —」. Every item
has the numbered fields （一）…（十） (C16 numbers its first four （1）…（4）), then the residue of its flowchart
(title first, then node labels and a copy of the materials), then its forms 「…（参考样表N）」 with their 注 /
注意事项 / 填报说明 points. Part headings are irregular (第七 and 第十部分 have no label, 第九部分 has neither title nor
code), so an item's 主项 code is derived from its own code. The guide lists no offices and no phone numbers: it
refers to an 附件2 that the file does not contain.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from knowledge.codes import main_of
from knowledge.importers.common import (CIRCLED, CN_NUMBER, FIELD_NAMES, INTRO_ENDINGS, MAIN_CODE_LINE, MATERIAL_VERBS,
                                        NAMED_FORM, NUMBER_MARKER, PART_LABEL, PERSONAL_PLEDGE, REMARK, SECTION_FIELDS,
                                        clean_spaces, condition_of, form_record, item_record, located)
from knowledge.manifest import documents
from knowledge.text import SourceText, load_source, normalize

DOCUMENT = "chenzhou"
ITEM_COUNT = 33

BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")
PAGE_FOOTER = re.compile(r"^—\s*\d+\s*—$")
ITEM_HEADING = re.compile(rf"^[{CN_NUMBER}]+、(?P<name>.+)（(?P<code>002036\d{{6}})）$")
# A part title is plain words (「基本医疗保险参保人员医疗费用」「手工（零星）报销」); at most two lines of it stand
# right above the part's code line.
PART_TITLE = re.compile(r"^[\u4e00-\u9fff“”（）]+$")
MAX_PART_TITLE_LINES = 2

CHANNEL_FIELDS = ("办理渠道", "查询方式", "办理流程")
FIELD_HEADING = re.compile(rf"^（(?:[{CN_NUMBER}]+|\d+)）\s*(?P<name>{'|'.join(FIELD_NAMES)})[：:]?\s*(?P<rest>.*)$")
EVALUATION_END = "方面进行评价。"

INLINE_NUMBER = re.compile(r"(?:^|(?<=[；;。]))\s*\d+[.．、]\s*")
# 「方式一（窗口办）：1.…；2.…」: the materials of one way of applying (C26, C27).
GROUP_LABEL = re.compile(rf"^(?P<label>方式[{CN_NUMBER}]+(?:（[^）]*）)?)[：:](?P<rest>.*)$")
TRAILING = "；;。，, "
# Who a material is for, when its text starts by naming them: 「X的，需提供…」「X需提供…」「X，由…上报/出具…」
# 「X的医药机构，还需…」.
CONDITION_PATTERNS = (
    re.compile(r"^(?P<condition>[^，。；：]+?)的[，：]?(?:需要|需|应|可要求|可|须)?(?:一并)?(?:提供|提交)"),
    re.compile(r"^(?P<condition>[^，。；：的]+?)需提供"),
    re.compile(r"^(?P<condition>[^，。；：]{2,12}?)，?由[^，。；]+?(?:上报|出具)"),
    re.compile(r"^(?P<condition>[^，。；：]+?)的[^，。；：]{0,6}，还需"),
)
TIME_LIMIT = re.compile(r"^(?P<condition>.*?)(?P<limit>(?:不超过|即时|当场).*)$")

ONLINE_CHANNEL = re.compile(
    r"(?P<hall>湖南省医疗保障局网上服务大厅)(?:电话)?(?:（网址：\s*https?://[^）\s]+）)?"
    r"|“(?P<quoted>[^”]+)”(?:APP或微信公众号|微信公众号|公众号|APP)"
    r"|(?P<platform>国家医保服务平台)APP"
)
# 「线上办理：“湘医保”APP或微信公众号、电话」: the telephone named as a way of applying (no number is given).
TELEPHONE_CHANNEL = re.compile(r"(?<=[、或])电话(?=[。；;]?$)")
TELEPHONE = "电话"

FORM_TITLE = re.compile(r"^(?P<name>.+?)（(?P<number>参考样[表式]\d+)）$")
FORM_NUMBER_LINE = re.compile(r"^（(?P<number>参考样[表式]\d+)）$")
FORM_SUBTITLE = re.compile(r"^（(?P<subtitle>[^（）参此]{2,10})）$")
TEMPLATE_NUMBER = "参考样式"  # 个人承诺书（参考样式27）: a template for the whole guide, not one item's form
NOTICE_TITLE = re.compile(r"^[\u4e00-\u9fff]+告知事项$")
NOTICE_POINT = re.compile(rf"^(?:(?P<marker>[{CN_NUMBER}]+、)|第[{CN_NUMBER}]+项[：:])")
NOTE_HEADER = re.compile(r"^(?:注意事项|温馨提示|填报说明|注|备注)[：:](?P<rest>.*)$")
ASIDE_NOTE = re.compile(r"^（(?:备注[：:])?(?P<rest>此表.+)）$")
LABELLED_PLEDGE = re.compile(r"^[\u4e00-\u9fff]{2,12}承诺[：:].+$")
PLEDGE_HEADER_END = "作出承诺："
FORM_SUFFIXES = ("表", "单", "书", "函", "卡", "凭证")


@dataclass(frozen=True)
class Line:
    number: int
    text: str  # without bookmarks and surrounding whitespace


@dataclass
class Item:
    code: str
    name: str
    first: int
    last: int
    fields: dict[str, tuple[int, list[Line]]] = field(default_factory=dict)
    tail: list[Line] = field(default_factory=list)


@dataclass
class PrintedForm:
    """A form printed in the guide: its title without subtitle (to match the names the materials use)."""

    title: str
    record: dict[str, Any]


def clean(text: str) -> str:
    """The text as written, without markup and without whitespace except between two Latin letters or digits."""
    return clean_spaces(BOOKMARK.sub("", text))


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def names_a_material(text: str) -> bool:
    """Whether a 备注 point asks for a document (rather than defining a term or announcing a rule)."""
    return any(verb in text for verb in MATERIAL_VERBS)


class Document:
    """The guide's lines; bookmark-only lines and page footers read as blank."""

    def __init__(self) -> None:
        manifest = documents()[DOCUMENT]
        self.source: SourceText = load_source(manifest.file)
        self.first_line, self.last_line = manifest.first_line, manifest.last_line

    def text(self, number: int) -> str:
        text = BOOKMARK.sub("", self.source.line(number)).strip()
        return "" if PAGE_FOOTER.match(text) else text

    def lines(self, first: int, last: int) -> list[Line]:
        """The non-blank lines first..last."""
        return [Line(number, self.text(number)) for number in range(first, last + 1) if self.text(number)]

    def record(self, value: str, first: int, last: int, evidence: tuple[str, ...] = ()) -> dict[str, Any]:
        """A sourced record; with evidence where the value is not a literal substring of its lines."""
        return located(self.source, value, first, last, list(evidence))


# Items ------------------------------------------------------------------------------------------------------

def find_items(doc: Document) -> tuple[list[Item], list[PrintedForm]]:
    """The items with their fields and tails, and the guide-wide templates (参考样式)."""
    headings: list[tuple[int, re.Match[str]]] = []
    boundaries: list[int] = []
    template_lines: list[int] = []
    for number in range(doc.first_line, doc.last_line + 1):
        text = doc.text(number)
        heading = ITEM_HEADING.match(text)
        title = FORM_TITLE.match(compact(text))
        if heading:
            headings.append((number, heading))
        elif PART_LABEL.match(text):
            boundaries.append(number)
        elif MAIN_CODE_LINE.match(text):
            boundaries.append(part_heading_start(doc, number))
        elif title and title.group("number").startswith(TEMPLATE_NUMBER):
            template_lines.append(number)
    boundaries = sorted({*boundaries, *template_lines, *(number for number, _ in headings), doc.last_line + 1})
    items = []
    for number, heading in headings:
        end = last_content_line(doc, number, next(b for b in boundaries if b > number) - 1)
        item = Item(heading.group("code"), clean(heading.group("name")), number, end)
        split_fields(doc, item)
        items.append(item)
    if len(items) != ITEM_COUNT:
        raise ValueError(f"{DOCUMENT}: {len(items)} items, expected {ITEM_COUNT}")
    templates = [form for number in template_lines
                 for form in printed_forms(doc, doc.lines(number, next(b for b in boundaries if b > number) - 1))]
    return items, templates


def part_heading_start(doc: Document, code_line: int) -> int:
    """The first line of a part heading: its 第N部分 label, or else the title lines right above its code line."""
    start, titles = code_line, 0
    for number in range(code_line - 1, doc.first_line - 1, -1):
        text = doc.text(number)
        if not text:
            continue
        if PART_LABEL.match(text):
            return number
        if titles == MAX_PART_TITLE_LINES or not PART_TITLE.match(text):
            break
        start, titles = number, titles + 1
    return start


def last_content_line(doc: Document, first: int, last: int) -> int:
    while last > first and not doc.text(last):
        last -= 1
    return last


def split_fields(doc: Document, item: Item) -> None:
    """Field name → (heading line, content lines) up to the end of 评价渠道; the lines after it are the tail."""
    lines = doc.lines(item.first + 1, item.last)
    current: list[Line] = []
    for index, line in enumerate(lines):
        heading = FIELD_HEADING.match(line.text)
        if heading:
            current = [Line(line.number, heading.group("rest"))] if heading.group("rest") else []
            item.fields[heading.group("name")] = (line.number, current)
        else:
            current.append(line)
        if "评价渠道" in item.fields and line.text.endswith(EVALUATION_END):
            item.tail = lines[index + 1:]
            return
    raise ValueError(f"{DOCUMENT}: item {item.code} has no end of 评价渠道")


# Fields -----------------------------------------------------------------------------------------------------

def section(doc: Document, heading: int, lines: list[Line]) -> dict[str, Any]:
    return doc.record("\n".join(clean(line.text) for line in lines), heading, lines[-1].number)


def parse_process(doc: Document, lines: list[Line]) -> tuple[list[dict], list[dict]]:
    """办理流程: one record per numbered step (an unnumbered paragraph is a step of its own); 备注 are notes."""
    steps: list[list[Line]] = []
    notes = []
    for line in lines:
        remark = REMARK.match(line.text)
        if remark:
            notes.append(doc.record(clean(line.text[remark.end():]), line.number, line.number))
        elif NUMBER_MARKER.match(line.text) or not steps:
            steps.append([line])
        else:
            steps[-1].append(line)
    process = [doc.record("".join(clean(line.text) for line in step), step[0].number, step[-1].number)
               for step in steps]
    return process, notes


def parse_time_limits(doc: Document, lines: list[Line]) -> tuple[list[dict], list[dict]]:
    """办理时限: 「线上不超过2个工作日，线下即时办结」 gives one record per condition; 备注 are notes."""
    limits, notes = [], []
    for line in lines:
        remark = REMARK.match(line.text)
        if remark:
            notes.append(doc.record(clean(line.text[remark.end():]), line.number, line.number))
            continue
        value = clean(line.text).rstrip(TRAILING)
        parts = [TIME_LIMIT.match(part) for part in re.split(r"[；;，,]", value)]
        if len(parts) == 1 or not all(parts):
            limits.append({**doc.record(value, line.number, line.number), "condition": None})
            continue
        for part in parts:
            record = doc.record(part.group("limit"), line.number, line.number)
            limits.append({"text": record.pop("text"), "condition": part.group("condition") or None, **record})
    return limits, notes


def parse_materials(doc: Document, lines: list[Line]) -> tuple[list[dict], list[dict]]:
    """办理材料: one record per numbered, ①② or 「方式N：」 point; a 备注 point that asks for nothing is a note."""
    materials, notes = [], []
    in_remark = False
    label: str | None = None  # the group a 「1.单位职工：」 or 「方式一：」 line opens
    for line in lines:
        text = line.text
        remark = REMARK.match(text)
        if remark:
            in_remark, label, text = True, None, text[remark.end():]
        group = GROUP_LABEL.match(text)
        marker = NUMBER_MARKER.match(text)
        if group:
            label, text = clean(group.group("label")), group.group("rest")
        elif marker:
            label, text = None, text[marker.end():]
        if text.rstrip().endswith(("：", ":")) and not CIRCLED.search(text):
            head = clean(text).rstrip("：:")
            label = None if head.endswith(INTRO_ENDINGS) else head
            continue
        for point, condition in material_points(text):
            condition = label or condition
            value = clean(point).rstrip(TRAILING)
            if in_remark and condition is None and not names_a_material(value):
                notes.append(doc.record(clean(point).rstrip("；; "), line.number, line.number))
            else:
                materials.append({**doc.record(value, line.number, line.number), "condition": condition})
    return materials, notes


def material_points(text: str) -> list[tuple[str, str | None]]:
    """(text, condition) of each material a line lists: ①② points inherit the condition of the words before them."""
    circled = [match.start() for match in CIRCLED.finditer(text)]
    if circled:
        head_condition = condition_of(clean(text[:circled[0]]), CONDITION_PATTERNS)
        bounds = [*circled, len(text)]
        return [(text[start + 1:end], condition_of(clean(text[start + 1:end]), CONDITION_PATTERNS) or head_condition)
                for start, end in zip(bounds, bounds[1:])]
    return [(point, condition_of(clean(point), CONDITION_PATTERNS)) for point in numbered_points(text)]


def numbered_points(text: str) -> list[str]:
    """The points of 「1.…；2.…」 written on one line, without their numbers (the text itself if unnumbered)."""
    markers = list(INLINE_NUMBER.finditer(text))
    starts = [0, *(marker.end() for marker in markers)]
    ends = [*(marker.start() for marker in markers), len(text)]
    return [text[start:end] for start, end in zip(starts, ends) if text[start:end].strip(TRAILING)] or [text]


def parse_channels(doc: Document, lines: list[Line]) -> list[dict[str, Any]]:
    """Every named website, app and 公众号 (first mention), and the telephone where it is a way of applying online."""
    channels = []
    for line in lines:
        for match in ONLINE_CHANNEL.finditer(line.text):
            name = match.group("hall") or match.group("quoted") or match.group("platform")
            channels.append({"name": name, **doc.record(clean(match.group(0)), line.number, line.number)})
        if "线上办理" in line.text and TELEPHONE_CHANNEL.search(line.text):
            channels.append({"name": TELEPHONE, **doc.record(TELEPHONE, line.number, line.number)})
    unique: dict[str, dict[str, Any]] = {}
    for channel in channels:
        unique.setdefault(channel["name"], channel)
    return list(unique.values())


# Forms ------------------------------------------------------------------------------------------------------

def printed_forms(doc: Document, tail: list[Line]) -> list[PrintedForm]:
    """The forms printed in an item's tail (the flowchart residue before the first title is skipped)."""
    titles = [(index, found) for index in range(len(tail)) if (found := form_title(tail, index))]
    forms = []
    for (index, (title, number, consumed)), end in zip(titles, [*(index for index, _ in titles[1:]), len(tail)]):
        subtitle = FORM_SUBTITLE.match(compact(tail[index + consumed].text)) if index + consumed < end else None
        title_lines = tail[index: index + consumed + (1 if subtitle else 0)]
        name = title + (f"（{subtitle.group('subtitle')}）" if subtitle else "")
        evidence = (title, f"（{subtitle.group('subtitle')}）") if subtitle else ()
        record = doc.record(name, title_lines[0].number, title_lines[-1].number, evidence)
        notes = (notice_points if NOTICE_TITLE.match(title) else form_notes)(doc, tail[index + len(title_lines): end])
        forms.append(PrintedForm(title, form_record(record.pop("text"), number=number, attached=True, notes=notes,
                                                    **record)))
    return forms


def form_title(lines: list[Line], index: int) -> tuple[str, str | None, int] | None:
    """(title, number, lines used) when a form's title starts at lines[index]."""
    text = compact(lines[index].text)
    title = FORM_TITLE.match(text)
    if title:
        return clean(title.group("name")), title.group("number"), 1
    following = FORM_NUMBER_LINE.match(compact(lines[index + 1].text)) if index + 1 < len(lines) else None
    if following:
        return clean(text), following.group("number"), 2
    if NOTICE_TITLE.match(text):
        return text, None, 1
    return None


def form_notes(doc: Document, lines: list[Line]) -> list[dict[str, Any]]:
    """The 注 / 备注 / 注意事项 / 填报说明 points, 「（此表…）」 remarks and labelled pledges printed on a form."""
    notes: list[dict[str, Any]] = []
    in_block = False
    for line in lines:
        text = compact(line.text)
        header, aside = NOTE_HEADER.match(text), ASIDE_NOTE.match(text)
        if header:
            in_block = True
            notes += point_notes(doc, line, header.group("rest"))
        elif aside:
            in_block = False
            notes.append(doc.record(clean(aside.group("rest")), line.number, line.number))
        elif LABELLED_PLEDGE.match(text):
            in_block = False
            notes.append(doc.record(clean(line.text), line.number, line.number))
        elif text.endswith(PLEDGE_HEADER_END):
            in_block = True
        elif in_block and NUMBER_MARKER.match(text):
            notes += point_notes(doc, line, line.text)
        else:
            in_block = False
    return notes


def point_notes(doc: Document, line: Line, text: str) -> list[dict[str, Any]]:
    return [doc.record(clean(point).rstrip("；; "), line.number, line.number)
            for point in numbered_points(text) if clean(point)]


def notice_points(doc: Document, lines: list[Line]) -> list[dict[str, Any]]:
    """The points of a 承诺告知事项: 「一、…」 (without the number) and 「第一项：…」 (with it)."""
    notes = []
    for line in lines:
        point = NOTICE_POINT.match(line.text)
        if point:
            start = point.end() if point.group("marker") else 0
            notes.append(doc.record(clean(line.text[start:]), line.number, line.number))
    return notes


def named_forms(records: list[dict[str, Any]], printed: list[PrintedForm],
                templates: list[PrintedForm]) -> list[dict[str, Any]]:
    """The forms the materials and steps name besides those printed in the item: a guide-wide template (参考样式)
    as printed, any other name (e.g. a spelling that differs from the printed title) with no number, not attached."""
    printed_titles = {normalize(form.title) for form in printed}
    template_by_title = {normalize(form.title): form.record for form in templates}
    forms: dict[str, dict[str, Any]] = {}
    for record in records:
        names = [match.group("name") for match in NAMED_FORM.finditer(record["text"])
                 if match.group("name").endswith(FORM_SUFFIXES)]
        if PERSONAL_PLEDGE in NAMED_FORM.sub("", record["text"]):  # printed as 参考样式27
            names.append(PERSONAL_PLEDGE)
        for name in names:
            key = normalize(name)
            if key in printed_titles or key in forms:
                continue
            template = template_by_title.get(key)
            forms[key] = copy.deepcopy(template) if template else form_record(name, list(record["lines"]))
    return list(forms.values())


# Assembly ---------------------------------------------------------------------------------------------------

LIST_FIELDS = {"办理流程": ("process", parse_process), "办理材料": ("materials", parse_materials),
               "办理时限": ("time_limits", parse_time_limits)}


def parse_item(doc: Document, item: Item, templates: list[PrintedForm]) -> dict[str, Any]:
    record = item_record(key=item.code, code=item.code, parent_code=main_of(item.code), name=item.name,
                         lines=[item.first, item.last])
    for name, (heading, lines) in item.fields.items():
        if name in SECTION_FIELDS and lines:
            record["sections"][name] = section(doc, heading, lines)
        if name in LIST_FIELDS:
            list_name, parser = LIST_FIELDS[name]
            record[list_name], notes = parser(doc, lines)
            record["notes"] += notes
    channel_lines = [line for name in CHANNEL_FIELDS if name in item.fields for line in item.fields[name][1]]
    record["online_channels"] = parse_channels(doc, channel_lines)
    printed = printed_forms(doc, item.tail)
    record["forms"] = [form.record for form in printed] + named_forms(
        record["materials"] + record["process"], printed, templates)
    return record


def parse() -> dict[str, Any]:
    doc = Document()
    items, templates = find_items(doc)
    return {"document": DOCUMENT, "items": [parse_item(doc, item, templates) for item in items]}
