"""Importer of the 长沙 guide (长医保办发〔2020〕23号): 55 items with their offices, phones, forms and lists.

The text is Markdown/HTML-flavoured: half-width punctuation, `- ` bullets, `**` bold, HTML tags, autolinks
`(<http://…>)` and tab-separated form tables. Every item heading is repeated in the table of contents, field
headings are `(一)事项名称:` … `(十)评价渠道:`, and after 评价渠道 come the flowchart title(s) and, for some
items, printed forms or hospital lists.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from knowledge.codes import catalogue_code
from knowledge.importers.common import (CN_NUMBER, FIELD_NAMES, NUMBER_MARKER, form_record, item_record, phone_record,
                                        source_of)
from knowledge.text import SourceText, normalize

DOCUMENT = "changsha"

# Part 11 (「市本级已入窗未在清单内的事项」) has no 主项 code: its local items are filed under the national 主项
# they belong to by subject (个人账户 items under 00203600200Y, the 军转干部 hospital-cost check under 00203600600Y).
LOCAL_PARENT_CODES = {
    "0731-1": "00203600200Y", "0731-2": "00203600200Y", "0731-3": "00203600200Y", "0731-4": "00203600200Y",
    "0731-5": "00203600200Y", "0731-6": "00203600200Y", "0731-7": "00203600600Y",
}
# The online channels the guide names; the text marks them only by their wording.
CHANNEL_PATTERNS = (
    ("长沙市12333公共服务平台", re.compile(r"全?长沙市12333公共服务平台(?:\(https?://[^()\s]+\))?")),
    ("智慧人社", re.compile(r"湖南智慧人社APP")),
    ("我的长沙", re.compile(r"我的长沙APP")),
    ("医保内网", re.compile(r"医保内网办理[:：][^。]*|医保管理信息系统查询")),
)
FIELD_ALIASES = {"办结时限": "办理时限"}  # S45 labels its time limit 「(七)办结时限」
FORM_SUFFIXES = ("表", "申请书", "承诺书", "申请卡")
# Without 《》 only these endings name a form (「…工资表」 in 0731-4 is a payroll sheet, not a form)
UNBRACKETED_FORM_SUFFIXES = ("申领表", "申请表", "申报表", "登记表", "调整表", "申请书", "承诺书")
FORM_VERBS = re.compile(r"^.*?(?:打印|填写|领取)")  # 「经办窗口填写承诺书」 names the form 承诺书

CJK = r"\u2460-\u2473\u2e80-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef“”‘’"
SPACE_NEAR_CJK = re.compile(rf"(?<=[{CJK}])[^\S\n]+|[^\S\n]+(?=[{CJK}])")
AUTOLINK = re.compile(r"<(https?://[^<>\s]+)>")
TAG = re.compile(r"<[^<>\n]{1,200}>")
URL = re.compile(r"https?://[^\s()<>\u4e00-\u9fff]+")
BULLET = re.compile(r"^-\s+")
CODE = re.compile(r"\((002036\d{6}(?:-\d+)?|0731-\d+)\)")
PART_HEADING = re.compile(rf"^第[{CN_NUMBER}]+部分")
PART_CODE = re.compile(r"\((002036\d{3}00Y)\)")
ITEM_HEADING = re.compile(rf"^(?:\*\*)?[{CN_NUMBER}]+、\s*(.+)$")
FIELD_HEADING = re.compile(rf"^\([{CN_NUMBER}]\)\s*({'|'.join((*FIELD_NAMES, *FIELD_ALIASES))})\s*[:：]?\s*(.*)$")
MARKER = re.compile(rf"^(?:\d+[.、．]|\(\d+\)|[\u2460-\u2473]|[{CN_NUMBER}]+、|备注|注[:：])")
CIRCLED = re.compile(r"(?=[\u2460-\u2473])")
CIRCLED_NUMBER = re.compile(r"^[\u2460-\u2473]")
TERMINAL = re.compile(r"[。;；:：,，!?！？]$")
OFFICE = re.compile(r"^\((\d+)\)([\u4e00-\u9fff]+?)[:：](.+)$")
PHONE_ONLY = re.compile(r"^\d{8}(?:/\d{8})*$")
PHONE_PAIR = re.compile(r"(市本级|[\u4e00-\u9fff]{2,3}?[区县市])(\d{8}(?:/\d{8})*)[,，。]?")
BARE_PHONE = re.compile(r"(?<![\d/])(\d{8})(?![\d/])[,，。]?")
LABELLED = re.compile(r"^([^:：,，;；。《》()\u2460-\u2473]{2,40})[:：](.*)$")
CONDITION_SUFFIX = re.compile(r"(?:还需提供|需提供|所需资料)$")
GROUP_EXTRA = re.compile(r"^(.+?)的[,，](?:应|需)提供(.+)$")
PARENTHESISED_EXTRA = re.compile(r"\(([^()]+?)需提供([^()]+)\)")
INLINE_NUMBERED = re.compile(r"(?<=[;；])(?=\d+[.、])")
TIME_VALUE = re.compile(r"^(.*?)((?:审核)?不超过.+|即时办结|即办办结|承诺办结)$")
BRACKETED_FORM = re.compile(r"《([^《》]+)》")
NOTE_LABEL = re.compile(r"^(?:注|说明|填表说明)[:：]\s*(.*)$")
POINT_NUMBER = re.compile(rf"^(?:\d+[.、]|[{CN_NUMBER}]+、)\s*")
INLINE_POINT = re.compile(r"(?<=[。;；])(?=\d+、)")
DOWNLOAD = re.compile(r"此表可到(https?://[^\s下]+)下载。?")
FORM_NUMBER = re.compile(rf"^(格式[{CN_NUMBER}]+|(?:参考)?样表\d+)$")
TITLE_SUFFIX = re.compile(r"(?:表|书|卡|医院|说明)$")
CONTINUED_TITLE = re.compile(r"^\([^()]+\)$")
TABLE_ROW_NUMBER = re.compile(r"^\(\d+\)")


def clean(raw: str) -> str:
    """A source line without markup, bullets and whitespace next to CJK text (URLs of autolinks are kept)."""
    text = TAG.sub(" ", AUTOLINK.sub(r"\1", raw)).replace("**", "")
    text = BULLET.sub("", text.strip())
    text = SPACE_NEAR_CJK.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def strip_ends(text: str) -> str:
    """A list entry without its number and its closing punctuation."""
    text = NUMBER_MARKER.sub("", CIRCLED_NUMBER.sub("", text.strip()))
    return re.sub(r"[;；。,，、]+$", "", text).strip()


@dataclass
class Line:
    number: int
    text: str
    raw: str

    @property
    def is_table(self) -> bool:
        return "\t" in self.raw


@dataclass
class Paragraph:
    text: str
    first: int
    last: int


def paragraphs(lines: list[Line]) -> list[Paragraph]:
    """Join hard-wrapped lines: a line opens a new paragraph after terminal punctuation or when it is numbered."""
    result: list[Paragraph] = []
    for line in lines:
        if not line.text:
            continue
        if result and not MARKER.match(line.text) and not TERMINAL.search(result[-1].text):
            result[-1] = Paragraph(result[-1].text + line.text, result[-1].first, line.number)
        else:
            result.append(Paragraph(line.text, line.number, line.number))
    return result


class Locator:
    """Line ranges (and evidence where the value is not literally in the lines) for the records of one document."""

    def __init__(self, source: SourceText):
        self.source = source

    def contains(self, first: int, last: int, needles: list[str]) -> bool:
        span = self.source.normalized_span(first, last)
        return all(normalize(needle) in span for needle in needles)

    def sourced(self, text: str, first: int, last: int, narrow: bool = True) -> dict[str, Any]:
        """`lines` of a value taken from lines first..last, narrowed to where it is, plus `evidence` if needed."""
        needles = [text]
        evidence = None
        if not self.contains(first, last, needles):
            evidence = self.fragments(text)
            needles = evidence
            if not evidence or not self.contains(first, last, needles):
                raise ValueError(f"{DOCUMENT}: {text!r} is not in lines {first}-{last}")
        while narrow and first < last and self.contains(first + 1, last, needles):
            first += 1
        while narrow and first < last and self.contains(first, last - 1, needles):
            last -= 1
        result: dict[str, Any] = {"lines": [first, last]}
        if evidence:
            result["evidence"] = evidence
        return result

    @staticmethod
    def fragments(text: str) -> list[str]:
        """The parts of a value around URLs and line breaks (normalisation drops autolinks with their URL)."""
        parts = [part.strip() for chunk in text.split("\n") for part in URL.split(chunk)]
        parts = [part for part in parts if len(normalize(part)) >= 3]
        longest = sorted(parts, key=len, reverse=True)[:4]
        return [part for part in parts if part in longest]


@dataclass
class ItemSpan:
    code_as_written: str
    name: str
    parent_code: str
    first: int
    heading_last: int
    last: int = 0


@dataclass
class Field:
    name: str
    heading: int
    lines: list[Line] = field(default_factory=list)

    @property
    def last(self) -> int:
        filled = [line.number for line in self.lines if line.text]
        return filled[-1] if filled else self.heading


def body_start(source: SourceText) -> int:
    """The first line after the table of contents, which repeats every heading: the last 「第一部分」 line."""
    return max(number for number in range(1, len(source) + 1) if source.line(number).startswith("第一部分"))


def next_filled(source: SourceText, number: int) -> int:
    number += 1
    while number <= len(source) and not source.line(number).strip():
        number += 1
    return number


def item_spans(source: SourceText) -> list[ItemSpan]:
    spans: list[ItemSpan] = []
    boundaries: list[int] = []
    part_code = None
    number = body_start(source)
    while number <= len(source):
        raw = source.line(number)
        if PART_HEADING.match(raw):
            boundaries.append(number)
            found = PART_CODE.search(raw) or PART_CODE.search(source.line(next_filled(source, number)))
            part_code = found.group(1) if found else None
        elif (heading := ITEM_HEADING.match(raw)) and "\t" not in raw:
            follower = next_filled(source, number)
            same_line = CODE.search(raw)
            code_line = number if same_line else follower
            found = same_line or (CODE.search(source.line(follower)) if follower <= len(source) else None)
            if found:
                boundaries.append(number)
                name_text = clean(heading.group(1) + ("" if same_line else source.line(follower)))
                name = clean(CODE.sub("", name_text))
                code = found.group(1)
                parent = part_code or LOCAL_PARENT_CODES[code]
                spans.append(ItemSpan(code, name, parent, number, code_line))
                number = code_line
        number += 1
    ends = boundaries[1:] + [len(source) + 1]
    for span in spans:
        end = next(boundary for boundary in ends if boundary > span.heading_last)
        span.last = max(n for n in range(span.heading_last, end) if source.line(n).strip())
    return spans


def split_fields(source: SourceText, span: ItemSpan) -> tuple[list[Field], list[Line]]:
    """The numbered fields of an item, and the tail after 评价渠道 (flowchart titles, forms, lists)."""
    fields: list[Field] = []
    tail: list[Line] = []
    for number in range(span.heading_last + 1, span.last + 1):
        raw = source.line(number)
        heading = FIELD_HEADING.match(clean(raw))
        if heading and not tail:
            name = FIELD_ALIASES.get(heading.group(1), heading.group(1))
            fields.append(Field(name, number, [Line(number, heading.group(2), raw)]))
        elif tail or (fields and fields[-1].name == "评价渠道" and not raw.strip()):
            tail.append(Line(number, clean(raw), raw))
        elif fields:
            fields[-1].lines.append(Line(number, clean(raw), raw))
    return fields, tail


@dataclass
class ItemBuilder:
    """Collects the records of one item."""

    locator: Locator
    span: ItemSpan
    sections: dict[str, Any] = field(default_factory=dict)
    process: list[dict[str, Any]] = field(default_factory=list)
    materials: list[dict[str, Any]] = field(default_factory=list)
    time_limits: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    named_forms: list[dict[str, Any]] = field(default_factory=list)
    attached_forms: list[dict[str, Any]] = field(default_factory=list)
    online_channels: list[dict[str, Any]] = field(default_factory=list)
    offices: list[dict[str, Any]] = field(default_factory=list)
    phones: list[dict[str, Any]] = field(default_factory=list)

    def text_record(self, text: str, first: int, last: int, **extra: Any) -> dict[str, Any]:
        return {"text": text, **extra, **self.locator.sourced(text, first, last)}

    def add_section(self, name: str, field_: Field, kept: list[Paragraph]) -> None:
        text = "\n".join(paragraph.text for paragraph in kept)
        if text:
            self.sections[name] = {"text": text, **self.locator.sourced(text, field_.heading, field_.last, False)}

    def add_phone(self, unit: str | None, number: str, kind: str, first: int, last: int) -> None:
        self.phones.append(phone_record(unit, number, kind, [first, last]))

    def add_channels(self, paragraph: Paragraph) -> None:
        for name, pattern in CHANNEL_PATTERNS:
            for found in pattern.finditer(paragraph.text):
                self.add_channel(name, found.group(0), paragraph.first, paragraph.last)

    def add_channel(self, name: str, text: str, first: int, last: int) -> None:
        if any(channel["name"] == name for channel in self.online_channels):
            return
        self.online_channels.append({"name": name, **self.text_record(text, first, last)})

    def add_download(self, found: re.Match[str], first: int, last: int) -> None:
        """「此表可到 <http://www.changsha.gov.cn/> 下载」: the website, named by its host."""
        host = re.sub(r"^https?://", "", found.group(1)).strip("/")
        self.add_channel(host, found.group(0).rstrip("。"), first, last)

    def item(self) -> dict[str, Any]:
        code = self.span.code_as_written
        local = code if "-" in code else None
        return item_record(
            key=code, code=None if code.startswith("0731") else catalogue_code(code), parent_code=self.span.parent_code,
            name=self.span.name, lines=[self.span.first, self.span.last], local_code=local, sections=self.sections,
            process=self.process, materials=self.materials, time_limits=self.time_limits, notes=self.notes,
            forms=merge_forms(self.named_forms, self.attached_forms), online_channels=self.online_channels,
            offices=self.offices, phones=self.phones,
        )


