"""What the latest message asks: aspects, items, region and person type, from NLU plus the knowledge base."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from knowledge.codes import is_main, parent_of, same_family
from knowledge.query import ItemMatch, KnowledgeBase, Region, RegionResolution
from knowledge.text import normalize, occurrences
from knowledge.trees import Option, Question, Tree
from knowledge.words import alternatives, negated, words

ASPECTS = ("materials", "office", "phone", "supervision", "time_limit", "process", "eligibility", "legal_basis",
           "online", "form", "amount", "deadline", "cover_start")
INTENT_ASPECTS = {f"ask_{aspect}": aspect for aspect in ASPECTS}
WORDS = words()
# The English words of WORDS, longest first, each as a pattern from the start of a word: (pattern, length, meaning).
ENGLISH_PATTERNS = [(re.compile(rf"\b{re.escape(word)}"), len(word), meaning)
                    for word, meaning in sorted(WORDS.english_words.items(), key=lambda pair: -len(pair[0]))]
LATIN_LETTER = re.compile("[a-z]")
ASPECT_WORDS = WORDS.aspects
PERSON_WORDS = WORDS.persons
PERSON_LIKE_ALIASES = WORDS.person_like_aliases
# Where a place stands: before a destination (我爸要去海南住), after the place of insurance (长沙医保), after a place
# of origin (邵阳人); the words are in knowledge/data/words.yml (places).
PLACES = WORDS.places
DESTINATION_BEFORE = re.compile(f"({'|'.join(PLACES.destination_before)})$")
INSURED_AFTER = re.compile(f"^{alternatives(PLACES.place_suffixes)}?{alternatives(PLACES.possessive)}?"
                           f"{alternatives(PLACES.insured_schemes)}?{alternatives(PLACES.insured_after)}")
ORIGIN_AFTER = re.compile(f"^{alternatives(PLACES.place_suffixes)}?{alternatives(PLACES.origin_after)}")
ORIGIN_BEFORE = re.compile(f"({'|'.join(PLACES.origin_before)})$")


def situations_in(words: str) -> set[str]:
    """The situations (死亡, 港澳台 …) a message describes in its own words (去世, 香港 …)."""
    lowered = words.lower()
    return {key for key, synonyms in WORDS.material_situations.items() if any(w in lowered for w in synonyms)}


SITUATION_BONUS = 4  # a situation pattern counts its covered characters and this much more than an alias of them
PERSON_TIE_BREAK = 2  # × (person fit − 1): ±0.5 point for a name that fits or misfits the person asking
SUB_ITEM_NAMED = 8  # added for a 子项 named by a name or alias of three characters or more
SUB_ITEM_EDGE = 1.0  # a 子项 that takes its parent's place outweighs it by this much
NAME_WEIGHT = 4  # an item's own name (参保凭证) counts four times its length: it names the item outright
# Ranking items by their own text (BM25 over bigrams): the least score that counts, and how near the first a
# candidate must be for the assistant to ask rather than answer the first.
RANK_MINIMUM = 6.0
RANK_CLOSE = 0.7
WEAKLY_NAMED = 1.5  # × the text score of an item the message names only by a person-like word (门诊, 住院)


def mentions(text: str, word: str) -> bool:
    """`word` occurs in `text` and is not negated (没有转诊单, 不是急诊)."""
    start = text.find(word)
    while start != -1:
        if not negated(text, start):
            return True
        start = text.find(word, start + 1)
    return False


@dataclass
class Request:
    """One user message, understood."""
    text: str
    intent: str
    aspects: list[str]
    items: list[ItemMatch] = field(default_factory=list)
    item_words: list[str] = field(default_factory=list)  # what the user typed for the item
    region: Region | None = None
    ambiguous_regions: list[Region] = field(default_factory=list)
    destination: Region | None = None
    person_type: str | None = None
    wants_full_list: bool = False
    other_topic: str | None = None  # a matter outside 医保 asked beside the 医保 question (养老金)


def _aspect_spans(lowered: str) -> list[tuple[int, int, str, str]]:
    """(start, end, aspect, word) of every aspect word in a text, in order; a word inside a longer one that
    overlaps it does not count (能领 in 能领多少 → amount only)."""
    spans = [(start, start + len(word), aspect, word) for aspect, words in ASPECT_WORDS.items() for word in words
             for start in occurrences(lowered, word)]

    spans.sort(key=lambda span: (span[0] - span[1], span[0]))
    kept: list[tuple[int, int, str, str]] = []
    for span in spans:
        if not any(span[0] < other[1] and other[0] < span[1] for other in kept):
            kept.append(span)
    return sorted(kept)


def _aspect_beside(span: tuple[int, int, str, str], spans: list[tuple[int, int, str, str]]) -> bool:
    """Another aspect's word stands right beside a word like 能不能 (能不能网上办, 网上能办吗): the question is
    about that aspect."""
    return any(other[2] != span[2] and (0 <= other[0] - span[1] <= ASPECT_GAP or 0 <= span[0] - other[1] <= ASPECT_GAP)
               for other in spans)


CAN_QUESTION = re.compile(WORDS.can_question)
# Spaces beside Chinese text end a clause (能在医院直接办不 还是要跑医保局), as a comma would.
CLAUSE_BREAK = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")
CLAUSE_END = re.compile(r"[，,。？?！!；;]")
ASPECT_GAP = 2  # characters between 能不能 and the aspect word it asks about (能不能在网上办)
TIMED_STEP_GAP = 3  # characters between a step (审核) and the time question about it (审核大概要多久)


def _step_timed(lowered: str, span: tuple[int, int, str, str], spans: list[tuple[int, int, str, str]]) -> bool:
    """A step of the process asked how long it takes in the same clause (审批要多久, 审核需要几天): the question is
    the time limit (not 谁来审，多久出结果)."""
    return span[2] == "process" and any(
        other[2] == "time_limit" and 0 <= other[0] - span[1] <= TIMED_STEP_GAP
        and not CLAUSE_END.search(lowered[span[1] : other[0]]) for other in spans)


def aspects_in(text: str, intent: str) -> list[str]:
    """The aspects a message asks, in the order its words name them; the intent's aspect only when no word names
    one. A bare "how do I …" (怎么办, 咋弄) asks for the overview; 能不能 beside another aspect asks about that one;
    an office comes with its phone, a form with the other materials."""
    lowered = normalize(CLAUSE_BREAK.sub("，", text)).lower()
    spans = _aspect_spans(lowered)
    spans = [span for span in spans if not _step_timed(lowered, span, spans)]
    aspects = list(dict.fromkeys(aspect for _, _, aspect, _ in spans))
    if "supervision" in aspects and "phone" in aspects and not any(word in lowered for word in WORDS.consult_words):
        aspects.remove("phone")
    weak = [span for span in spans if span[2] == "eligibility" and span[3] in WORDS.weak_eligibility]
    about_item = [span for span in weak if not _aspect_beside(span, spans)] + [
        (found.start(), found.end(), "eligibility", found.group()) for found in CAN_QUESTION.finditer(lowered)
        if not any(span[2] != "eligibility" and found.start() - ASPECT_GAP <= span[1] and span[0] < found.end()
                   for span in spans)]  # 网上能办吗, 能带复印件吗 ask about that aspect
    if "eligibility" in aspects and len(aspects) > 1 and len(weak) == sum(span[2] == "eligibility" for span in spans):
        aspects.remove("eligibility")  # 能不能网上办 asks for the channel; 能取出来吗 要多久 asks if the item applies
    if about_item and "eligibility" not in aspects:  # 还要交么, 开得了不: whether the item applies
        aspects.append("conditions" if aspects else "eligibility")
    primary = INTENT_ASPECTS.get(intent)
    asks_how = any(word in lowered for word in WORDS.how)
    if not aspects and primary and not asks_how:  # with no aspect word, "how" asks for the overview
        aspects = [primary]
    elif primary in aspects:
        aspects = [primary] + [aspect for aspect in aspects if aspect != primary]
    if asks_how and "overview" not in aspects and \
            not set(aspects) & {"materials", "process", "form", "amount"}:
        aspects.append("overview")
    if "office" in aspects and not {"phone", "supervision"} & set(aspects):
        aspects.append("phone")
    if aspects == ["form"]:  # 报销要填什么: the form is one of the things to hand in, the others come with it
        aspects.append("materials")
    return aspects


def person_type_in(text: str, entities: list[dict[str, Any]]) -> str | None:
    """Who is asking: the most specific person words of the text first (灵活就业 join 职工医保), then NLU's."""
    lowered = normalize(text)
    named = [(len(word), person) for person, words in PERSON_WORDS.items() for word in words if mentions(lowered, word)]
    if named:  # the longest words first: 没上班 is 居民, not the 上班 inside it
        return max(named, key=lambda pair: pair[0])[1]
    for entity in entities:
        if entity.get("entity") == "person_type" and entity.get("value") in PERSON_WORDS:
            return entity["value"]
    return None


