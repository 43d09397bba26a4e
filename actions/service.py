"""action_answer: a service question answered for the user's item and region, with clarifying questions."""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.compose import Composer, Reply, gap_reply_for_absent_item, handoff_text
from actions.config import MAX_REPLY_BYTES, knowledge_base
from actions.understanding import PERSON_LIKE_ALIASES, Request, mentions, situations_in, understand
from knowledge.query import Guide, ItemGuide, KnowledgeBase, Region
from knowledge.text import normalize

REGION_QUESTION = "请问您在哪个城市（区县）参保？衡阳、郴州、长沙可答到区县；湖南其他市州和湖北各市请直接输入城市名。"
REGION_BUTTONS = ["衡阳", "长沙", "郴州", "株洲", "武汉"]
ITEM_QUESTION = ("请问您想办理哪项医保业务？例如：异地就医备案、门诊慢特病认定、生育津贴、住院费用报销、个人账户支取、参保登记。")
ITEM_BUTTONS = ["异地就医备案", "门诊慢特病认定", "生育津贴", "住院费用报销", "个人账户一次性支取", "参保登记"]
NOT_COVERED = ("您说的“{place}”不在我的资料范围内：我只有湖南省（衡阳、郴州、长沙的医保经办办事指南和湖南省2025年版事项清单）"
               "和湖北省的医保办事资料。医保业务一般向参保地的医保经办机构办理，请咨询参保地医保部门。")
DIGIT = re.compile(r"^\s*(\d{1,2})\s*[.、)）]?\s*$")


def numbered(question: str, options: list[str]) -> Reply:
    """A question with options; the options are also numbered in the text so a digit answers (WeChat)."""
    lines = [question] + [f"{i}. {option}" for i, option in enumerate(options, 1)]
    return Reply("\n".join(lines + ["（回复序号或名称即可）"]), options)


def pick_option(text: str, options: list[str]) -> int | None:
    """Which option a reply chose: by its number or by its words."""
    digit = DIGIT.match(normalize(text))
    if digit and 1 <= int(digit.group(1)) <= len(options):
        return int(digit.group(1)) - 1
    typed = normalize(text)
    hits = [i for i, option in enumerate(options) if typed and (typed in normalize(option) or normalize(option) in typed)]
    return hits[0] if len(hits) == 1 else None


def entry_scores(kb: KnowledgeBase, entries: list[ItemGuide], text: str, person_type: str | None,
                  distinctive: bool = False) -> list[float]:
    """How strongly a message points to each entry: its cue words, and the rarer bigrams of its name.

    With `distinctive`, only what sets an entry apart counts: bigrams no other entry's name has, and cues.
    """
    typed = normalize(text) + "".join(situations_in(text))
    names = [normalize(entry.name) for entry in entries]
    grams = [{name[i : i + 2] for i in range(len(name) - 1)} for name in names]
    frequency: dict[str, int] = {}
    for entry_grams in grams:
        for gram in entry_grams:
            frequency[gram] = frequency.get(gram, 0) + 1
    cue_sets = [set(kb.cues(entry.code or "")) for entry in entries]
    scores = []
    for entry, entry_grams, cues in zip(entries, grams, cue_sets):
        points = sum(2.0 / frequency[gram] for gram in entry_grams
                     if mentions(typed, gram) and (not distinctive or frequency[gram] == 1))
        shared_by_all = set.intersection(*cue_sets) if distinctive else set()
        points += sum(3.0 for cue in cues - shared_by_all if mentions(typed, cue))
        if person_type and person_type in entry.name:
            points += 3.0
        scores.append(points)
    return scores


