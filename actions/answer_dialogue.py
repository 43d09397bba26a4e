"""action_answer and its dialogue: a service question answered from the knowledge base for the user's item and
region, or the question that must come first (which region, which item, which entry)."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.compose import Composer, Reply, absent_item_statement, gap_reply_for_absent_item, handoff_text
from actions.config import MAX_REPLY_BYTES, knowledge_base
from actions.entries import choose_by_cues, choose_entries, entry_scores
from actions.turn_record import reply_metadata
from actions.understanding import (PERSON_LIKE_ALIASES, RANK_CLOSE, RANK_MINIMUM, WEAKLY_NAMED, WORDS, Request,
                                   aspects_in, close_candidates, content_bigrams, items_by_text, mentions, pick_option,
                                   read_facts, understand)
from actions.verdict import verdict_text
from knowledge.bot_texts import choices, say
from knowledge.codes import catalogue_code, is_main, main_of, same_family
from knowledge.query import Guide, GuideEntry, KnowledgeBase, Region, Unanswered
from knowledge.text import normalize

# The questions a dialog answers ("how do I", "which one", "can I", "what to bring"); a message whose words ask for
# phones, addresses, time limits … is answered at once.
TREE_ASPECTS = {"overview", "materials", "eligibility", "process", "amount"}
# The slots ConversationState reads and writes.
STATE_SLOTS = ("region", "item", "aspects", "person_type", "asked_for", "offered_options", "user_question",
               "failed_turns")
# Up to this many entries of an item the message may mean are answered side by side instead of asked about.
ENTRIES_ANSWERED_TOGETHER = 3


def numbered(question: str, options: list[str]) -> Reply:
    """A question with options; the options are also numbered in the text so a digit answers (WeChat)."""
    lines = [question] + [f"{i}. {option}" for i, option in enumerate(options, 1)]
    return Reply("\n".join(lines + [say("answer_dialogue.reply_by_number")]), options)


class ActionAnswer(Action):
    def name(self) -> str:
        return "action_answer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        return answer_from_knowledge(dispatcher, tracker)


def answer_from_knowledge(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The latest message answered from the knowledge base (or the question that must come first): the replies
    sent, the slot events returned. action_answer does this, and the fallback and hand-off actions for a service
    question."""
    kb = knowledge_base()
    request = understand(kb, tracker.latest_message)
    state = ConversationState.from_tracker(kb, tracker)
    dialogue = Dialogue(kb, state, request)
    replies, events = dialogue.respond()
    for reply in replies:
        dispatcher.utter_message(text=reply.text,
                                 buttons=[{"title": b, "payload": b} for b in reply.buttons] or None,
                                 **dialogue.reply_metadata())
    return events


def slot_region(kb: KnowledgeBase, tracker: Tracker) -> Region | None:
    """The region the conversation remembers (None if none, or if the knowledge base no longer knows it)."""
    try:
        return kb.region(tracker.get_slot("region")) if tracker.get_slot("region") else None
    except KeyError:
        return None


class ConversationState:
    """The slots this action reads and writes."""

    def __init__(self, region: Region | None, item: str | None, aspects: list[str], person_type: str | None,
                 asked_for: str | None, offered_options: list[str], user_question: str | None,
                 stored: dict[str, Any] | None = None):
        self.region, self.item, self.aspects = region, item, aspects
        self.person_type = person_type
        # our own open question: what we asked for ("region", "item", "entry") and the options we offered
        self.asked_for, self.offered_options = asked_for, offered_options
        self.user_question = user_question  # the user's words of the service question, kept to choose among sub-items
        self.stored = stored or {}  # the slots' values in the conversation before this turn

    @classmethod
    def from_tracker(cls, kb: KnowledgeBase, tracker: Tracker) -> ConversationState:
        stored = {name: tracker.get_slot(name) for name in STATE_SLOTS}
        return cls(slot_region(kb, tracker), stored["item"], stored["aspects"] or [], stored["person_type"],
                   stored["asked_for"], stored["offered_options"] or [], stored["user_question"], stored)

    def values(self) -> dict[str, Any]:
        return {"region": self.region.id if self.region else None, "item": self.item, "aspects": self.aspects,
                "person_type": self.person_type, "asked_for": self.asked_for,
                "offered_options": self.offered_options, "user_question": self.user_question, "failed_turns": 0}

    def events(self) -> list[EventType]:
        """A SlotSet for each slot whose value this turn changed: setting a slot to the value it has changes
        nothing, and each event costs Rasa a check, a row in the tracker store and a replay on every later turn."""
        return [SlotSet(name, value) for name, value in self.values().items()
                if name not in self.stored or value != self.stored[name]]