def phone_pairs(builder: ItemBuilder, line: Line, kind: str) -> str:
    """Record the 「单位 号码」 pairs (or a bare number) of a line; return what is left of the line."""
    pairs = list(PHONE_PAIR.finditer(line.text))
    for pair in pairs:
        for number in pair.group(2).split("/"):
            builder.add_phone(pair.group(1), number, kind, line.number, line.number)
    rest = PHONE_PAIR.sub("", line.text)
    if not pairs and kind == "监督":
        for bare in BARE_PHONE.finditer(line.text):
            builder.add_phone(None, bare.group(1), kind, line.number, line.number)
        return line.text
    return rest.strip()


def parse_channels_field(builder: ItemBuilder, field_: Field) -> None:
    """办理渠道: offices (with an optional second address line and phone line), phone lists, online channels."""
    kept: list[Line] = []
    office_lines: list[int] = []
    unit = None
    for line in field_.lines:
        if not line.text:
            continue
        office = OFFICE.match(line.text)
        if office:
            unit, office_lines = office.group(2), [line.number]
            builder.offices.append({"unit": unit, "address": office.group(3),
                                    "lines": [line.number, line.number]})
        elif unit and PHONE_ONLY.match(line.text):
            for number in line.text.split("/"):
                builder.add_phone(unit, number, "办理", office_lines[0], line.number)
            unit = None
        elif unit and not MARKER.match(line.text):
            office_lines.append(line.number)
            builder.offices.append({"unit": unit, "address": line.text, "lines": [line.number, line.number]})
        else:
            unit = None
            rest = phone_pairs(builder, line, "办理")
            if rest:
                kept.append(Line(line.number, rest, line.raw))
    kept_paragraphs = paragraphs(kept)
    for paragraph in kept_paragraphs:
        builder.add_channels(paragraph)
    builder.add_section("办理渠道", field_, kept_paragraphs)


