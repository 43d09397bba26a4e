"""Turning a knowledge-base guide into short, structured Chinese replies that fit one WeChat message."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.manifest import documents, provincial_list
from knowledge.query import Conflict, Fact, Guide, ItemGuide, KnowledgeBase, Region
from actions.understanding import WORDS, situations_in
from knowledge.text import normalize

ASPECT_TITLES = {
    "materials": "办理材料", "office": "办理地点", "phone": "咨询电话", "supervision": "监督电话",
    "time_limit": "办理时限", "process": "办理流程", "eligibility": "服务对象", "legal_basis": "设定依据",
    "online": "线上办理", "form": "表格", "amount": "金额标准", "conditions": "申请条件", "deadline": "申请期限",
    "cover_start": "待遇从何时开始",
}
# Which recorded conflicts matter for which asked aspect.
CONFLICT_ASPECTS = {
    "materials": {"materials", "form", "name", "existence"}, "form": {"form", "materials", "name"},
    "time_limit": {"time_limit", "name", "existence"}, "office": {"office"}, "process": {"process", "existence"},
    "eligibility": {"eligibility", "existence", "name"}, "overview": {"time_limit", "name", "existence"},
}
# Words that describe the person rather than the question: they must not pick a note.
PERSON_TEXT = "灵活就业人员职工居民退休人员参保人员单位在职"
STOP_BIGRAMS = {"请问", "怎么", "什么", "可以", "医保", "需要", "办理", "一下", "我想", "能不", "不能", "的时", "时候",
                "多少", "哪里", "要什", "要带", "这个", "那个"}
DEADLINE = re.compile(r"(\d+|[一二三四五六七八九十]+)个工作日内|日内|之日起|办理时间[:：]")
APPLY_WITHIN = re.compile(r"(\d+|[一二三四五六七八九十]+)个?(月|年|天|日|周)内|逾期|有效期")
COVER_START = re.compile(r"等待期|生效|次月|享受.{0,6}待遇|起享受|开始享受")
MATERIALS_SHOWN = 8
# Words that make a sentence of an item a condition (前一年内没有…处罚, 满…年, 须…).
CONDITION = re.compile(r"条件|承诺|符合|满足|不得|须|应当|应在|以上|以内|之内|不超过|累计|年限|周岁|孕周|周以上|方可|才能|仅限")
CONDITIONS_SHOWN = 3
# A note of an item that says where it is done (转出或转入地经办机构均可受理).
WHERE_TO_APPLY = re.compile(r"(均可|可在|可向|到|在).{0,12}(受理|办理)|经办机构.{0,4}受理")
# A first step that has the application made somewhere else than the 医保 office (户籍所在地乡镇人民政府、街道办事处).
APPLIED_ELSEWHERE = re.compile(r"乡镇|街道|社区|村（|医院|医疗机构|医药机构|学校|药店|用人单位")
WHERE_TO_GET = re.compile(r"下载|领取|索取|获取|http|www\.")
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
    note = "……（内容较长，已省略部分，可分项提问）"
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


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _hint_words(typed: str) -> list[str]:
    """The document words a question's colloquial words imply (没评上 → 未经认定)."""
    return [extra for hint, extra in WORDS.question_hints.items() if hint in typed]


def _hinted(words: str) -> str:
    """The question's words and the document words its colloquial words imply."""
    typed = normalize(words).lower()
    return " ".join([typed, *_hint_words(typed)])


def _condition_applies(condition: str, person_type: str | None, words: str) -> bool:
    """A material's condition matches the person or the situation the user described, by a situation's key or
    by two of its character pairs the question (with its hints) has too."""
    if person_type and person_type in condition:
        return True
    shared = _bigrams(normalize(condition)) & {gram for word in _hinted(words).split() for gram in _bigrams(word)}
    return any(key in condition for key in situations_in(words)) or len(shared - STOP_BIGRAMS) >= 2


