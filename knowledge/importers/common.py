"""What the importers share: the records of a document file (SCHEMA.md), text that keeps the source line of each
of its characters (Span) and the record made of it, and the wording common to the guides (field names, numbering,
remarks, forms, the words that ask for a material)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from knowledge.manifest import documents
from knowledge.text import SourceText, load_source, normalize

CN_NUMBER = "一二三四五六七八九十"
# The ten fields of a city guide's item, in order (湖北 names the eighth 咨询方式).
FIELD_NAMES = ("事项名称", "受理单位", "服务对象", "办理渠道", "办理流程", "办理材料", "办理时限", "查询方式",
               "监督电话", "评价渠道")
LIST_FIELD_NAMES = ("办理流程", "办理材料", "办理时限")  # read into records, one per step, material or time limit
SECTION_FIELDS = tuple(name for name in FIELD_NAMES if name not in LIST_FIELD_NAMES)
PART_LABEL = re.compile(rf"^第[{CN_NUMBER}]+部分[：:]$")
MAIN_CODE_LINE = re.compile(r"^（(002036\d{3}00Y)）$")  # a part's 主项 code on a line of its own
NUMBER_MARKER = re.compile(r"^\d+[.、．]\s*")
CIRCLED = re.compile(r"[①-⑳]")
REMARK = re.compile(r"^备注[：:]\s*")
NAMED_FORM = re.compile(r"《(?P<name>[^《》]+)》")
PERSONAL_PLEDGE = "个人承诺书"  # named without 《》 in the materials
INTRO_ENDINGS = ("提供", "提交", "包括")  # a line ending so introduces the materials after it
MATERIAL_VERBS = ("提供", "提交", "上报", "填写")
SEPARATORS = "；;，,、 \t\n"
SPACE_NEAR_WIDE = re.compile(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+")
MAX_EVIDENCE = 4
ITEM_LISTS = ("process", "materials", "time_limits", "notes", "legal_basis", "forms", "online_channels", "offices",
              "phones")


def source_of(document: str) -> SourceText:
    """The source text of a document, read from the file the manifest names."""
    return load_source(documents()[document].file)


def clean_spaces(text: str) -> str:
    """The text without whitespace, except between two Latin letters or digits."""
    return re.sub(r"(?<![A-Za-z0-9])\s+|\s+(?![A-Za-z0-9])", "", text).strip()


def condition_of(text: str, patterns: Iterable[re.Pattern[str]]) -> str | None:
    """The group a material is for, when its text starts by naming one (「委托办理的，应提供…」)."""
    for pattern in patterns:
        match = pattern.match(text)
        if match:
            return clean_spaces(match.group("condition"))
    return None


def item_record(key: str, code: str | None, parent_code: str, name: str, lines: list[int],
                local_code: str | None = None, row: int | None = None, **content: Any) -> dict[str, Any]:
    """An item of a document file with every key in its place; `content` fills its sections and lists (the
    others stay empty)."""
    record: dict[str, Any] = {"key": key, "code": code, "parent_code": parent_code, "local_code": local_code,
                              "row": row, "name": name, "lines": lines, "sections": {},
                              **{list_name: [] for list_name in ITEM_LISTS}}
    unknown = set(content) - set(record)
    if unknown:
        raise ValueError(f"item {key}: unknown fields {sorted(unknown)}")
    record.update(content)
    return record


def form_record(name: str, lines: list[int], number: str | None = None, attached: bool = False,
                notes: list[dict[str, Any]] | None = None, evidence: list[str] | None = None) -> dict[str, Any]:
    """A form of an item: one its text names (no number, not attached), or one printed with it and its notes."""
    record: dict[str, Any] = {"name": name, "number": number, "attached": attached, "lines": lines}
    if evidence:
        record["evidence"] = evidence
    record["notes"] = [] if notes is None else notes
    return record


def phone_record(unit: str | None, number: str, kind: str, lines: list[int], qualifier: str | None = None,
                 hospital: str | None = None) -> dict[str, Any]:
    return {"unit": unit, "number": number, "kind": kind, "qualifier": qualifier, "hospital": hospital,
            "lines": lines}


def located(source: SourceText, text: str, first: int, last: int, evidence: list[str]) -> dict[str, Any]:
    """A record of a text said in lines first..last; where it is not literally there, the `evidence` pieces (each
    of which is) go with it; ValueError if neither is."""
    record: dict[str, Any] = {"text": text, "lines": [first, last]}
    span = source.normalized_span(first, last)
    if normalize(text) not in span:
        if not evidence or any(normalize(piece) not in span for piece in evidence):
            raise ValueError(f"{source.path.name}: {text!r} not found in lines {first}-{last}")
        record["evidence"] = evidence
    return record


@dataclass(frozen=True)
class Span:
    """Text taken from a document with the source line of each character, so that any cut knows its lines."""

    text: str
    line_numbers: tuple[int, ...]

    @classmethod
    def join(cls, pieces: Iterable[tuple[int, str]], separator: str = "") -> Span:
        """The pieces (line number, text) joined by the separator, which counts as part of the line after it."""
        text, numbers = "", []
        for index, (number, piece) in enumerate(pieces):
            piece = piece if index == 0 else separator + piece
            text += piece
            numbers += [number] * len(piece)
        return cls(text, tuple(numbers))

    def __add__(self, other: Span) -> Span:
        return Span(self.text + other.text, self.line_numbers + other.line_numbers)

    def cut(self, start: int, end: int | None = None) -> Span:
        return Span(self.text[start:end], self.line_numbers[start:end])

    def strip(self, chars: str | None = None) -> Span:
        left = len(self.text) - len(self.text.lstrip(chars))
        return self.cut(left, max(left, len(self.text.rstrip(chars))))

    def after(self, match: re.Match[str] | None) -> Span:
        return self.cut(match.end()) if match else self

    def split(self, pattern: re.Pattern[str], chars: str) -> list[Span]:
        """The pieces between the matches of the pattern (the matches dropped), stripped of `chars`, empty ones
        left out."""
        bounds = [0]
        for match in pattern.finditer(self.text):
            bounds += [match.start(), match.end()]
        bounds.append(len(self.text))
        pieces = [self.cut(start, end).strip(chars) for start, end in zip(bounds[::2], bounds[1::2])]
        return [piece for piece in pieces if piece.text]

    def split_before(self, pattern: re.Pattern[str]) -> list[Span]:
        """The pieces of the span cut at the start of every match of the pattern (the first piece may be empty)."""
        starts = [0] + [match.start() for match in pattern.finditer(self.text) if match.start() > 0] + [len(self.text)]
        return [self.cut(start, end) for start, end in zip(starts, starts[1:])]

    def pieces_by_line(self) -> list[Span]:
        """The span cut wherever the source line changes."""
        starts = [0] + [index for index in range(1, len(self.text))
                        if self.line_numbers[index] != self.line_numbers[index - 1]] + [len(self.text)]
        return [self.cut(start, end) for start, end in zip(starts, starts[1:])]

    @property
    def lines(self) -> list[int]:
        return [self.line_numbers[0], self.line_numbers[-1]]

    @property
    def clean(self) -> str:
        """The text as written, without line breaks and without whitespace next to Chinese characters."""
        return SPACE_NEAR_WIDE.sub("", self.text).strip()


def sourced(span: Span, source: SourceText, text: str | None = None, **extra: Any) -> dict[str, Any]:
    """A record of the span's text (or of `text`, the span's text as it is to be kept) and lines, with evidence
    (the span's text line by line) where the text is not one piece of those lines."""
    record: dict[str, Any] = {"text": span.text if text is None else text, **extra, "lines": span.lines}
    if normalize(record["text"]) not in source.normalized_span(*span.lines):
        record["evidence"] = [piece.clean for piece in span.pieces_by_line() if piece.clean][:MAX_EVIDENCE]
    return record