def parse_phone_field(builder: ItemBuilder, field_: Field, kind: str) -> None:
    """查询方式 / 监督电话: per-unit numbers become phones; the rest of the text is the section."""
    kept = []
    for line in field_.lines:
        if line.text:
            rest = phone_pairs(builder, line, kind)
            if rest:
                kept.append(Line(line.number, rest, line.raw))
    kept_paragraphs = paragraphs(kept)
    for paragraph in kept_paragraphs:
        builder.add_channels(paragraph)
    builder.add_section(field_.name, field_, kept_paragraphs)


def parse_process(builder: ItemBuilder, field_: Field) -> None:
    """办理流程: one record per numbered step; ①–④ sub-steps stay with their step."""
    steps: list[Paragraph] = []
    for paragraph in paragraphs(field_.lines):
        builder.add_channels(paragraph)
        if steps and not NUMBER_MARKER.match(paragraph.text):
            steps[-1] = Paragraph(f"{steps[-1].text}\n{paragraph.text}", steps[-1].first, paragraph.last)
        else:
            steps.append(paragraph)
    builder.process += [builder.text_record(step.text, step.first, step.last) for step in steps]
    builder.add_section("办理流程", field_, paragraphs(field_.lines))


def parse_time_limits(builder: ItemBuilder, field_: Field) -> None:
    """办理时限: 「在职职工不超过5个工作日;灵活就业人员即时办结」 becomes two records with conditions."""
    for paragraph in paragraphs(field_.lines):
        parts = [part for part in re.split(r"[;；]", paragraph.text) if strip_ends(part)]
        for part in parts:
            value = strip_ends(part)
            split = TIME_VALUE.match(value) if len(parts) > 1 else None
            condition = split.group(1) if split and split.group(1) else None
            text = split.group(2) if condition else value
            builder.time_limits.append(builder.text_record(text, paragraph.first, paragraph.last,
                                                           condition=condition))
    builder.add_section("办理时限", field_, paragraphs(field_.lines))