def _is_destination(text: str, resolution: RegionResolution) -> bool:
    before = text[max(0, resolution.start - 4) : resolution.start]
    after = text[resolution.start + len(resolution.typed) :]
    return bool(DESTINATION_BEFORE.search(before)) and not INSURED_AFTER.match(after)


def regions_in(kb: KnowledgeBase, text: str) -> tuple[Region | None, list[Region], Region | None]:
    """(place of insurance, ambiguous alternatives, destination) named in a message."""
    normalized = normalize(text).lower()
    insured: list[RegionResolution] = []
    destination = None
    for resolution in kb.find_regions(text):
        if _is_destination(normalized, resolution):
            destination = destination or resolution.region
            continue
        insured.append(resolution)
    if destination is not None and destination.covered and not any(r.region and r.region.covered for r in insured):
        return destination, [], None  # 住在长沙, 回邵阳工作: the only place the documents cover is the one asked about
    if not insured:
        return None, [], destination
    residents = [r for r in insured if not ORIGIN_AFTER.match(normalized[r.start + len(r.typed):])
                 and not ORIGIN_BEFORE.search(normalized[:r.start])]
    insured = residents or insured  # 我们是邵阳人 在长沙, 原来在株洲…: the place of origin is not the place asked about
    explicit = [r for r in insured if INSURED_AFTER.match(normalized[r.start + len(r.typed):])]
    candidates = explicit or insured
    resolved = [r for r in candidates if r.region]
    if resolved:
        levels = {"county": 0, "city": 1, "province": 2}
        covered = [r for r in resolved if r.region.covered] or resolved
        best = min(covered, key=lambda r: levels[r.region.level])
        return best.region, [], destination
    return None, candidates[0].alternatives, destination


