"""Turning a knowledge-base guide into short, structured Chinese replies that fit one WeChat message."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from actions.understanding import WORDS, situations_in
from knowledge.bot_texts import say, section_texts
from knowledge.codes import same_family
from knowledge.manifest import documents, provincial_list
from knowledge.query import (CONSULT_PHONE_KINDS, HOSPITAL_PHONE_KIND, SUPERVISION_PHONE_KIND, Conflict, Fact, Guide,
                             GuideEntry, KnowledgeBase, Region)
from knowledge.text import normalize
from knowledge.words import sentence_kind

ASPECT_TITLES = section_texts("aspect")
# Which recorded conflicts matter for which asked aspect.
CONFLICT_ASPECTS = {
    "materials": {"materials", "form", "name", "existence"}, "form": {"form", "materials", "name"},
    "time_limit": {"time_limit", "name", "existence"}, "office": {"office"}, "process": {"process", "existence"},
    "eligibility": {"eligibility", "existence", "name"}, "overview": {"time_limit", "name", "existence"},
}
SENTENCE_WORDS = WORDS.item_sentences  # words.yml's words for reading an item's own sentences
# Words that describe the person rather than the question: they must not pick a note.
PERSON_TEXT = "".join(SENTENCE_WORDS.person_text)
STOP_BIGRAMS = SENTENCE_WORDS.filler_bigrams
# What a sentence of an item says (knowledge/data/words.yml item_sentences.sentence_kinds).
DEADLINE = sentence_kind("deadline")
APPLY_WITHIN = sentence_kind("apply_within")
COVER_START = sentence_kind("cover_start")
CONDITION = sentence_kind("condition")
WHERE_TO_APPLY = sentence_kind("where_to_apply")
APPLIED_ELSEWHERE = sentence_kind("applied_elsewhere")
WHERE_TO_GET = sentence_kind("where_to_get")
FORM_ASKS = sentence_kind("form_asks")
QUANTITY = sentence_kind("quantity")
MATERIALS_SHOWN = 8
CONDITIONS_SHOWN = 3
# The item whose gaps and channels a hand-off cites when the conversation names no item.
GENERAL_ITEM = "002036001001"
STEP_CHARACTERS = 60


@dataclass
class Reply:
    text: str
    buttons: list[str] = field(default_factory=list)


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def fit(lines: list[str], limit: int) -> str:
    """Join lines, dropping from the end (with a note) until the text fits `limit` bytes."""
    text = "\n".join(lines)
    if utf8_len(text) <= limit:
        return text
    note = say("answer.cut")
    kept: list[str] = []
    for line in lines:
        if utf8_len("\n".join(kept + [line, note])) > limit:
            break
        kept.append(line)
    return "\n".join(kept + [note])


def _shorten(text: str, characters: int) -> str:
    return text if len(text) <= characters else text[: characters - 1] + "…"


def _condition(fact: Fact) -> str:
    return f"（{fact.condition}）" if fact.condition else ""


def _phone_line(phone: Fact) -> str:
    owner = phone.extra.get("hospital") or phone.extra.get("unit") or ""
    qualifier = f"（{phone.extra['qualifier']}）" if phone.extra.get("qualifier") else ""
    return f"{owner}：{phone.text}{qualifier}" if owner else f"{phone.text}{qualifier}"


def _online(text: str) -> bool:
    """A channel's text names an online way (线上, 网上)."""
    return any(mark in text for mark in SENTENCE_WORDS.online_marks)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _hint_words(normalized: str) -> list[str]:
    """The document words a question's colloquial words imply (没评上 → 未经认定)."""
    return [extra for hint, extra in SENTENCE_WORDS.question_hints.items() if hint in normalized]


def _hinted(words: str) -> str:
    """The question's words and the document words its colloquial words imply."""
    normalized = normalize(words).lower()
    return " ".join([normalized, *_hint_words(normalized)])


def _condition_applies(condition: str, person_type: str | None, words: str) -> bool:
    """A material's condition matches the person or the situation the user described, by a situation's key or
    by two of its character pairs the question (with its hints) has too, not counting the person words (职工医保 in
    the question does not make 港澳台人员参加在职职工医保 the user's case)."""
    if person_type and person_type in condition:
        return True
    shared = _bigrams(normalize(condition)) & {gram for word in _hinted(words).split() for gram in _bigrams(word)} - \
        _bigrams(PERSON_TEXT)
    return any(key in condition for key in situations_in(words)) or len(shared - STOP_BIGRAMS) >= 2