def condition_label(label: str) -> str:
    return re.sub(r"的$", "", CONDITION_SUFFIX.sub("", label.strip()))


def add_material(builder: ItemBuilder, text: str, condition: str | None, paragraph: Paragraph) -> None:
    """One material; 「(委托办理需提供…)」 inside it becomes a material of its own."""
    extra = PARENTHESISED_EXTRA.search(text)
    if extra:
        text = text.replace(extra.group(0), "")
    text = strip_ends(text)
    if text:
        builder.materials.append(builder.text_record(text, paragraph.first, paragraph.last, condition=condition))
        add_named_forms(builder, text, paragraph)
    if extra:
        add_material(builder, extra.group(2), condition_label(extra.group(1)), paragraph)


def circled_parts(text: str) -> list[str]:
    """The ①②③ parts of a text without their numbers and closing punctuation, empty ones left out."""
    return [part for part in map(strip_ends, CIRCLED.split(text)) if part]


def group_material(part: str) -> tuple[str, str] | None:
    """「委托办理的,应提供X」: X and the group of people it is for; None if the part names no group."""
    group = GROUP_EXTRA.match(part)
    return (group.group(2), condition_label(group.group(1))) if group else None


def add_material_parts(builder: ItemBuilder, text: str, condition: str | None, paragraph: Paragraph) -> None:
    """Materials of one paragraph: ①②③ or inline 「1.…;2.…」 parts, each possibly 「…的,需提供…」."""
    for numbered in INLINE_NUMBERED.split(text):
        for part in circled_parts(numbered):
            material, part_condition = group_material(part) or (part, condition)
            add_material(builder, material, part_condition, paragraph)