def _entity_region(kb: KnowledgeBase, entities: list[dict[str, Any]]) -> Region | None:
    """The region NLU found where no name of the knowledge base stands in the text (a typo it learned: 衡杨县)."""
    for entity in entities:
        if entity.get("entity") == "region":
            try:
                return kb.region(str(entity.get("value")))
            except KeyError:
                continue
    return None




# Words a place name may stand inside without being a place: 保定 in 医保定点, 香港 in 香港人.
NOT_PLACES = WORDS.scope_words + tuple(word for kind in PERSON_WORDS.values() for word in kind)


def places_as_away(text: str, places: list[RegionResolution], insured: Region | None) -> str:
    """The message with every place named in it (`places`, from find_regions) other than the place of insurance
    written as 外地 (调到成都 → 调到外地), as the situations are written; a place the documents do not cover is always
    elsewhere."""
    normalized = normalize(text).lower()
    spans = [(start, start + len(word)) for word in NOT_PLACES for start in occurrences(normalized, word)]
    pieces, last = [], 0
    for found in sorted(places, key=lambda r: r.start):
        end = found.start + len(found.typed)
        if any(start < end and found.start < stop for start, stop in spans):
            continue  # 保定 inside 医保定点, 香港 inside 香港人 (a person) are no places
        place = found.region
        related = place is not None and insured is not None and (
            place.id.startswith(insured.id) or insured.id.startswith(place.id))
        came_from = ORIGIN_BEFORE.search(normalized[: found.start])  # 之前在东莞上班: where the user came from
        if place is None or related or (place.covered and insured is None) or came_from or found.start < last:
            continue
        pieces += [normalized[last : found.start], PLACES.away]
        last = end
    return "".join(pieces) + normalized[last:]