class Composer:
    """Renders the aspects asked about one item for one region."""

    def __init__(self, kb: KnowledgeBase, limit: int):
        self.kb = kb
        self.limit = limit

    # One aspect of one entry ----------------------------------------------------------------------

    def materials(self, entry: GuideEntry, person_type: str | None, full: bool, words: str = "") -> list[str]:
        if not entry.materials:
            return [say("answer.materials_none")]
        general = [m for m in entry.materials if not m.condition]
        conditional = sorted((m for m in entry.materials if m.condition),
                             key=lambda m: not _condition_applies(m.condition or "", person_type, words))
        ordered = general + conditional
        relevant = [m for m in conditional if _condition_applies(m.condition or "", person_type, words)]
        shown = ordered if full else ordered[: max(MATERIALS_SHOWN, len(general) + len(relevant))]
        lines = [say("answer.materials")] + [f"{i}. {m.text}{_condition(m)}" for i, m in enumerate(shown, 1)]
        lines += self.what_forms_ask(entry, shown, person_type, words) + self.material_notes(entry, shown)
        if len(shown) < len(ordered):
            lines.append(say("answer.materials_more", count=len(ordered) - len(shown)))
        return lines

    def what_forms_ask(self, entry: GuideEntry, shown: list[Fact], person_type: str | None, words: str) -> list[str]:
        """What a form among the materials, printed in the document, says must come with it (需提供资料：…), for
        forms that fit the user's case: of each, the note the question's words point to most."""
        grams = set(self.question_grams(entry, words))
        lines = []
        for form in entry.forms:
            material = next((m for m in shown if form.text in m.text), None)
            if material is None or (material.condition and
                                    not _condition_applies(material.condition, person_type, words)):
                continue
            notes = [n.text for n in form.extra.get("notes", []) if FORM_ASKS.search(n.text)]
            if notes:
                best = max(notes, key=lambda text: len(_bigrams(normalize(text)) & grams))
                lines.append(say("answer.form_asks", form=form.text, text=_shorten(best, 120)))
        return _unique(lines)[:2]

    @staticmethod
    def material_notes(entry: GuideEntry, shown: list[Fact]) -> list[str]:
        """The item's notes that say more about a material listed (病历资料中…只需要出院记录)."""
        names = {name for m in shown if len(name := re.split(r"[（(]", m.text)[0]) >= 4}
        return [say("answer.note", text=_shorten(n.text, 120)) for n in entry.notes
                if any(name in n.text for name in names)][:2]

    def office(self, entry: GuideEntry, region: Region) -> list[str]:
        lines = [line for line in self.how_to_apply(entry) if APPLIED_ELSEWHERE.search(line)]
        for office in entry.offices or self._city_offices(entry, region):
            lines.append(say("answer.office", unit=office.extra["unit"], address=office.text))
        if not entry.offices and lines:
            lines.append(say("answer.office_of_city", citation=entry.document.citation, region=region.name))
        channel = entry.section("channel")
        if channel and (not entry.offices or _online(channel.text)):
            lines.append(say("answer.channel", text=_shorten(channel.text, 160)))
        accepting = entry.section("accepting_unit")
        if accepting and not entry.offices:
            lines.append(say("answer.accepting_unit", text=_shorten(accepting.text, 100)))
        if not entry.offices:
            lines += [say("answer.note", text=text) for text in _unique([n.text for n in entry.notes])
                      if WHERE_TO_APPLY.search(text)]
        if not lines:
            lines.append(say("answer.office_none"))
        if entry.offices and region.level == "city" and entry.document.county_offices:
            lines.append(say("answer.offices_of_counties"))
        return lines

    def _city_offices(self, entry: GuideEntry, region: Region) -> list[Fact]:
        """The city's own office for an item whose county office the document does not list."""
        if region.level != "county":
            return []
        city = self.kb.region(region.id.rsplit("/", 1)[0])
        guide = self.kb.guide(entry.local_code or entry.code or entry.key, city)
        return [office for e in guide.entries if e.key == entry.key for office in e.offices]

    def phones(self, entry: GuideEntry, kinds: tuple[str, ...]) -> list[str]:
        return [_phone_line(p) for p in entry.phones if p.extra["kind"] in kinds]

    def phone(self, entry: GuideEntry, person_type: str | None = None) -> list[str]:
        phones = [p for p in entry.phones if p.extra["kind"] in CONSULT_PHONE_KINDS]
        if person_type and any(p.extra.get("qualifier") == person_type for p in phones):
            phones = [p for p in phones if p.extra.get("qualifier") in (person_type, None)]
        query = _unique([_phone_line(p) for p in phones])
        hospitals = _unique(self.phones(entry, (HOSPITAL_PHONE_KIND,)))
        lines = [say("answer.consult_phones", phones="；".join(query))] if query else []
        if hospitals:
            lines.append(say("answer.hospital_phones", phones="；".join(hospitals)))
        return lines

    def supervision(self, entry: GuideEntry) -> list[str]:
        numbers = _unique(self.phones(entry, (SUPERVISION_PHONE_KIND,)))
        return [say("answer.supervision_phones", phones="；".join(numbers))] if numbers else []

    def time_limit(self, entry: GuideEntry) -> list[str]:
        limits = "；".join(f"{t.text}{_condition(t)}" for t in entry.time_limits) or say("answer.time_limit_none")
        lines = [say("answer.time_limit", limits=limits)]
        deadlines = [f.text for f in entry.process + entry.notes if DEADLINE.search(f.text)]
        lines += [say("answer.caution", text=_shorten(text, 90)) for text in deadlines[:2]]
        return lines

    def deadline(self, entry: GuideEntry, words: str) -> list[str]:
        """How long one has to apply: the item's own words on it (急诊后三个工作日内), never its processing time."""
        form_notes = [note for form in entry.forms for note in form.extra.get("notes", [])]
        texts = [f.text for f in entry.process + entry.notes + form_notes
                 if DEADLINE.search(f.text) or APPLY_WITHIN.search(f.text)]
        if texts:
            return [say("answer.deadline", text=_shorten(text, 120)) for text in _unique(texts)[:2]]
        return [say("answer.deadline_none", citation=entry.document.citation)] + \
            self._said_elsewhere(entry, words, DEADLINE)

    def cover_start(self, entry: GuideEntry, words: str) -> list[str]:
        """When the cover or benefit starts (waiting periods): the item's own words on it, or that it says nothing."""
        texts = [n.text for n in entry.notes + [n for f in entry.forms for n in f.extra.get("notes", [])]
                 if COVER_START.search(n.text)]
        if texts:
            return [say("answer.cover_start", text=_shorten(text, 150)) for text in _unique(texts)[:2]]
        return [say("answer.cover_start_none", citation=entry.document.citation)] + \
            self._said_elsewhere(entry, words, COVER_START)

    def _said_elsewhere(self, entry: GuideEntry, words: str, kind: re.Pattern[str]) -> list[str]:
        """The sentence of another item of the same document and the same 主项 that says what this item does not
        (衡阳's waiting periods are written under 职工参保登记, not 法定断档补缴), when the question's words point to it;
        never one of another family (生育津贴's deadline is not 减少登记's 20 days to report a death)."""
        if not words or not entry.code:
            return []
        found = [p for p in self.kb.passages(entry.document.id, self.question_grams(entry, words), limit=10)
                 if kind.search(p.text) and p.item_key != entry.key
                 and same_family(p.item_key, entry.code)]
        return [say("answer.said_elsewhere", item=found[0].item_name, text=_shorten(found[0].text, 150))] if found else []

    def process(self, entry: GuideEntry, whole_steps: bool, words: str) -> list[str]:
        """The steps of the process: each whole when the process is all that is asked, else their beginnings, but
        whole the steps the question's own words point to (材料没带齐会怎样 → the step that says 一次性告知)."""
        if entry.process:
            pointed = [passage.text for passage in self.kb.passages(
                entry.document.id, self.question_grams(entry, words), [entry.key], limit=2)] if words else []
            return [say("answer.process")] + [
                step.text if whole_steps or any(text.startswith(step.text) or step.text.startswith(text)
                                                for text in pointed) else _shorten(step.text, STEP_CHARACTERS)
                for step in entry.process]
        steps = entry.section("steps")
        if not steps:
            return [say("answer.process_none")]
        return [say("answer.steps", text=steps.text)] + [say("answer.note", text=_shorten(n.text, 150))
                                                         for n in entry.notes[:2]]

    def eligibility(self, entry: GuideEntry, person_type: str | None, words: str) -> list[str]:
        lines = self.served(entry)
        lines += self.persons_case(entry, person_type, words)
        lines += [say("answer.condition", text=_shorten(text, 150)) for text in self.conditions(entry, words)]
        accepting = entry.section("accepting_unit")
        if accepting:
            lines.append(say("answer.accepting_unit", text=_shorten(accepting.text, 100)))
        lines += [say("answer.note", text=_shorten(n.text, 120)) for n in entry.notes[:2] if not CONDITION.search(n.text)]
        lines += self.how_to_apply(entry)
        lines += self.materials(entry, person_type, False, words)
        return lines

    def conditions(self, entry: GuideEntry, words: str) -> list[str]:
        """The conditions the item's own text sets (its notes, the notes and pledges of its forms, its sections
        on conditions): the sentences the question's words point to first; at most CONDITIONS_SHOWN."""
        pointed = self.kb.passages(entry.document.id, self.question_grams(entry, words), [entry.key], limit=6)
        # the sentence the question points to most comes first even without a condition word (失业人员领取失业金
        # 期间由失业保险缴纳医疗保险), then those that set a condition
        first = [pointed[0].text] if pointed else []
        asked = _unique(first + [p.text for p in pointed if CONDITION.search(p.text)])
        texts = [n.text for n in entry.notes] + [n.text for f in entry.forms for n in f.extra.get("notes", [])] + \
            [s.text for s in entry.condition_sections()]
        found = [text for text in texts if CONDITION.search(text) and not any(a in text for a in asked)]
        # a quantity the user states (怀孕16周, 交了23年) is measured against the sentences with the same unit
        units = {unit for _, unit in QUANTITY.findall(normalize(words))}
        measured: list[str] = []
        for text in _unique([p.text for p in pointed] + texts):  # a sentence, not again the note it stands in
            if units & {unit for _, unit in QUANTITY.findall(text)} and not any(m in text for m in measured):
                measured.append(text)
        return _unique(measured + asked + found)[:CONDITIONS_SHOWN]

    @staticmethod
    def persons_case(entry: GuideEntry, person_type: str | None, words: str) -> list[str]:
        """What the item asks of the person or situation the user described: the materials and time limits
        written for that case (灵活就业人员: 有效身份证件 …, 即时办结)."""
        materials = [m.text for m in entry.materials if m.condition and _condition_applies(m.condition, person_type, words)]
        limits = [t.text for t in entry.time_limits if t.condition and _condition_applies(t.condition, person_type, words)]
        cases = _unique([c for f in entry.materials + entry.time_limits if f.condition and f.text in materials + limits
                         for c in [f.condition]])
        if not materials and not limits:
            return []
        lines = [say("answer.persons_case", cases="、".join(cases))]
        if materials:
            lines.append(say("answer.persons_materials", materials="；".join(_unique(materials))))
        if limits:
            lines.append(say("answer.time_limit", limits="；".join(_unique(limits))))
        return lines

    def online(self, entry: GuideEntry) -> list[str]:
        channels = _unique([c.text for c in entry.online_channels])
        if channels:
            return [say("answer.online", channels="；".join(channels))]
        channel = entry.section("channel")
        accepting = entry.section("accepting_unit")
        if channel and _online(channel.text):
            lines = [say("answer.channel", text=_shorten(channel.text, 200))]
            if accepting and not entry.offices:
                lines.append(say("answer.accepting_unit", text=_shorten(accepting.text, 100)))
            return lines
        return []

    def form(self, entry: GuideEntry, words: str = "") -> list[str]:
        asks_seal = any(word in words for word in SENTENCE_WORDS.seal_words)
        with_forms = [m for m in entry.materials if any(mark in m.text for mark in SENTENCE_WORDS.form_marks)
                      or (asks_seal and any(word in m.text for word in SENTENCE_WORDS.seal_words))]
        lines = [f"- {m.text}{_condition(m)}" for m in with_forms]
        named = " ".join(lines)
        for form in entry.forms:
            if form.text not in named:
                number = f"（{form.extra['number']}）" if form.extra.get("number") else ""
                lines.append(f"- 《{form.text}》{number}")
        if not lines:
            return [say("answer.forms_none")]
        return [say("answer.forms")] + lines + self.where_to_get_forms(entry)

    @staticmethod
    def where_to_get_forms(entry: GuideEntry) -> list[str]:
        """Where the item's forms are to be had: the item's own words on downloading or collecting them, and the
        forms whose template the document prints."""
        texts = [n.text for n in entry.notes] + [n.text for f in entry.forms for n in f.extra.get("notes", [])] + \
            [s.text for s in entry.sections.values()] + [c.text for c in entry.online_channels]
        lines = [say("answer.where_to_get_forms", text=_shorten(text, 120))
                 for text in _unique(texts) if WHERE_TO_GET.search(text)][:2]
        printed = [f"《{form.text}》{('（' + form.extra['number'] + '）') if form.extra.get('number') else ''}"
                   for form in entry.forms if form.extra.get("attached")]
        if printed:
            lines.append(say("answer.forms_printed", citation=entry.document.citation, forms="、".join(printed[:3])))
        return lines

    def legal_basis(self, entry: GuideEntry) -> list[str]:
        if entry.legal_basis:
            return [say("answer.legal_basis")] + [f"{i}. {f.text}" for i, f in enumerate(entry.legal_basis, 1)]
        return []

    # Putting it together ----------------------------------------------------------------------------

    def render(self, guide: Guide, entry: GuideEntry, aspects: list[str], person_type: str | None,
               full: bool, words: str) -> str:
        """The answer to `aspects` of one entry for the guide's region, ending with the sources it used."""
        region = guide.region
        header = say("answer.header", name=entry.name, region=region.label if region else guide.document.region)
        body: list[str] = []
        if guide.merged_note is not None:
            body.append(say("answer.merged", citation=guide.document.citation, name=entry.name,
                            text=_shorten(guide.merged_note.text, 60)))
        gaps: list[str] = []
        extra_sources: set[str] = set()
        if "conditions" in aspects and not {"materials", "form", "eligibility", "overview"} & set(aspects):
            aspects = [*aspects, "materials"]  # 能不能 comes with what to bring
        for aspect in _unique(aspects):
            whole = full or (aspect == "process" and len(_unique(aspects)) == 1)  # the steps asked alone: all of them
            lines = self._aspect(guide, entry, aspect, person_type, whole, words, extra_sources)
            if not lines or aspect == "amount":
                gaps += self._gap_lines(guide, entry, aspect)
            body += [line for line in _unique(lines) if line not in body]
        body += [line for line in _unique(gaps) if line not in body]
        related = [say("answer.related", text=_shorten(text, 150)) for text in self.related_notes(entry, words, body)]
        general = self.general_notes(guide, entry, aspects, words)
        notes = self._conflict_lines(self.kb.conflicts(entry.code or guide.code, guide.document.id), aspects)
        if notes or general:
            extra_sources.add(provincial_list().id)
        sources = [documents()[guide.document.id].citation] + [documents()[d].citation for d in sorted(extra_sources)
                                                                if d != guide.document.id]
        footer = say("answer.sources", citations="、".join(_unique(sources)))
        text = fit([header] + body + related + general + notes, self.limit - utf8_len(footer) - 1)
        return f"{text}\n{footer}"

    def render_several(self, guide: Guide, entries: list[GuideEntry], name: str, aspects: list[str],
                       person_type: str | None, words: str) -> str:
        """One answer for several entries the message may mean: what they share once, then what each says
        differently under its own name (no question when the whole answer fits)."""
        unlimited = Composer(self.kb, 1 << 20)
        rendered = [unlimited.render(guide, entry, aspects, person_type, False, words).split("\n") for entry in entries]
        bodies = [lines[1:-1] for lines in rendered]
        common = [line for line in bodies[0] if all(line in body for body in bodies[1:]) and not line.endswith("：")]
        region = guide.region.label if guide.region else guide.document.region
        lines = [say("answer.header", name=name, region=region),
                 say("answer.several", citation=guide.document.citation, count=len(entries))] + common
        for entry, body in zip(entries, bodies):
            lines.append(f"〔{entry.name}〕")
            lines += [line for line in body if line not in common] or [say("answer.same_as_above")]
        footer = rendered[0][-1]
        return f"{fit(lines, self.limit - utf8_len(footer) - 1)}\n{footer}"

    def question_grams(self, entry: GuideEntry, words: str) -> list[str]:
        """The character pairs of a question that can point to a sentence of the item: its own words (with the
        hints a word implies), without the item's name, the person words and the filler every question shares."""
        normalized = normalize(words).lower()
        ignore = _bigrams(normalize(entry.name)) | _bigrams(PERSON_TEXT) | STOP_BIGRAMS
        own = {gram for gram in _bigrams(normalized) if gram not in ignore}
        hinted = {gram for hint in _hint_words(normalized) for gram in _bigrams(hint)}  # hints count in full
        return sorted(own | hinted)

    def related_notes(self, entry: GuideEntry, words: str, already: list[str]) -> list[str]:
        """The sentences of the item's own text that the question's words point to (payment period, waiting
        period, students …), at most two, not already in the answer."""
        if not words:
            return []
        passages = self.kb.passages(entry.document.id, self.question_grams(entry, words), [entry.key], limit=6)
        return [p.text for p in passages if not any(p.text[:30] in line for line in already)][:2]

    def general_notes(self, guide: Guide, entry: GuideEntry, aspects: list[str], words: str) -> list[str]:
        """The Hunan 2025 list's notes that hold for every item (bank account, proxies) where they apply."""
        hunan = guide.region is not None and guide.region.province == provincial_list().region
        if not hunan or not set(aspects) & {"materials", "overview", "eligibility"}:
            return []
        own_words = " ".join(m.text for m in entry.materials + entry.notes)
        lines = []
        for note in self.kb.general_notes(provincial_list().id):
            proxy = SENTENCE_WORDS.proxy
            about_payment = guide.document.is_provincial_list and SENTENCE_WORDS.payment_note_word in note.text and any(
                word in entry.name for word in SENTENCE_WORDS.payment_words)
            about_proxy = proxy in note.text and proxy in situations_in(words) and proxy not in own_words
            if about_payment or about_proxy:
                lines.append(say("answer.hunan_note", text=_shorten(note.text, 120)))
        return lines

    def _aspect(self, guide: Guide, entry: GuideEntry, aspect: str, person_type: str | None, full: bool,
                words: str, extra_sources: set[str]) -> list[str]:
        if aspect == "materials":
            return self.materials(entry, person_type, full, words)
        if aspect == "office":
            return self.office(entry, guide.region)
        if aspect == "phone":
            return self.phone(entry, person_type)
        if aspect == "supervision":
            return self.supervision(entry)
        if aspect == "time_limit":
            return self.time_limit(entry)
        if aspect == "process":
            return self.process(entry, full, words)
        if aspect == "deadline":
            return self.deadline(entry, words)
        if aspect == "cover_start":
            return self.cover_start(entry, words)
        if aspect == "conditions":
            return self.served(entry) + \
                [say("answer.condition", text=_shorten(text, 150)) for text in self.conditions(entry, words)] + \
                self.persons_case(entry, person_type, words)
        if aspect == "eligibility":
            return self.eligibility(entry, person_type, words)
        if aspect == "online":
            return self.online(entry)
        if aspect == "form":
            return self.form(entry, words)
        if aspect == "legal_basis":
            own = self.legal_basis(entry)
            if own or guide.document.is_province_guide or not entry.code:
                return own
            provincial = self.kb.guide(entry.code, document=provincial_list().id)
            basis = _unique([f.text for e in provincial.entries for f in e.legal_basis])
            if not basis:
                return []
            extra_sources.add(provincial_list().id)
            return (self._gap_lines(guide, entry, "legal_basis") + [say("answer.hunan_legal_basis")]
                    + [f"{i}. {text}" for i, text in enumerate(basis, 1)])
        if aspect == "amount":
            return []
        return self.overview(guide, entry, person_type, words)

    @staticmethod
    def how_to_apply(entry: GuideEntry) -> list[str]:
        """The first step of the process: where and how the application is made."""
        return [say("answer.how_to_apply", text=_shorten(entry.process[0].text, 90))] if entry.process else []

    @staticmethod
    def served(entry: GuideEntry) -> list[str]:
        """Whom the item serves (服务对象), in the document's words."""
        who = entry.section("served")
        return [say("answer.served", text=_shorten(who.text, 200))] if who else []

    def overview(self, guide: Guide, entry: GuideEntry, person_type: str | None, words: str) -> list[str]:
        lines = self.how_to_apply(entry) + self.materials(entry, person_type, False, words)
        lines += self.time_limit(entry)
        lines += self.office(entry, guide.region)[:3]
        lines += self.online(entry)
        lines.append(say("answer.ask_more"))
        return lines

    def _gap_lines(self, guide: Guide, entry: GuideEntry, aspect: str) -> list[str]:
        wanted = {"phone": {"phone"}, "supervision": {"supervision", "phone"}, "office": {"office"},
                  "online": {"online"}, "amount": {"amount"}, "legal_basis": {"legal_basis"}}.get(aspect, {aspect})
        gaps = self.kb.gaps(entry.code or guide.code, guide.document.id)
        lines = [gap.statement for gap in gaps if wanted & set(gap.aspects)]
        if not lines:
            title = ASPECT_TITLES.get(aspect, aspect)
            lines.append(say("answer.not_written", citation=guide.document.citation, title=title))
        if aspect == "phone":  # the one number the item does give, said for what it is
            lines += [say("answer.only_supervision", line=line) for line in self.supervision(entry)]
        if aspect in ("phone", "supervision", "office", "amount"):
            lines += self._offers(guide, entry)
        return lines

    def _offers(self, guide: Guide, entry: GuideEntry) -> list[str]:
        offers = []
        channels = _unique([c.text for c in entry.online_channels])
        if channels:
            offers.append(say("answer.online_offer", channels="；".join(channels)))
        channel = entry.section("channel")
        if channel and not entry.offices:
            offers.append(say("answer.channel_offer", text=_shorten(channel.text, 120)))
        return offers

    @staticmethod
    def _conflict_lines(conflicts: list[Conflict], aspects: list[str]) -> list[str]:
        relevant = set().union(*(CONFLICT_ASPECTS.get(a, set()) for a in aspects)) if aspects else set()
        lines = []
        for conflict in conflicts:
            if conflict.aspect not in relevant:
                continue
            if conflict.hunan2025 is not None:
                lines.append(say("answer.hunan_differs", title=ASPECT_TITLES.get(conflict.aspect, ""),
                                 text=_shorten(conflict.hunan2025.text, 80)))
            elif conflict.note:
                lines.append(say("answer.conflict_note", text=_shorten(conflict.note, 120)))
            if len(lines) == 2:
                break
        return lines