def add_remarks(builder: ItemBuilder, text: str, paragraph: Paragraph) -> None:
    """备注: extra materials of a group of people (「委托办理的,应提供…」) become materials, the rest notes."""
    for part in circled_parts(text):
        group = group_material(part)
        if group:
            add_material(builder, *group, paragraph)
        else:
            builder.notes.append(builder.text_record(part, paragraph.first, paragraph.last))


def parse_materials(builder: ItemBuilder, field_: Field) -> None:
    """办理材料: numbered materials, condition labels (「在职职工:」, 「统筹区转移:」 …) and 备注."""
    pending_condition = None
    for paragraph in paragraphs(field_.lines):
        text = NUMBER_MARKER.sub("", paragraph.text)
        labelled = LABELLED.match(text)
        if text.startswith("备注"):
            add_remarks(builder, re.sub(r"^备注[:：]?", "", text), paragraph)
        elif labelled and not strip_ends(labelled.group(2)):
            pending_condition = condition_label(labelled.group(1))
        elif labelled:
            add_material_parts(builder, labelled.group(2), condition_label(labelled.group(1)), paragraph)
            pending_condition = None
        else:
            if text != paragraph.text:
                pending_condition = None
            add_material_parts(builder, text, pending_condition, paragraph)
    builder.add_section("办理材料", field_, paragraphs(field_.lines))