def items_in(kb: KnowledgeBase, text: str, entities: list[dict[str, Any]],
             places: list[RegionResolution], insured: Region | None) -> tuple[list[ItemMatch], list[str]]:
    """Items named in a message: the knowledge base's names and aliases found in the text, and the item words
    DIET found (mapped to codes by the synonyms, or searched by name when they are typos)."""
    person_words = {w for words in PERSON_WORDS.values() for w in words} | PERSON_LIKE_ALIASES
    region_words = {place.typed for place in places}
    entity_words = [e for e in entities if e.get("entity") == "item"]
    item_words = [text[e["start"]:e["end"]] for e in entity_words if "start" in e]
    matches: dict[str, ItemMatch] = {}
    normalized = normalize(text).lower()
    for match in kb.find_items(text, limit=8, search=False):
        if not mentions(normalized, match.matched) or kb.continues_another_name(normalized, match):
            continue
        if match.matched in PERSON_LIKE_ALIASES:
            match.score /= 4
        elif kb.is_item_name(match.matched):
            match.score *= NAME_WEIGHT
        if match.level != "main" and len(match.matched) >= 3 and match.matched not in PERSON_LIKE_ALIASES:
            match.score += SUB_ITEM_NAMED  # 参保凭证 named outright outranks a situation around it (换工作去外地)
        matches.setdefault(match.code, match)
    matches = {code: match for code, match in matches.items()
               if not _inside_longer(normalized, match, list(matches.values()))}
    situations = kb.find_situations(places_as_away(text, places, insured))
    for match in situations:  # a described situation is more specific than a generic alias
        match.score += SITUATION_BONUS
        if match.code not in matches or matches[match.code].score < match.score:
            matches[match.code] = match
    phrases = [m for m in situations if m.matched in normalized]  # situations typed as one phrase (计划生育医疗费)
    matches = {code: match for code, match in matches.items()
               if match.kind != "name" or not _inside_longer(normalized, match, [p for p in phrases if p.code != code])}
    for entity, word in zip(entity_words, item_words or [str(e.get("value")) for e in entity_words]):
        value = str(entity.get("value"))
        if word in person_words or word in region_words or value in person_words:
            continue
        if "start" in entity and negated(text, entity["start"]):
            continue
        if value in kb.catalogue or kb.has_item_key(value):
            found = ItemMatch(value, kb.item_name(value), "sub", word, float(len(word)), "entity")
            if not kb.continues_another_name(normalized, found):
                matches.setdefault(value, found)
        elif len(word) >= 3 and (not matches or all(m.matched in word and len(m.matched) < len(word)
                                                    for m in matches.values())):
            # A word DIET found that no name matches, typos included (门诊慢特兵): search the names.
            for match in kb.search(word, limit=1, names_only=True):
                if _resembles(word, match.name):
                    match.score, match.kind = len(word) * 0.9, "entity"
                    matches[match.code] = match
    for entity, word in zip(entity_words, item_words):  # 职工参保 inside 职工参保信息变根, a typo of another item's name
        if str(entity.get("value")) in matches or len(word) < 3:
            continue
        meant = [m for m in kb.search(word, limit=1, names_only=True) if _resembles(word, m.name)]
        longer = [ItemMatch("", "", "", word.lower(), 0.0)]
        matches = {code: match for code, match in matches.items() if match.kind != "name" or not meant
                   or code == meant[0].code or not _inside_longer(normalized, match, longer)
                   or _pairs_shared(word, meant[0].name) <= _pairs_shared(word, match.matched)}  # 生育医疗费回来
    for named in [m for m in matches.values() if m.kind == "name" and m.matched not in PERSON_LIKE_ALIASES
                  and len(m.matched) >= (3 if m.level != "main" else 5)]:
        for match in matches.values():  # 生育津贴 (or 慢特病和特药) named beats a situation of its family (特药 申请)
            if match.kind == "situation" and same_family(match.code, named.code) and match.score >= named.score:
                match.score = named.score - 0.1
    person = person_type_in(text, entities)
    for match in matches.values():  # a tie-break between an item's 职工 and 居民 forms, not a signal of its own
        match.score += PERSON_TIE_BREAK * (person_fit(match.name, person) - 1)
    ordered = sorted(matches.values(), key=lambda m: (-m.score, m.code))
    mains = [m for m in ordered if is_main(m.code)]
    # A 主项 name that spans its sub-items' names (门诊慢特病和特药认定) names the 主项; else the sub-item wins.
    spanning = [m for m in mains if any(not is_main(s.code) and same_family(s.code, m.code)
                                         and _overlaps(normalized, m.matched, s.matched) for s in ordered)]
    ordered = [m for m in ordered if not (spanning and not is_main(m.code) and
                                          any(same_family(m.code, main.code) and _overlaps(normalized, main.matched, m.matched)
                                              for main in spanning))]
    # A 子项 as strong as its parent (主项, or the national 子项 a 长沙 key refines), or described by a situation of
    # its own (调到外地+账户 under 个人账户支取), makes the parent redundant and takes its place and weight.
    scores = {m.code: m.score for m in ordered}
    by_code = {m.code: m for m in ordered}
    specific_parents: set[str] = set()
    for match in ordered:
        parent = parent_of(match.code)
        if is_main(match.code) or match.matched in PERSON_LIKE_ALIASES or parent not in scores:
            continue
        if match.score >= scores[parent] or (match.kind == "situation" and _adds_to(match, by_code[parent])):
            specific_parents.add(parent)
            match.score = max(match.score, scores[parent] + SUB_ITEM_EDGE)
    ordered = sorted((m for m in ordered if m.code not in specific_parents), key=lambda m: (-m.score, m.code))
    return ordered, item_words




