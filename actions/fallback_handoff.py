"""Rasa's fallback and human hand-off: action_handoff (the phones of people to talk to), action_out_of_scope (a
polite decline) and action_fallback (low NLU confidence; the phones after failed turns). Each answers with the
answer dialogue instead when the message is a service question after all."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.compose import handoff_text
from actions.config import FAILED_TURNS_BEFORE_HANDOFF, MAX_REPLY_BYTES, knowledge_base
from actions.eligibility import FORM_NAME
from actions.answer_dialogue import answer_from_knowledge, slot_region
from actions.turn_record import reply_metadata
from actions.understanding import WORDS, Request, items_by_text, regions_in, understand
from knowledge.bot_texts import say
from knowledge.query import KnowledgeBase, Region


def _region(kb: KnowledgeBase, tracker: Tracker) -> Region | None:
    region, _, _ = regions_in(kb, tracker.latest_message.get("text") or "")
    return region or slot_region(kb, tracker)


def answer_instead(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Answer as action_answer does; an eligibility dialog it opens starts at once (its form runs next)."""
    events = answer_from_knowledge(dispatcher, tracker)
    tree = next((event["value"] for event in events if event.get("event") == "slot"
                 and event.get("name") == "eligibility_tree" and event.get("value")), None)
    return events + ([FollowupAction(FORM_NAME)] if tree else [])


def names_a_service(kb: KnowledgeBase, tracker: Tracker) -> bool:
    """The message names a service item, describes a situation an eligibility dialog starts from (去世, 生孩子 …)
    or answers the question the assistant just asked (and does not ask for a person)."""
    text = tracker.latest_message.get("text") or ""
    # only words that really ask for a person: a "handoff" or "out of scope" message naming a service item is
    # answered as a service question (NLU can mistake a long question for either)
    if any(word in text for word in WORDS.steering.human_words):
        return False
    if tracker.get_slot("asked_for") or describes_a_situation(kb, text) or kb.unanswered(text) is not None:
        return True
    request = understand(kb, tracker.latest_message)
    return bool(request.items) or about_an_item(kb, request)


def about_an_item(kb: KnowledgeBase, request: Request) -> bool:
    """The message is put within 医保 by its words (医保, 参保 …) and matches some item's own text."""
    return any(word in request.text for word in WORDS.scope_words) and \
        bool(items_by_text(kb, request.text, None, request.person_type))


def describes_a_situation(kb: KnowledgeBase, text: str) -> bool:
    """The words an eligibility dialog starts from (去世, 生孩子, 低保 …) are in the message."""
    return any(word in text for tree in kb.trees.values() for word in tree.start_words)


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        kb = knowledge_base()
        if names_a_service(kb, tracker):
            return answer_instead(dispatcher, tracker)
        region = _region(kb, tracker)
        dispatcher.utter_message(text=handoff_text(kb, region, tracker.get_slot("item"), MAX_REPLY_BYTES),
                                 **reply_metadata("handoff", [tracker.get_slot("item")]))
        return [SlotSet("region", region.id if region else tracker.get_slot("region")), SlotSet("failed_turns", 0)]


class ActionOutOfScope(Action):
    def name(self) -> str:
        return "action_out_of_scope"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if names_a_service(knowledge_base(), tracker):
            return answer_instead(dispatcher, tracker)
        dispatcher.utter_message(text=say("fallback_handoff.out_of_scope"), **reply_metadata("out_of_scope"))
        return []


class ActionFallback(Action):
    """Low NLU confidence: answer if the knowledge base recognises the question, else ask again; after two
    failed turns in a row, give the region's phones."""

    def name(self) -> str:
        return "action_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        kb = knowledge_base()
        request = understand(kb, tracker.latest_message)
        in_context = tracker.get_slot("item") and (request.aspects or request.region or tracker.get_slot("asked_for"))
        text = tracker.latest_message.get("text") or ""
        if request.items or in_context or describes_a_situation(kb, text) or kb.unanswered(text) is not None or \
                about_an_item(kb, request):
            return answer_instead(dispatcher, tracker)
        failed = int(tracker.get_slot("failed_turns") or 0) + 1
        if failed >= FAILED_TURNS_BEFORE_HANDOFF:
            dispatcher.utter_message(text=say("fallback_handoff.not_helped", handoff=handoff_text(
                kb, _region(kb, tracker), tracker.get_slot("item"), MAX_REPLY_BYTES)),
                                     **reply_metadata("fallback"))
            return [SlotSet("failed_turns", 0)]
        dispatcher.utter_message(text=say("fallback_handoff.fallback"), **reply_metadata("fallback"))
        return [SlotSet("failed_turns", failed)]