def add_named_forms(builder: ItemBuilder, text: str, paragraph: Paragraph) -> None:
    """Forms a material names: 《…表》 titles, and unbracketed 「…申领表」 「…申请书」 entries."""
    names = [name for name in BRACKETED_FORM.findall(text) if name.endswith(FORM_SUFFIXES)]
    for segment in re.split(r"[、,，;；]", BRACKETED_FORM.sub("", text)):
        segment = re.sub(r"\([^()]*\)$", "", segment.strip())
        if segment.endswith(UNBRACKETED_FORM_SUFFIXES) and "(" not in segment:
            names.append(FORM_VERBS.sub("", segment))
    for name in names:
        if not any(form["name"] == name for form in builder.named_forms):
            builder.named_forms.append(form_record(name, **builder.locator.sourced(name, paragraph.first,
                                                                                   paragraph.last)))


def form_aliases(name: str) -> set[str]:
    """「生育津贴(一次性生育补助金)申领表」 also names 「生育津贴申领表」 and 「一次性生育补助金申领表」."""
    aliases = {name, re.sub(r"\([^()]*\)", "", name)}
    inner = re.match(r"^(.*?)\(([^()]+)\)(.*)$", name)
    if inner:
        aliases.add(inner.group(2) + inner.group(3))
    return aliases


def same_form(named: str, attached: str) -> bool:
    """Whether a form named in the materials is the printed one (「湖南省X表」 is the printed 「X表」)."""
    named_aliases, attached_aliases = form_aliases(named), form_aliases(attached)
    if named_aliases & attached_aliases:
        return True
    return any(a.endswith(b) or b.endswith(a)
               for a in named_aliases for b in attached_aliases if min(len(a), len(b)) >= 5)