class Dialogue:
    """One turn: merge the message into the state, then answer or ask what is missing."""

    def __init__(self, kb: KnowledgeBase, state: ConversationState, request: Request, start_trees: bool = True,
                 limit: int = MAX_REPLY_BYTES):
        self.kb, self.state, self.request = kb, state, request
        self.composer = Composer(kb, limit)
        self.start_trees = start_trees  # False inside an eligibility dialog
        self.tree_events: list[EventType] = []
        self.verdict = False  # the words reached a leaf of an eligibility tree: the reply is its verdict
        self.not_understood = False  # the message asks nothing the assistant can act on yet

    def respond(self) -> tuple[list[Reply], list[EventType]]:
        replies = self._respond()
        return replies, self.state.events() + self.tree_events

    def reply_metadata(self) -> dict[str, Any]:
        """What the operations console records of this turn's reply (actions/turn_record.py)."""
        state = self.state
        if self.not_understood:
            return reply_metadata("fallback")
        if state.asked_for:
            return reply_metadata("clarify", menu=state.asked_for == "item" and not state.offered_options)
        document = state.region.document if state.region is not None and state.region.covered else None
        return reply_metadata("verdict" if self.verdict else "answer", [state.item] if state.item else [], document)

    def _merge(self, answers_our_question: bool) -> None:
        """Take what this message says over what the conversation knew; an answer to our question (长沙天心区的 电话也
        给一个) adds its aspects to those of the question it completes."""
        state, request = self.state, self.request
        asked_before = list(state.aspects) if answers_our_question else []
        previous_item = state.item
        strong = [m for m in request.items if m.matched not in PERSON_LIKE_ALIASES]
        if any(word in request.text for word in WORDS.which_words) and self._tree_situation_named():
            strong = [m for m in strong if m.kind != "situation"]  # "which benefit is mine": the dialog settles it
        if self._situation_of_another_dialog():
            state.item, state.user_question = None, request.text
        elif strong or (request.items and state.item is None and request.destination is None
                        and not self._tree_situation_named()):
            new_item = (strong or request.items)[0].code
            if new_item != state.item:
                state.user_question = request.text
            state.item = new_item
        elif request.aspects or request.items:
            state.user_question = f"{state.user_question or ''} {request.text}"
        if request.region:
            state.region = request.region
        if request.person_type:
            state.person_type = request.person_type
        if request.aspects:
            kept = [a for a in asked_before if a != "overview"] if state.item == previous_item else []
            state.aspects = list(dict.fromkeys(kept + request.aspects))
        elif not state.aspects or request.intent not in ("inform", "affirm", "deny", "nlu_fallback"):
            state.aspects = ["overview"]

    def _respond(self) -> list[Reply]:
        state, request = self.state, self.request
        answers_our_question = state.asked_for is not None
        if not answers_our_question and self._asks_nothing_yet():
            self.not_understood = True
            return [Reply(say("fallback_handoff.fallback"))]
        picked_entry = self._take_answer_to_our_question()
        asked_before = state.user_question if request.region and not request.items and not request.aspects else None
        self._merge(answers_our_question)
        topic = self.kb.unanswered(request.text) or (self.kb.unanswered(asked_before) if asked_before else None)
        answering = self._answering_item(topic) if topic is not None else None
        if answering is not None:
            state.item, state.user_question, topic = answering, request.text, None
        strong = [m.code for m in request.items if m.kind == "name" and m.matched not in PERSON_LIKE_ALIASES]
        if topic is not None and (topic.refuse or not strong or all(self._near(code, topic) for code in strong)
                                  or set(request.aspects) <= {"overview"}):  # the item is only the topic's subject
            state.asked_for, state.offered_options, state.item = None, [], None
            state.user_question = asked_before or request.text  # a place said next answers this question again
            return [Reply(self._unanswered_text(topic))]
        replies = self._respond_for_item(picked_entry)
        prefix = [topic.statement] if topic is not None else []
        if request.other_topic is not None:
            prefix.append(say("answer_dialogue.other_topic", topic=request.other_topic))
        if prefix and replies and not replies[0].buttons:
            replies[0] = Reply("\n".join(prefix + [replies[0].text]))
        elif prefix:  # before a question (a dialog's or ours), said on its own
            replies.insert(0, Reply("\n".join(prefix)))
        return replies

    def _answering_item(self, topic: Unanswered) -> str | None:
        """The item of the user's document that answers a topic most documents do not (长沙's 账户信息查询)."""
        region = self.request.region or self.state.region
        if region is None or not region.covered or topic.refuse:
            return None
        return next((code for code in topic.answered_in if not self.kb.guide(code, region).absent), None)

    @staticmethod
    def _near(code: str, topic: Unanswered) -> bool:
        """An item the topic names as nearest, or their 主项."""
        return any(code in (near, main_of(near)) for near in topic.nearest)

    def _unanswered_text(self, topic: Unanswered) -> str:
        """What the documents do not say, the nearest items they do have, and the region's phones if known."""
        lines = [topic.statement]
        region = self.request.region or self.state.region
        document = region.document if region is not None and region.covered else None
        nearest = [code for code in topic.nearest
                   if document is None or not self.kb.guide(code, region).absent]
        if nearest and not topic.refuse:
            names = "、".join(f"“{self.kb.item_name(code)}”" for code in nearest[:2])
            lines.append(say("answer_dialogue.closest_item", names=names))
        if region is None:
            lines.append(say("answer_dialogue.region_for_phone"))
            return "\n".join(lines)
        return "\n".join(lines) + "\n" + handoff_text(self.kb, region, None, MAX_REPLY_BYTES - 600)

    def _respond_for_item(self, picked_entry: str | None) -> list[Reply]:
        state, request = self.state, self.request
        if request.ambiguous_regions and not request.region:
            options = [f"{r.city}{r.name}" for r in request.ambiguous_regions]
            state.asked_for, state.offered_options = "region", [r.id for r in request.ambiguous_regions]
            return [numbered(say("answer_dialogue.ambiguous_region", place=request.ambiguous_regions[0].name), options)]
        if state.region is None and state.item is not None and request.destination is None:
            state.region = self.kb.home_region(state.item)  # only 长沙 has 0731-3 (多划个人账户退回)
        if state.region is None:
            state.asked_for, state.offered_options = "region", []
            prefix = ""
            if request.destination is not None:
                prefix = say("answer_dialogue.destination", place=request.destination.name)
            return [Reply(prefix + say("answer_dialogue.region_question"), choices("answer_dialogue.region_buttons"))]
        if not state.region.covered:
            state.asked_for, state.offered_options = None, []
            return [Reply(say("answer_dialogue.not_covered", place=state.region.name))]
        if state.item is None and state.aspects and set(state.aspects) <= {"phone", "supervision", "office"}:
            return [Reply(handoff_text(self.kb, state.region, None, MAX_REPLY_BYTES))]
        national = catalogue_code(state.item or "")
        if state.item is not None and national != state.item and national in self.kb.catalogue \
                and self.kb.guide(state.item, state.region).absent:
            state.item = national  # a 长沙 sub-item asked elsewhere: that region's national item
        candidates = self._ranked_by_text() if state.item is None else []
        if len(candidates) == 1 and not self._tree_situation_named():
            state.item, state.user_question = candidates[0], request.text
        opened = self._open_tree(picked_entry)
        if opened is not None:
            return opened
        if state.item is None and len(candidates) == 1:
            state.item, state.user_question = candidates[0], request.text
        if state.item is None and candidates:
            state.asked_for, state.offered_options = "item", candidates
            return [numbered(say("answer_dialogue.which_item"), [self.kb.item_name(code) for code in candidates])]
        if state.item is None:
            state.asked_for, state.offered_options = "item", []
            return [Reply(say("answer_dialogue.item_question"), choices("answer_dialogue.item_buttons"))]
        return self._answer(picked_entry)

    def _asks_nothing_yet(self) -> bool:
        """A message with no item, situation, place, aspect word or topic of its own, in a conversation with no
        item (我有个事情想请教一下): whatever intent the NLU gave it, no question to it could change an answer."""
        request, text = self.request, self.request.text
        return self.state.item is None and not request.items and request.region is None \
            and not request.ambiguous_regions and request.destination is None and not aspects_in(text, "") \
            and not self._tree_situation_named() and self.kb.unanswered(text) is None \
            and not items_by_text(self.kb, text, None, request.person_type)

    def _ranked_by_text(self) -> list[str]:
        """No item named: the region's items ranked by their own text; one code when the first is clear, the
        close ones when it is not, none when nothing matches."""
        ranked = items_by_text(self.kb, self.request.text, self.state.region.document, self.state.person_type)
        weakly_named = {match.code for match in self.request.items}
        for match in ranked:  # 门诊 打吊针 … 回来怎么报: the outpatient item, though the trip reads like 住院
            if match.code in weakly_named:
                match.score *= WEAKLY_NAMED
        return [match.code for match in close_candidates(sorted(ranked, key=lambda m: -m.score))]

    def _situation_of_another_dialog(self) -> bool:
        """This message's item comes only from a described situation (住院 … 报销) while it names the person's
        status that a dialog about another item starts from (低保户): the status decides, so the dialog leads."""
        items = self.request.items
        if not items or items[0].kind != "situation":
            return False
        normalized = normalize(self.request.text).lower()
        return any(tree.status and tree.item is not None and not same_family(tree.item, items[0].code) and
                   any(mentions(normalized, word) for word in tree.start_words) for tree in self.kb.trees.values())

    def _tree_situation_named(self) -> bool:
        """The message names the situation an eligibility dialog starts from in that dialog's own words."""
        normalized = normalize(self.request.text).lower()
        return any(mentions(normalized, word) for tree in self.kb.trees.values() for word in tree.start_words
)

    def _open_tree(self, picked_entry: str | None) -> list[Reply] | None:
        """An eligibility tree this question opens: its item named without a sub-item the words settle, a sub-item
        asked "能不能" with the facts for a verdict, or no item but a situation the tree starts from (生孩子, 去世 …).
        If the words already reach a leaf, the verdict; else the tree and its facts are set and its form asks the
        rest (no reply here). None: no tree, answer as usual."""
        state = self.state
        if not self.start_trees or picked_entry or set(aspects_in(self.request.text, "")) - TREE_ASPECTS:
            return None
        words = f"{state.user_question or ''} {self.request.text}"
        normalized = normalize(words).lower()
        asks_eligibility = bool({"eligibility", "conditions"} & set(state.aspects))
        situations, related = [], []
        for tree in self.kb.trees.values():
            moving_away = tree.id == "remote_care" and self.request.destination is not None  # 想去深圳跟我住
            if (state.item is None or (tree.item is None and state.item.startswith("0020360010"))) and \
                    (moving_away or any(mentions(normalized, word) for word in tree.start_words)):
                situations.append(tree)
            elif tree.item is not None and state.item is not None and (
                    catalogue_code(state.item) == tree.item
                    or (is_main(tree.item) and same_family(state.item, tree.item))):
                related.append(tree)
        for tree in situations + related:
            facts = read_facts(tree, words, None)
            leaf = tree.leaf(facts)
            # An item asked "能不能" gets the verdict when the tree decides between it and others (异地安置 → 户口没迁:
            # 异地长期居住); not when the tree only borders on it (变更登记 is none of 参保登记's outcomes).
            own_leaf = leaf is not None and asks_eligibility and state.item in {
                item for each in tree.leaves for item in (each.item, *each.item_in.values())}
            if leaf is not None and (tree in situations or catalogue_code(state.item or "") == tree.item or own_leaf):
                text, item = verdict_text(self.kb, tree, leaf, state.region, state.aspects, words,
                                          asked_item=state.item if state.item != tree.item else None)
                state.item, state.asked_for, state.offered_options = item or tree.item, None, []
                self.verdict = True
                return [Reply(text)]
            if tree in related and not self._entries_unsettled(state.item, words, named=state.item == tree.item):
                return None
            state.item, state.asked_for, state.offered_options = tree.item, None, []
            self.tree_events = [SlotSet("eligibility_tree", tree.id), SlotSet("eligibility_facts", facts),
                                SlotSet("eligibility_leaf", None)]
            return []
        return None

    def _without_item_names(self, words: str) -> str:
        """The words without the name the user typed for the item asked about: 异地就医备案 names the 主项, its
        就医 is no cue, and 慢特病和特药 says neither which one."""
        for match in self.request.items:
            if match.code == self.state.item:
                words = words.replace(match.matched, " ")
        return words

    def _entries_unsettled(self, item: str, words: str, named: bool) -> bool:
        """The item's guide for the region has several entries that answer differently, and the words do not
        choose one (for a 主项 `named` as such, only its cue words choose: a stray word of an entry's name does not)."""
        guide = self.kb.guide(item, self.state.region)
        entries = choose_by_cues(self.kb, guide.entries, self._without_item_names(words)) if named else \
            choose_entries(self.kb, guide, words, self.state.person_type)
        if len(entries) > 1 and not named:
            entries = self._clearly_ranked(guide, entries, words)
        if not named and len(entries) <= ENTRIES_ANSWERED_TOGETHER:
            return False  # a few entries of a 子项 are answered side by side, not asked about
        return len(entries) > 1 and not self._same_answer(guide, entries)

    def _take_answer_to_our_question(self) -> str | None:
        """Apply the user's answer to what we asked last turn; returns a chosen entry key, if any."""
        state, request = self.state, self.request
        asked_for, offered = state.asked_for, state.offered_options
        state.asked_for, state.offered_options = None, []
        if asked_for == "region" and offered:
            choices = [self.kb.region(region_id) for region_id in offered]
            index = pick_option(request.text, [r.city + r.name for r in choices])
            if index is None and request.region is not None:
                same_city = [i for i, r in enumerate(choices) if r.city == request.region.city]
                index = same_city[0] if len(same_city) == 1 else None
            if index is not None:
                state.region = choices[index]
                request.region = None
        if asked_for == "item" and offered and not request.items:
            index = pick_option(request.text, [self.kb.item_name(code) for code in offered])
            if index is not None:
                state.item = offered[index]
        if asked_for == "entry" and offered and not [m for m in request.items if m.code not in offered]:
            names = [self.kb.item_name(key) for key in offered]
            index = pick_option(request.text, names)
            if index is None:
                region = request.region or state.region
                guide = self.kb.guide(state.item, region) if region and region.covered else None
                entries = [e for e in (guide.entries if guide else []) if e.key in offered]
                if entries:
                    scores = entry_scores(self.kb, entries, request.text, request.person_type or state.person_type)
                    best = max(scores)
                    if best > 0 and scores.count(best) == 1:
                        return entries[scores.index(best)].key
            if index is not None:
                return offered[index]
        return None

    def _answer(self, picked_entry: str | None) -> list[Reply]:
        state, request = self.state, self.request
        guide = self.kb.guide(picked_entry or state.item, state.region)
        words = f"{state.user_question or ''} {request.text}"
        if guide.absent:
            return [Reply(self._nearest_instead(guide, words))]
        entries = choose_entries(self.kb, guide, words, state.person_type)
        if len(entries) > 1:
            entries = self._clearly_ranked(guide, entries, words)
        if 1 < len(entries) <= ENTRIES_ANSWERED_TOGETHER and not self._same_answer(guide, entries):
            return [Reply(self.composer.render_several(guide, entries, self.kb.item_name(state.item), state.aspects,
                                                       state.person_type, words))]
        if len(entries) > 1 and not self._same_answer(guide, entries):
            state.asked_for, state.offered_options = "entry", [e.key for e in entries]
            question = say("answer_dialogue.which_sub_item", item=self.kb.item_name(state.item),
                           citation=guide.document.citation)
            return [numbered(question, [e.name for e in entries])]
        if picked_entry:
            state.item = picked_entry
        text = self.composer.render(guide, entries[0], state.aspects, state.person_type, request.wants_full_list,
                                    words)
        return [Reply(text)]

    def _nearest_instead(self, guide: Guide, words: str) -> str:
        """The serving document has no such item: say so, and answer its item the question's words clearly point
        to, if there is one (the 2025 list's 职工减少登记 for 退休人员死亡停保)."""
        name = self.kb.item_name(self.state.item)
        ranked = [m for m in items_by_text(self.kb, words, guide.document.id, self.state.person_type)
                  if same_family(m.code, self.state.item)]
        clear = close_candidates(ranked)
        if len(clear) != 1:
            return gap_reply_for_absent_item(guide, name)
        nearest = self.kb.guide(clear[0].code, self.state.region)
        entries = self._clearly_ranked(nearest, choose_entries(self.kb, nearest, words, self.state.person_type), words)
        if not 1 <= len(entries) <= ENTRIES_ANSWERED_TOGETHER:
            return gap_reply_for_absent_item(guide, name)
        self.state.item = clear[0].code
        answer = self.composer.render(nearest, entries[0], self.state.aspects, self.state.person_type, False, words) \
            if len(entries) == 1 else self.composer.render_several(nearest, entries, clear[0].name, self.state.aspects,
                                                                   self.state.person_type, words)
        return say("answer_dialogue.nearest_item", statement=absent_item_statement(guide, name), answer=answer)

    def _clearly_ranked(self, guide: Guide, entries: list[GuideEntry], words: str) -> list[GuideEntry]:
        """The one entry whose own text the message matches clearly best (诊所 → 医疗机构申请定点), else all."""
        if len(entries) < 2:
            return entries
        scores = self.kb.rank_entries(content_bigrams(self.kb, words), guide.document.id, [e.key for e in entries])
        ranked = sorted(entries, key=lambda e: -scores[e.key])
        top, second = scores[ranked[0].key], scores[ranked[1].key]
        return [ranked[0]] if top >= RANK_MINIMUM and second < RANK_CLOSE * top else entries

    def _same_answer(self, guide: Guide, entries: list[GuideEntry]) -> bool:
        """Several entries that would get the same answer need no question (e.g. 即时办结 for every 备案)."""
        rendered = {self.composer.render(guide, e, self.state.aspects, self.state.person_type, False, "")
                    .split("\n", 1)[1] for e in entries}
        return len(rendered) == 1