class Composer:
    """Renders the aspects asked about one item for one region."""

    def __init__(self, kb: KnowledgeBase, limit: int):
        self.kb = kb
        self.limit = limit

    # One aspect of one entry ----------------------------------------------------------------------

    def materials(self, entry: ItemGuide, person_type: str | None, full: bool, words: str = "") -> list[str]:
        if not entry.materials:
            return ["办理材料：该文件此项未列具体材料。"]
        general = [m for m in entry.materials if not m.condition]
        conditional = sorted((m for m in entry.materials if m.condition),
                             key=lambda m: not _condition_applies(m.condition or "", person_type, words))
        ordered = general + conditional
        relevant = [m for m in conditional if _condition_applies(m.condition or "", person_type, words)]
        shown = ordered if full else ordered[: max(MATERIALS_SHOWN, len(general) + len(relevant))]
        lines = ["办理材料："] + [f"{i}. {m.text}{_condition(m)}" for i, m in enumerate(shown, 1)]
        if len(shown) < len(ordered):
            lines.append(f"另有{len(ordered) - len(shown)}项适用于特定情形的材料，回复“全部材料”查看完整清单。")
        return lines

    def office(self, entry: ItemGuide, region: Region) -> list[str]:
        lines = [line for line in self.how_to_apply(entry) if APPLIED_ELSEWHERE.search(line)]
        for office in entry.offices or self._city_offices(entry, region):
            lines.append(f"办理地点（{office.extra['unit']}）：{office.text}")
        if not entry.offices and lines:
            lines.append(f"（{entry.document.citation}此项未列{region.name}的办理地点，以上为市本级）")
        channel = entry.sections.get("办理渠道")
        if channel and (not entry.offices or "线上" in channel.text or "网上" in channel.text):
            lines.append(f"办理渠道：{_shorten(channel.text, 160)}")
        accepting = entry.sections.get("受理单位")
        if accepting and not entry.offices:
            lines.append(f"受理单位：{_shorten(accepting.text, 100)}")
        if not entry.offices:
            lines += [f"说明：{text}" for text in _unique([n.text for n in entry.notes]) if WHERE_TO_APPLY.search(text)]
        if not lines:
            lines.append("该文件此项未列办理地点。")
        if entry.offices and region.level == "city" and entry.document.county_offices:
            lines.append("（以上为市本级；各区县的地址可告诉我区县名查询）")
        return lines

    def _city_offices(self, entry: ItemGuide, region: Region) -> list[Fact]:
        """The city's own office for an item whose county office the document does not list."""
        if region.level != "county":
            return []
        city = self.kb.region(region.id.rsplit("/", 1)[0])
        guide = self.kb.guide(entry.local_code or entry.code or entry.key, city)
        return [office for e in guide.entries if e.key == entry.key for office in e.offices]

    def phones(self, entry: ItemGuide, kinds: tuple[str, ...]) -> list[str]:
        return [_phone_line(p) for p in entry.phones if p.extra["kind"] in kinds]

    def phone(self, entry: ItemGuide, person_type: str | None = None) -> list[str]:
        phones = [p for p in entry.phones if p.extra["kind"] in ("查询", "办理")]
        if person_type in ("职工", "居民") and any(p.extra.get("qualifier") == person_type for p in phones):
            phones = [p for p in phones if p.extra.get("qualifier") in (person_type, None)]
        query = _unique([_phone_line(p) for p in phones])
        hospitals = _unique(self.phones(entry, ("医院",)))
        lines = [f"咨询电话：{'；'.join(query)}"] if query else []
        if hospitals:
            lines.append("可受理的医院及电话：" + "；".join(hospitals))
        return lines

    def supervision(self, entry: ItemGuide) -> list[str]:
        numbers = _unique(self.phones(entry, ("监督",)))
        return [f"监督电话：{'；'.join(numbers)}"] if numbers else []

    def time_limit(self, entry: ItemGuide) -> list[str]:
        limits = "；".join(f"{t.text}{_condition(t)}" for t in entry.time_limits) or "该文件此项未写办理时限"
        lines = [f"办理时限：{limits}"]
        deadlines = [f.text for f in entry.process + entry.notes if DEADLINE.search(f.text)]
        lines += [f"注意：{_shorten(text, 90)}" for text in deadlines[:2]]
        return lines

    def deadline(self, entry: ItemGuide, words: str) -> list[str]:
        """How long one has to apply: the item's own words on it (急诊后三个工作日内), never its processing time."""
        form_notes = [note for form in entry.forms for note in form.extra.get("notes", [])]
        texts = [f.text for f in entry.process + entry.notes + form_notes
                 if DEADLINE.search(f.text) or APPLY_WITHIN.search(f.text)]
        if texts:
            return [f"申请期限：{_shorten(text, 120)}" for text in _unique(texts)[:2]]
        return [f"{entry.document.citation}此项没有写申请期限（多久之内必须申请）。"
                "（办理时限是经办机构受理后办结的时间，不是申请期限。）"] + self._said_elsewhere(entry, words, DEADLINE)

    def cover_start(self, entry: ItemGuide, words: str) -> list[str]:
        """When the cover or benefit starts (waiting periods): the item's own words on it, or that it says nothing."""
        texts = [n.text for n in entry.notes + [n for f in entry.forms for n in f.extra.get("notes", [])]
                 if COVER_START.search(n.text)]
        if texts:
            return [f"待遇时间：{_shorten(text, 150)}" for text in _unique(texts)[:2]]
        return [f"{entry.document.citation}此项没有写待遇从什么时候开始（生效时间、等待期）。"] + \
            self._said_elsewhere(entry, words, COVER_START)

    def _said_elsewhere(self, entry: ItemGuide, words: str, kind: re.Pattern[str]) -> list[str]:
        """The sentence of another item of the same document that says what this item does not (衡阳's waiting
        periods are written under 职工参保登记, not 法定断档补缴), when the question's words point to it."""
        if not words:
            return []
        found = [p for p in self.kb.passages(entry.document.id, self.question_grams(entry, words), limit=10)
                 if kind.search(p.text) and p.item_key != entry.key]
        return [f"该文件在“{found[0].item_name}”中写道：{_shorten(found[0].text, 150)}"] if found else []

    def process(self, entry: ItemGuide, whole_steps: bool) -> list[str]:
        """The steps of the process: each whole when the process is all that is asked, else their beginnings."""
        if entry.process:
            return ["办理流程："] + [step.text if whole_steps else _shorten(step.text, STEP_CHARACTERS)
                                 for step in entry.process]
        steps = entry.sections.get("办理环节")
        if not steps:
            return ["该文件此项未写办理流程。"]
        return [f"办理环节：{steps.text}"] + [f"说明：{_shorten(n.text, 150)}" for n in entry.notes[:2]]

    def eligibility(self, entry: ItemGuide, person_type: str | None, words: str) -> list[str]:
        lines = []
        who = entry.sections.get("服务对象")
        if who:
            lines.append(f"服务对象：{_shorten(who.text, 200)}")
        lines += self.persons_case(entry, person_type, words)
        lines += [f"条件：{_shorten(text, 150)}" for text in self.conditions(entry, words)]
        accepting = entry.sections.get("受理单位")
        if accepting:
            lines.append(f"受理单位：{_shorten(accepting.text, 100)}")
        lines += [f"说明：{_shorten(n.text, 120)}" for n in entry.notes[:2] if not CONDITION.search(n.text)]
        lines += self.how_to_apply(entry)
        lines += self.materials(entry, person_type, False, words)
        return lines

    def conditions(self, entry: ItemGuide, words: str) -> list[str]:
        """The conditions the item's own text sets (its notes, the notes and pledges of its forms, its sections
        on conditions): the sentences the question's words point to first; at most CONDITIONS_SHOWN."""
        pointed = self.kb.passages(entry.document.id, self.question_grams(entry, words), [entry.key], limit=6)
        # the sentence the question points to most comes first even without a condition word (失业人员领取失业金
        # 期间由失业保险缴纳医疗保险), then those that set a condition
        first = [pointed[0].text] if pointed else []
        asked = _unique(first + [p.text for p in pointed if CONDITION.search(p.text)])
        texts = [n.text for n in entry.notes] + [n.text for f in entry.forms for n in f.extra.get("notes", [])] + \
            [s.text for name, s in entry.sections.items() if "条件" in name]
        found = [text for text in texts if CONDITION.search(text) and not any(a in text for a in asked)]
        return _unique(asked + found)[:CONDITIONS_SHOWN]

    @staticmethod
    def persons_case(entry: ItemGuide, person_type: str | None, words: str) -> list[str]:
        """What the item asks of the person or situation the user described: the materials and time limits
        written for that case (灵活就业人员: 有效身份证件 …, 即时办结)."""
        materials = [m.text for m in entry.materials if m.condition and _condition_applies(m.condition, person_type, words)]
        limits = [t.text for t in entry.time_limits if t.condition and _condition_applies(t.condition, person_type, words)]
        cases = _unique([c for f in entry.materials + entry.time_limits if f.condition and f.text in materials + limits
                         for c in [f.condition]])
        if not materials and not limits:
            return []
        lines = [f"您的情况（{'、'.join(cases)}）："]
        if materials:
            lines.append("需要材料：" + "；".join(_unique(materials)))
        if limits:
            lines.append("办理时限：" + "；".join(_unique(limits)))
        return lines

    def online(self, entry: ItemGuide) -> list[str]:
        channels = _unique([c.text for c in entry.online_channels])
        if channels:
            return ["线上办理：" + "；".join(channels)]
        channel = entry.sections.get("办理渠道")
        accepting = entry.sections.get("受理单位")
        if channel and ("网上" in channel.text or "线上" in channel.text):
            lines = [f"办理渠道：{_shorten(channel.text, 200)}"]
            if accepting and not entry.offices:
                lines.append(f"受理单位：{_shorten(accepting.text, 100)}")
            return lines
        return []

    def form(self, entry: ItemGuide, words: str = "") -> list[str]:
        asks_seal = "章" in words
        with_forms = [m for m in entry.materials if "《" in m.text or "表" in m.text or (asks_seal and "章" in m.text)]
        lines = [f"- {m.text}{_condition(m)}" for m in with_forms]
        named = " ".join(lines)
        for form in entry.forms:
            if form.text not in named:
                number = f"（{form.extra['number']}）" if form.extra.get("number") else ""
                lines.append(f"- 《{form.text}》{number}")
        if not lines:
            return ["该文件此项未列需要填写的表格。"]
        return ["需要填写的表格："] + lines + self.where_to_get_forms(entry)

    @staticmethod
    def where_to_get_forms(entry: ItemGuide) -> list[str]:
        """Where the item's forms are to be had: the item's own words on downloading or collecting them, and the
        forms whose template the document prints."""
        texts = [n.text for n in entry.notes] + [n.text for f in entry.forms for n in f.extra.get("notes", [])] + \
            [s.text for s in entry.sections.values()] + [c.text for c in entry.online_channels]
        lines = [f"表格获取：{_shorten(text, 120)}" for text in _unique(texts) if WHERE_TO_GET.search(text)][:2]
        printed = [f"《{form.text}》{('（' + form.extra['number'] + '）') if form.extra.get('number') else ''}"
                   for form in entry.forms if form.extra.get("attached")]
        if printed:
            lines.append(f"表格样式附在{entry.document.citation}中：" + "、".join(printed[:3]))
        return lines

    def legal_basis(self, entry: ItemGuide) -> list[str]:
        if entry.legal_basis:
            return ["设定依据："] + [f"{i}. {f.text}" for i, f in enumerate(entry.legal_basis, 1)]
        return []

    # Putting it together ----------------------------------------------------------------------------

    def render(self, guide: Guide, entry: ItemGuide, aspects: list[str], person_type: str | None,
               full: bool, words: str) -> str:
        """The answer to `aspects` of one entry for the guide's region, ending with the sources it used."""
        region = guide.region
        header = f"【{entry.name}｜{region.label if region else guide.document.region}】"
        body: list[str] = []
        if guide.merged_note is not None:
            body.append(f"{guide.document.citation}未单列该事项，并入“{entry.name}”办理（清单原文：“"
                         f"{_shorten(guide.merged_note.text, 60)}”）。")
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
        related = [f"相关说明：{_shorten(text, 150)}" for text in self.related_notes(entry, words, body)]
        general = self.general_notes(guide, entry, aspects, words)
        notes = self._conflict_lines(self.kb.conflicts(entry.code or guide.code, guide.document.id), aspects)
        if notes or general:
            extra_sources.add(provincial_list().id)
        sources = [documents()[guide.document.id].citation] + [documents()[d].citation for d in sorted(extra_sources)
                                                                if d != guide.document.id]
        footer = "来源：" + "、".join(_unique(sources))
        text = fit([header] + body + related + general + notes, self.limit - utf8_len(footer) - 1)
        return f"{text}\n{footer}"

    def render_several(self, guide: Guide, entries: list[ItemGuide], name: str, aspects: list[str],
                       person_type: str | None, words: str) -> str:
        """One answer for several entries the message may mean: what they share once, then what each says
        differently under its own name (no question when the whole answer fits)."""
        unlimited = Composer(self.kb, 1 << 20)
        rendered = [unlimited.render(guide, entry, aspects, person_type, False, words).split("\n") for entry in entries]
        bodies = [lines[1:-1] for lines in rendered]
        common = [line for line in bodies[0] if all(line in body for body in bodies[1:]) and not line.endswith("：")]
        region = guide.region.label if guide.region else guide.document.region
        lines = [f"【{name}｜{region}】", f"{guide.document.citation}中分为{len(entries)}项，分别说明："] + common
        for entry, body in zip(entries, bodies):
            lines.append(f"〔{entry.name}〕")
            lines += [line for line in body if line not in common] or ["同上。"]
        footer = next(line for line in reversed(rendered[0]) if line.startswith("来源："))
        return f"{fit(lines, self.limit - utf8_len(footer) - 1)}\n{footer}"

    def question_grams(self, entry: ItemGuide, words: str) -> list[str]:
        """The character pairs of a question that can point to a sentence of the item: its own words (with the
        hints a word implies), without the item's name, the person words and the filler every question shares."""
        typed = normalize(words).lower()
        ignore = _bigrams(normalize(entry.name)) | _bigrams(PERSON_TEXT) | STOP_BIGRAMS
        own = {gram for gram in _bigrams(typed) if gram not in ignore}
        return sorted(own | {gram for hint in _hint_words(typed) for gram in _bigrams(hint)})  # hints count in full

    def related_notes(self, entry: ItemGuide, words: str, already: list[str]) -> list[str]:
        """The sentences of the item's own text that the question's words point to (payment period, waiting
        period, students …), at most two, not already in the answer."""
        if not words:
            return []
        passages = self.kb.passages(entry.document.id, self.question_grams(entry, words), [entry.key], limit=6)
        return [p.text for p in passages if not any(p.text[:30] in line for line in already)][:2]

    def general_notes(self, guide: Guide, entry: ItemGuide, aspects: list[str], words: str) -> list[str]:
        """The Hunan 2025 list's notes that hold for every item (bank account, proxies) where they apply."""
        hunan = guide.region is not None and guide.region.province == "湖南省"
        if not hunan or not set(aspects) & {"materials", "overview", "eligibility"}:
            return []
        own_words = " ".join(m.text for m in entry.materials + entry.notes)
        lines = []
        for note in self.kb.general_notes(provincial_list().id):
            about_payment = guide.document.is_provincial_list and "报销" in note.text and (
                "报销" in entry.name or "支付" in entry.name or "支取" in entry.name)
            about_proxy = "委托" in note.text and "委托" in situations_in(words) and "委托" not in own_words
            if about_payment or about_proxy:
                lines.append(f"湖南省2025年版清单说明：{_shorten(note.text, 120)}")
        return lines

    def _aspect(self, guide: Guide, entry: ItemGuide, aspect: str, person_type: str | None, full: bool,
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
            return self.process(entry, full)
        if aspect == "deadline":
            return self.deadline(entry, words)
        if aspect == "cover_start":
            return self.cover_start(entry, words)
        if aspect == "conditions":
            who = entry.sections.get("服务对象")
            return ([f"服务对象：{_shorten(who.text, 200)}"] if who else []) + \
                [f"条件：{_shorten(text, 150)}" for text in self.conditions(entry, words)] + \
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
            return (self._gap_lines(guide, entry, "legal_basis") + ["湖南省2025年版事项清单列明的设定依据："]
                    + [f"{i}. {text}" for i, text in enumerate(basis, 1)])
        if aspect == "amount":
            return []
        return self.overview(guide, entry, person_type, words)

    @staticmethod
    def how_to_apply(entry: ItemGuide) -> list[str]:
        """The first step of the process: where and how the application is made."""
        return [f"如何申请：{_shorten(entry.process[0].text, 90)}"] if entry.process else []

    def overview(self, guide: Guide, entry: ItemGuide, person_type: str | None, words: str) -> list[str]:
        lines = self.how_to_apply(entry) + self.materials(entry, person_type, False, words)
        lines += self.time_limit(entry)
        lines += self.office(entry, guide.region)[:3]
        lines += self.online(entry)
        lines.append("还可以问我：电话、办理流程、要填的表、能不能办。")
        return lines

    def _gap_lines(self, guide: Guide, entry: ItemGuide, aspect: str) -> list[str]:
        wanted = {"phone": {"phone"}, "supervision": {"supervision", "phone"}, "office": {"office"},
                  "online": {"online"}, "amount": {"amount"}, "legal_basis": {"legal_basis"}}.get(aspect, {aspect})
        gaps = self.kb.gaps(entry.code or guide.code, guide.document.id)
        lines = [gap.statement for gap in gaps if wanted & set(gap.aspects)]
        if not lines:
            title = ASPECT_TITLES.get(aspect, aspect)
            lines.append(f"{guide.document.citation}此项未写{title}。")
        if aspect == "phone":  # the one number the item does give, said for what it is
            lines += [f"此项只写了{line}（受理投诉、监督）" for line in self.supervision(entry)]
        if aspect in ("phone", "supervision", "office", "amount"):
            lines += self._offers(guide, entry)
        return lines

    def _offers(self, guide: Guide, entry: ItemGuide) -> list[str]:
        offers = []
        channels = _unique([c.text for c in entry.online_channels])
        if channels:
            offers.append("可通过线上渠道办理或咨询：" + "；".join(channels))
        channel = entry.sections.get("办理渠道")
        if channel and not entry.offices:
            offers.append(f"该文件写明的办理渠道：{_shorten(channel.text, 120)}")
        return offers

    @staticmethod
    def _conflict_lines(conflicts: list[Conflict], aspects: list[str]) -> list[str]:
        relevant = set().union(*(CONFLICT_ASPECTS.get(a, set()) for a in aspects)) if aspects else set()
        lines = []
        for conflict in conflicts:
            if conflict.aspect not in relevant:
                continue
            if conflict.hunan2025 is not None:
                lines.append(f"提示：湖南省2025年版清单此项{ASPECT_TITLES.get(conflict.aspect, '')}为"
                             f"“{_shorten(conflict.hunan2025.text, 80)}”，与本指南不同；清单规定已有规定与其不一致的按清单执行，"
                             "办理时请以经办窗口口径为准。")
            elif conflict.note:
                lines.append(f"提示：{_shorten(conflict.note, 120)}")
            if len(lines) == 2:
                break
        return lines


def handoff_text(kb: KnowledgeBase, region: Region | None, item: str | None, limit: int) -> str:
    """The 咨询 and 监督 phones for the user's region (and item), or what the documents offer instead."""
    if region is None:
        return ("人工咨询请拨打参保地医保经办机构的电话。告诉我您的参保地（如“耒阳”“长沙望城区”）和事项，我可以查到对应的咨询电话和监督电话。")
    if not region.covered:
        return f"“{region.name}”不在我的资料范围内，请联系当地医保经办机构。"
    if item:
        guide = kb.guide(item, region)
        query = [p.text + (f"（{p.extra['qualifier']}）" if p.extra.get("qualifier") else "")
                 for e in guide.entries for p in e.phones if p.extra["kind"] in ("查询", "办理")]
        supervision = [p.text for e in guide.entries for p in e.phones if p.extra["kind"] == "监督"]
    else:
        guide = kb.guide(GENERAL_ITEM, region)
        phones = kb.unit_phones(guide.document.id, region.unit) if region.unit else {}
        query = (phones.get("查询", []) + phones.get("办理", []))[:1]
        supervision = phones.get("监督", [])[:2]
    query, supervision = list(dict.fromkeys(query)), list(dict.fromkeys(supervision))
    lines = [f"需要人工帮助的话，可以联系{region.label}的医保经办机构："]
    if query:
        lines.append("咨询电话：" + "；".join(query) + ("" if item else "（各事项的咨询电话可能不同，告诉我事项可查准确号码）"))
    if supervision:
        lines.append("监督电话：" + "；".join(supervision))
    if not query and not supervision:
        lines += [gap.statement for gap in guide.gaps if {"phone", "supervision"} & set(gap.aspects)][:1]
        channels = list(dict.fromkeys(c.text for e in guide.entries for c in e.online_channels))
        if channels:
            lines.append("可通过以下渠道咨询办理：" + "；".join(channels))
    lines.append(f"来源：{guide.document.citation}")
    return fit(lines, limit)


def absent_item_statement(guide: Guide, name: str) -> str:
    """The serving document has no such item: the sentence that says so."""
    region = guide.region.label if guide.region else guide.document.region
    return f"{guide.document.citation}（适用于{region}）没有列出“{name}”这一事项。"


def gap_reply_for_absent_item(guide: Guide, name: str) -> str:
    """The serving document has no such item, and nothing of it comes close."""
    return absent_item_statement(guide, name)[:-1] + "，我无法给出它的材料、时限或电话。请向参保地医保经办机构咨询。"