def merge_forms(named: list[dict[str, Any]], attached: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Named forms in the order of the materials, each replaced by its printed template if the item has one."""
    result: list[dict[str, Any]] = []
    for form in named:
        printed = next((other for other in attached if same_form(form["name"], other["name"])), None)
        chosen = printed or form
        if chosen not in result:
            result.append(chosen)
    return result + [form for form in attached if form not in result]


def form_blocks(tail: list[Line]) -> Iterator[tuple[str, str | None, int, int, list[Line]]]:
    """(title, number, first, last, body lines) of each printed form or list; flowchart titles are skipped."""
    filled = [line for line in tail if line.text]
    title_indexes = []
    for index, line in enumerate(filled):
        after_number = index > 0 and FORM_NUMBER.match(filled[index - 1].text) is not None
        title_like = (not line.is_table and not re.search(r"[:：]", line.text)
                      and not re.match(r"^(?:\d|注|说明|填表说明|\()", line.text) and len(line.text) <= 40)
        if title_like and (TITLE_SUFFIX.search(line.text) or after_number):
            title_indexes.append(index)
    for position, index in enumerate(title_indexes):
        end = title_indexes[position + 1] if position + 1 < len(title_indexes) else len(filled)
        body = filled[index + 1:end]
        title, first, last = filled[index].text, filled[index].number, filled[index].number
        if body and CONTINUED_TITLE.match(body[0].text) and not body[0].is_table:
            title, last, body = title + body[0].text, body[0].number, body[1:]
        number = None
        if index > 0 and FORM_NUMBER.match(filled[index - 1].text):
            number, first = filled[index - 1].text, filled[index - 1].number
        if body and FORM_NUMBER.match(body[-1].text):
            body = body[:-1]
        yield title, number, first, last, body


def table_cells(line: Line) -> list[str]:
    return [clean(cell) for cell in line.raw.split("\t")]


@dataclass
class ListEntry:
    number: int
    line: int
    name: str = ""
    remarks: list[str] = field(default_factory=list)


def hospital_notes(body: list[Line]) -> list[dict[str, Any]]:
    """A hospital list, one note per hospital in 序号 order: 「name」 or 「name（remark）」.

    A row holds one or two 「序号, name[, remark]」 groups (the 特药 list has two hospitals per row).
    """
    entries: list[ListEntry] = []
    for line in body:
        if not line.is_table or line.text.startswith("序号"):
            continue
        current = None
        for cell in table_cells(line):
            if cell.isdigit():
                current = ListEntry(int(cell), line.number)
                entries.append(current)
            elif current and cell and not current.name:
                current.name = cell
            elif current and cell:
                current.remarks.append(cell)
    notes = []
    for entry in sorted(entries, key=lambda entry: entry.number):
        if entry.remarks:
            notes.append({"text": f"{entry.name}（{'；'.join(entry.remarks)}）", "lines": [entry.line, entry.line],
                          "evidence": [entry.name, *entry.remarks]})
        else:
            notes.append({"text": entry.name, "lines": [entry.line, entry.line]})
    return notes


def note_points(builder: ItemBuilder, body: list[Line]) -> list[dict[str, Any]]:
    """The 注 / 说明 / 填表说明 points printed on a form, one note per numbered point; download hints → channels."""
    notes: list[dict[str, Any]] = []
    rows = [line for line in body if line.is_table and TABLE_ROW_NUMBER.match(table_cells(line)[0])]
    if rows:
        listing = "\n".join(table_cells(line)[0] for line in rows)
        notes.append(builder.text_record(listing, rows[0].number, rows[-1].number))
    region: list[Line] = []
    for line in body:
        label = NOTE_LABEL.match(line.text)
        if label:
            region = [Line(line.number, label.group(1), line.raw)]
        elif region and not line.is_table and TERMINAL.search(line.text) and not re.search(r"[:：]$", line.text):
            region.append(line)
        elif region:
            break
    for paragraph in paragraphs(region):
        for point in INLINE_POINT.split(paragraph.text):
            download = DOWNLOAD.search(point)
            if download:
                builder.add_download(download, paragraph.first, paragraph.last)
                point = point.replace(download.group(0), "")
            point = re.sub(r"[;；,，]$", "", POINT_NUMBER.sub("", point).strip())
            if point:
                notes.append(builder.text_record(point, paragraph.first, paragraph.last))
    return notes


def parse_tail(builder: ItemBuilder, tail: list[Line]) -> None:
    """Printed forms and hospital lists after the flowchart title, with their notes; 「此表可到…下载」 hints."""
    for title, number, first, last, body in form_blocks(tail):
        notes = hospital_notes(body) if title.endswith("医院") else []
        notes += note_points(builder, body)
        builder.attached_forms.append(form_record(title, number=number, attached=True, notes=notes,
                                                  **builder.locator.sourced(title, first, last, False)))
        for line in body:
            download = DOWNLOAD.search(line.text)
            if download and not NOTE_LABEL.match(line.text):
                builder.add_download(download, line.number, line.number)


def parse_item(locator: Locator, span: ItemSpan) -> dict[str, Any]:
    builder = ItemBuilder(locator, span)
    fields, tail = split_fields(locator.source, span)
    for field_ in fields:
        if field_.name == "办理渠道":
            parse_channels_field(builder, field_)
        elif field_.name == "查询方式":
            parse_phone_field(builder, field_, "查询")
        elif field_.name == "监督电话":
            parse_phone_field(builder, field_, "监督")
        elif field_.name == "办理流程":
            parse_process(builder, field_)
        elif field_.name == "办理材料":
            parse_materials(builder, field_)
        elif field_.name == "办理时限":
            parse_time_limits(builder, field_)
        else:
            builder.add_section(field_.name, field_, paragraphs(field_.lines))
    parse_tail(builder, tail)
    return builder.item()


def parse() -> dict[str, Any]:
    source = source_of(DOCUMENT)
    locator = Locator(source)
    return {"document": DOCUMENT, "items": [parse_item(locator, span) for span in item_spans(source)]}