def choose_entries(kb: KnowledgeBase, guide: Guide, text: str, person_type: str | None) -> list[ItemGuide]:
    """The entries of a guide the message is about: those its distinctive words point to; among entries of one
    code, the base entry (长沙's 本地特殊门诊待遇申报 among its -n sub-items) or the one bearing the item's own name
    (城乡居民参保登记 among its 减少登记 rows); else the best-pointed ones; else all (and the assistant asks)."""
    entries = guide.entries
    if len(entries) <= 1:
        return entries
    distinct = entry_scores(kb, entries, text, person_type, distinctive=True)
    if max(distinct) > 0:
        entries = [e for e, points in zip(entries, distinct) if points >= max(distinct) - 0.01]
    if len(entries) == 1:
        return entries
    if len({e.code for e in entries}) == 1:
        base = [e for e in entries if e.key == e.code and e.local_code is None]
        own_name = [e for e in entries if e.name == kb.item_name(e.code or "")
                    or (e.sections.get("事项名称") and e.sections["事项名称"].text == e.name)]
        for preferred in (base, own_name):
            if len(preferred) == 1:
                return preferred
    scores = entry_scores(kb, entries, text, person_type)
    chosen = [e for e, points in zip(entries, scores) if points >= max(scores) - 0.01]
    return chosen if max(scores) > 0 else entries


class ActionAnswer(Action):
    def name(self) -> str:
        return "action_answer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        kb = knowledge_base()
        request = understand(kb, tracker.latest_message)
        state = ConversationState.from_tracker(kb, tracker)
        replies, events = Dialogue(kb, state, request).respond()
        for reply in replies:
            dispatcher.utter_message(text=reply.text,
                                     buttons=[{"title": b, "payload": b} for b in reply.buttons] or None)
        return events


class ConversationState:
    """The slots this action reads and writes."""

    def __init__(self, region: Region | None, item: str | None, aspects: list[str], person_type: str | None,
                 pending: str | None, options: list[str], question: str | None):
        self.region, self.item, self.aspects = region, item, aspects
        self.person_type, self.pending, self.options = person_type, pending, options
        self.question = question  # the words of the last service question, kept to choose among sub-items

    @classmethod
    def from_tracker(cls, kb: KnowledgeBase, tracker: Tracker) -> ConversationState:
        region_id = tracker.get_slot("region")
        region = None
        if region_id:
            try:
                region = kb.region(region_id)
            except KeyError:
                region = None
        return cls(region, tracker.get_slot("item"), tracker.get_slot("aspects") or [],
                   tracker.get_slot("person_type"), tracker.get_slot("pending"), tracker.get_slot("options") or [],
                   tracker.get_slot("question"))

    def events(self) -> list[EventType]:
        return [SlotSet("region", self.region.id if self.region else None), SlotSet("item", self.item),
                SlotSet("aspects", self.aspects), SlotSet("person_type", self.person_type),
                SlotSet("pending", self.pending), SlotSet("options", self.options),
                SlotSet("question", self.question), SlotSet("failed_turns", 0)]