def _adds_to(situation: ItemMatch, parent: ItemMatch) -> bool:
    """A 子项's situation says more than the words that matched its parent: 转走+账户里的钱 beyond 账户里的钱, not
    特药+申请 beyond 门诊慢特病和特药."""
    rest = situation.matched
    for size in range(len(rest), 1, -1):
        for start in range(len(rest) - size + 1):
            piece = rest[start : start + size]
            if len(piece) == size and piece in parent.matched:
                rest = rest.replace(piece, " ")
    for word in WORDS.filler + WORDS.generic_verbs:
        rest = rest.replace(word, " ")
    return len(rest.replace(" ", "")) >= 2


TYPO_RESEMBLANCE = 0.6  # share of a typed word's character pairs that the name it may misspell must contain


def _inside_longer(text: str, match: ItemMatch, matches: list[ItemMatch]) -> bool:
    """A name matched only inside a longer name that matched (生育医疗费 in 计划生育医疗费) names nothing itself."""
    word = match.matched.lower()
    return any(len(other.matched) > len(word) and word in other.matched.lower()
               and text.count(word) <= text.count(other.matched.lower()) for other in matches)


def person_fit(name: str, person_type: str | None) -> float:
    """How well an item's name fits the person asking: 职工参保信息变更登记 for a 职工 over its 城乡居民 twin."""
    if person_type not in PERSON_WORDS:
        return 1.0
    others = any(other in name for other in PERSON_WORDS if other != person_type)
    if person_type in name:
        return 1.0 if others else 1.25  # 特门居民职工医保转换 is for both
    return 0.8 if others else 1.0