def handoff_text(kb: KnowledgeBase, region: Region | None, item: str | None, limit: int) -> str:
    """The 咨询 and 监督 phones for the user's region (and item), or what the documents offer instead."""
    if region is None:
        return say("handoff.no_region")
    if not region.covered:
        return say("handoff.not_covered", place=region.name)
    if item:
        guide = kb.guide(item, region)
        query = [p.text + (f"（{p.extra['qualifier']}）" if p.extra.get("qualifier") else "")
                 for e in guide.entries for p in e.phones if p.extra["kind"] in CONSULT_PHONE_KINDS]
        supervision = [p.text for e in guide.entries for p in e.phones if p.extra["kind"] == SUPERVISION_PHONE_KIND]
    else:
        guide = kb.guide(GENERAL_ITEM, region)
        phones = kb.unit_phones(guide.document.id, region.unit) if region.unit else {}
        query = [number for kind in CONSULT_PHONE_KINDS for number in phones.get(kind, [])][:1]
        supervision = phones.get(SUPERVISION_PHONE_KIND, [])[:2]
    query, supervision = list(dict.fromkeys(query)), list(dict.fromkeys(supervision))
    lines = [say("handoff.intro", region=region.label)]
    if query:
        lines.append(say("answer.consult_phones", phones="；".join(query)) + ("" if item else say("handoff.phones_differ")))
    if supervision:
        lines.append(say("answer.supervision_phones", phones="；".join(supervision)))
    if not query and not supervision:
        lines += [gap.statement for gap in guide.gaps if {"phone", "supervision"} & set(gap.aspects)][:1]
        channels = list(dict.fromkeys(c.text for e in guide.entries for c in e.online_channels))
        if channels:
            lines.append(say("handoff.channels", channels="；".join(channels)))
    lines.append(say("answer.sources", citations=guide.document.citation))
    return fit(lines, limit)


def absent_item_statement(guide: Guide, name: str) -> str:
    """The serving document has no such item: the sentence that says so."""
    region = guide.region.label if guide.region else guide.document.region
    return say("answer.absent_item", citation=guide.document.citation, region=region, name=name)


def gap_reply_for_absent_item(guide: Guide, name: str) -> str:
    """The serving document has no such item, and nothing of it comes close."""
    return say("answer.absent_item_no_answer", statement=absent_item_statement(guide, name)[:-1])