class Dialogue:
    """One turn: merge the message into the state, then answer or ask what is missing."""

    def __init__(self, kb: KnowledgeBase, state: ConversationState, request: Request):
        self.kb, self.state, self.request = kb, state, request
        self.composer = Composer(kb, MAX_REPLY_BYTES)

    def respond(self) -> tuple[list[Reply], list[EventType]]:
        replies = self._respond()
        return replies, self.state.events()

    def _merge(self) -> None:
        """Take what this message says over what the conversation knew."""
        state, request = self.state, self.request
        strong = [m for m in request.items if m.matched not in PERSON_LIKE_ALIASES]
        if strong or (request.items and state.item is None):
            new_item = (strong or request.items)[0].code
            if new_item != state.item:
                state.question = request.text
            state.item = new_item
        elif request.aspects or request.items:
            state.question = f"{state.question or ''} {request.text}"
        if request.region:
            state.region = request.region
        if request.person_type:
            state.person_type = request.person_type
        if request.aspects:
            state.aspects = request.aspects
        elif not state.aspects or request.intent not in ("inform", "affirm", "deny", "nlu_fallback"):
            state.aspects = ["overview"]

    def _respond(self) -> list[Reply]:
        state, request = self.state, self.request
        picked_entry = self._take_pending_answer()
        self._merge()
        if request.ambiguous_regions and not request.region:
            options = [f"{r.city}{r.name}" for r in request.ambiguous_regions]
            state.pending, state.options = "region", [r.id for r in request.ambiguous_regions]
            return [numbered(f"“{request.ambiguous_regions[0].name}”在多个城市都有，请问是哪一个？", options)]
        if state.region is None:
            state.pending, state.options = "region", []
            prefix = ""
            if request.destination is not None:
                prefix = f"“{request.destination.name}”是您要去的地方；医保业务向参保地申请。"
            return [Reply(prefix + REGION_QUESTION, REGION_BUTTONS)]
        if not state.region.covered:
            state.pending, state.options = None, []
            return [Reply(NOT_COVERED.format(place=state.region.name))]
        if state.item is None and set(state.aspects) <= {"phone", "supervision"}:
            return [Reply(handoff_text(self.kb, state.region, None, MAX_REPLY_BYTES))]
        if state.item is None:
            state.pending, state.options = "item", []
            return [Reply(ITEM_QUESTION, ITEM_BUTTONS)]
        return self._answer(picked_entry)

    def _take_pending_answer(self) -> str | None:
        """Apply the user's answer to what we asked last turn; returns a chosen entry key, if any."""
        state, request = self.state, self.request
        pending, options = state.pending, state.options
        state.pending, state.options = None, []
        if pending == "region" and options:
            choices = [self.kb.region(region_id) for region_id in options]
            index = pick_option(request.text, [r.city + r.name for r in choices])
            if index is None and request.region is not None:
                same_city = [i for i, r in enumerate(choices) if r.city == request.region.city]
                index = same_city[0] if len(same_city) == 1 else None
            if index is not None:
                state.region = choices[index]
                request.region = None
        if pending == "entry" and options and not [m for m in request.items if m.code not in options]:
            names = [self.kb.item_name(key) for key in options]
            index = pick_option(request.text, names)
            if index is None:
                region = request.region or state.region
                guide = self.kb.guide(state.item, region) if region and region.covered else None
                entries = [e for e in (guide.entries if guide else []) if e.key in options]
                if entries:
                    scores = entry_scores(self.kb, entries, request.text, request.person_type or state.person_type)
                    best = max(scores)
                    if best > 0 and scores.count(best) == 1:
                        return entries[scores.index(best)].key
            if index is not None:
                return options[index]
        return None

    def _answer(self, picked_entry: str | None) -> list[Reply]:
        state, request = self.state, self.request
        guide = self.kb.guide(picked_entry or state.item, state.region)
        if guide.absent:
            return [Reply(gap_reply_for_absent_item(guide, self.kb.item_name(state.item)))]
        words = f"{state.question or ''} {request.text}"
        entries = choose_entries(self.kb, guide, words, state.person_type)
        if len(entries) > 1 and not self._same_answer(guide, entries):
            state.pending, state.options = "entry", [e.key for e in entries]
            question = f"“{self.kb.item_name(state.item)}”在{guide.document.citation}中分为以下几项，请问您要办理哪一项？"
            return [numbered(question, [e.name for e in entries])]
        if picked_entry:
            state.item = picked_entry
        text = self.composer.render(guide, entries[0], state.aspects, state.person_type, request.wants_full_list,
                                    words)
        return [Reply(text)]

    def _same_answer(self, guide: Guide, entries: list[ItemGuide]) -> bool:
        """Several entries that would get the same answer need no question (e.g. 即时办结 for every 备案)."""
        rendered = {self.composer.render(guide, e, self.state.aspects, self.state.person_type, False, "")
                    .split("\n", 1)[1] for e in entries}
        return len(rendered) == 1