def _pairs_shared(word: str, name: str) -> int:
    """How many of a typed word's character pairs a name has."""
    return sum(word[i : i + 2] in name for i in range(len(word) - 1))


def _resembles(word: str, name: str) -> bool:
    """`word` could be a misspelling of `name` (门诊慢特兵 → 门诊慢特病), not merely share one pair (医保报销)."""
    pairs = {word[i : i + 2] for i in range(len(word) - 1)}
    return bool(pairs) and sum(pair in name for pair in pairs) >= TYPO_RESEMBLANCE * len(pairs)


def _overlaps(text: str, longer: str, shorter: str) -> bool:
    """`longer` is the longer name and the two are typed over the same characters of `text`."""
    start, other = text.find(longer.lower()), text.find(shorter.lower())
    return len(longer) > len(shorter) and start != -1 and other != -1 and \
        other < start + len(longer) and start < other + len(shorter)


def content_bigrams(kb: KnowledgeBase, text: str, named: tuple[str, ...] = ()) -> list[str]:
    """The character pairs of a message that can say which item it is about: without the places, the aspect
    and "how" words and the filler (医保, 请问 …) that every question shares."""
    normalized = normalize(text).lower()
    blanks = [(r.start, r.start + len(r.typed)) for r in kb.find_regions(text)]
    blanks += [(start, end) for start, end, _, _ in _aspect_spans(normalized)]
    blanks += [(start, start + len(word)) for word in WORDS.how + WORDS.filler + named
               for start in occurrences(normalized, word.lower())]
    kept = list(normalized)
    for start, end in blanks:
        kept[start:end] = [" "] * (end - start)
    content = re.sub(r"[^\w]|[a-z0-9_]", " ", "".join(kept))
    return [segment[i : i + 2] for segment in content.split() for i in range(len(segment) - 1)]


def plain(text: str) -> str:
    """The message in plain words: dialect and common misspellings replaced (堂客 → 老婆, 保销 → 报销), and the
    meanings of its English words added after it (personal account → 个人账户)."""
    for word, meaning in sorted(WORDS.plain_words.items(), key=lambda pair: -len(pair[0])):
        text = text.replace(word, meaning)
    return " ".join([text, *english_meanings(text)])


def english_meanings(text: str) -> list[str]:
    """The Chinese words the English words of a text mean (longest phrases read first), each once, in the order of
    the English words: read together they stand as the sentence does (company hired a foreign engineer → 单位 新招了
    外籍 员工), never as two words the sentence does not join."""
    lowered, found_at = text.lower(), []
    if not LATIN_LETTER.search(lowered):
        return []  # every English word has a latin letter: most questions are Chinese only
    for pattern, length, meaning in ENGLISH_PATTERNS:
        found = pattern.search(lowered)
        if found:
            lowered = lowered[: found.start()] + " " * length + lowered[found.end() :]
            found_at.append((found.start(), meaning))
    return list(dict.fromkeys(meaning for _, meaning in sorted(found_at)))


def items_by_text(kb: KnowledgeBase, text: str, document: str | None, person_type: str | None,
                  named: tuple[str, ...] = ()) -> list[ItemMatch]:
    """A document's items ranked by how well their own text matches the message (see content_bigrams; `named`:
    words already read as an item's name, left out), fitted to the person asking, best first; only those that
    match at all (RANK_MINIMUM)."""
    ranked = kb.rank_items(content_bigrams(kb, text, named), document)
    for match in ranked:
        match.score *= person_fit(match.name, person_type)
    return sorted((match for match in ranked if match.score >= RANK_MINIMUM), key=lambda m: -m.score)


def close_candidates(ranked: list[ItemMatch]) -> list[ItemMatch]:
    """The first of a ranking and those close to it: one when it is clear, several when the user must choose."""
    return [match for match in ranked if match.score >= RANK_CLOSE * ranked[0].score] if ranked else []


def _family_member_first(kb: KnowledgeBase, items: list[ItemMatch], text: str, region: Region | None,
                         person_type: str | None) -> list[ItemMatch]:
    """A 主项 named (报销, 定点申请) whose own 子项 the message's words clearly point to (住院, 诊所): that 子项
    first, ranked by its text among its family only."""
    if not items or not is_main(items[0].code):
        return items
    members_named = [m for m in items if m.kind == "name" and not is_main(m.code) and same_family(m.code, items[0].code)]
    if len(members_named) == 1:  # 报销 … 住院的: the 子项's own word, weak alone, settles it beside its 主项
        clear = members_named
    else:
        document = region.document if region is not None and region.covered else None
        named = tuple(m.matched for m in items if m.kind == "name" and is_main(m.code))  # 医疗救助 is no clue
        clear = close_candidates([m for m in items_by_text(kb, text, document, person_type, named)
                                  if same_family(m.code, items[0].code) and not is_main(m.code)])
    if len(clear) != 1:
        return items
    member = ItemMatch(clear[0].code, clear[0].name, clear[0].level, items[0].matched, items[0].score, "text")
    return [member] + [m for m in items if m.code != member.code]


def _only_a_place(text: str, places: list[RegionResolution]) -> bool:
    """The message is a place and words that ask nothing (潜江的, 那在雨花区办呢): an answer to the city question or
    the last question moved to that place, not a question of its own."""
    normalized = normalize(text).lower()
    for resolution in sorted(places, key=lambda r: -r.start):
        normalized = normalized[: resolution.start] + normalized[resolution.start + len(resolution.typed) :]
    for word in sorted(PLACES.place_follow_up, key=len, reverse=True):
        normalized = normalized.replace(word, "")
    return bool(places) and not re.sub(r"[^\w]", "", normalized)


TIE = 0.01  # item scores this close are a tie that the items' own text settles


def _ties_settled_by_text(kb: KnowledgeBase, items: list[ItemMatch], text: str,
                          region: Region | None) -> list[ItemMatch]:
    """Items the words point to equally (家里老人+医保 and 重度残疾+医保) in the order their own text matches the
    message, the winner a little ahead."""
    if not items:
        return items
    tied = [match for match in items if match.score >= items[0].score - TIE]
    if len(tied) < 2:
        return items
    document = region.document if region is not None and region.covered else None
    ranked = kb.rank_items(content_bigrams(kb, text), document, limit=len(kb.catalogue))
    by_text = {match.code: match.score for match in ranked}
    tied.sort(key=lambda match: -by_text.get(match.code, 0.0))
    tied[0].score += SUB_ITEM_EDGE / 2
    return tied + items[len(tied):]


def understand(kb: KnowledgeBase, latest_message: dict[str, Any]) -> Request:
    text = kb.with_names_heard(plain(latest_message.get("text") or ""))
    other_topic = next((word for word in WORDS.other_topics if word in text), None)
    for word in WORDS.other_topics:  # 养老金 is not read as part of the 医保 question beside it
        text = text.replace(word, " " * len(word))
    intent = (latest_message.get("intent") or {}).get("name") or ""
    entities = latest_message.get("entities") or []
    region, ambiguous, destination = regions_in(kb, text)
    if region is None and not ambiguous and destination is None:
        region = _entity_region(kb, entities)
    places = kb.find_regions(text)
    items, item_words = items_in(kb, text, entities, places, region)
    items = _ties_settled_by_text(kb, items, text, region)
    if _only_a_place(text, places):
        intent = "inform"  # 潜江的 answers the city question whatever DIET made of it, and asks nothing new
    aspects = aspects_in(text, intent)
    if "eligibility" not in aspects:  # "which benefit is mine" is the eligibility dialog's to settle
        items = _family_member_first(kb, items, text, region, person_type_in(text, entities))
    return Request(
        text=text, intent=intent, aspects=aspects, items=items, item_words=item_words,
        region=region, ambiguous_regions=ambiguous, destination=destination,
        person_type=person_type_in(text, entities),
        wants_full_list=any(word in text for word in WORDS.full_list), other_topic=other_topic)


DIGIT = re.compile(r"^\s*(\d{1,2})\s*[.、)）]?\s*$")
SHORT_ANSWER = 8  # characters: a bare 是/不是 answers the question just asked


def pick_option(text: str, options: list[str]) -> int | None:
    """Which option a reply chose: by its number or by its words."""
    digit = DIGIT.match(normalize(text))
    if digit and 1 <= int(digit.group(1)) <= len(options):
        return int(digit.group(1)) - 1
    normalized = normalize(text)
    hits = [i for i, option in enumerate(options) if normalized and (normalized in normalize(option) or normalize(option) in normalized)]
    return hits[0] if len(hits) == 1 else None


def read_facts(tree: Tree, text: str, asked: Question | None) -> dict[str, str]:
    """The facts a message states: any question's option words (the longest match, not negated), then a digit,
    an option's name or a bare yes/no for the question just asked; an option's implications fill the rest."""
    normalized = normalize(text).lower()
    if asked is not None:  # a quick reply or a digit answers the question asked, and nothing else
        chosen = next((option for option in asked.options if normalize(option.label).lower() == normalized), None)
        digit = DIGIT.match(normalized)
        if digit and 1 <= int(digit.group(1)) <= len(asked.options):
            chosen = asked.options[int(digit.group(1)) - 1]
        if chosen is not None:
            return {**chosen.implies, asked.slot: chosen.value}
    facts: dict[str, str] = {}
    implied: dict[str, str] = {}
    for question in tree.questions:
        option = _option_named(question, normalized)
        if option is not None:
            facts[question.slot] = option.value
            implied.update(option.implies)
    if asked is not None and asked.slot not in facts:
        answer = _answer_to(asked, text, normalized, bool(facts))
        if answer is not None:
            facts[asked.slot] = answer.value
            implied.update(answer.implies)
    return {**implied, **facts}


def _option_named(question: Question, normalized: str) -> Option | None:
    """The option whose words the text uses; a word inside a longer one that matched does not count (退休 in
    没退休), and two options named apart (慢特病 … 特药) say neither."""
    spans: list[tuple[int, int, Option]] = []
    for option in question.options:
        for word in option.words:
            start = normalized.find(word.lower())
            while start != -1:
                if not negated(normalized, start):
                    spans.append((start, start + len(word), option))
                start = normalized.find(word.lower(), start + 1)
    outer = [(start, end, option) for start, end, option in spans
             if not any(s <= start and end <= e and e - s > end - start for s, e, _ in spans)]
    named = {option.value: option for _, _, option in outer}
    return next(iter(named.values())) if len(named) == 1 else None


def _answer_to(asked: Question, text: str, normalized: str, other_facts: bool) -> Option | None:
    index = pick_option(text, [option.label for option in asked.options])
    if index is not None:
        return asked.options[index]
    values = {option.value for option in asked.options}
    answers = WORDS.answers
    if other_facts or values != {"yes", "no"} or len(normalized) > SHORT_ANSWER or \
            any(w in normalized for w in answers.correction_words):
        return None
    if normalized.startswith(answers.no_starts):
        return asked.option("no")
    if normalized.startswith(answers.yes_starts):
        return asked.option("yes")
    return None
