"""Eligibility dialogs: one Rasa form, `eligibility_form`, walks the decision tree named by the slot
`eligibility_tree` (knowledge/data/eligibility.yml).

The form has one required slot, `eligibility_leaf`. What the user has told us lives in `eligibility_facts`
(question slot → option value); `validate_eligibility_form` reads each answer (free text, an option's
number, "不知道", a correction, "算了", "重新开始", or a fact question in between) and fills the leaf once the
facts reach one; `action_ask_eligibility_leaf` asks the next question of the tree; `action_eligibility_result`
gives the verdict with the materials, where, how and how long, for the user's region.
"""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.compose import Reply, handoff_text
from actions.config import FAILED_TURNS_BEFORE_HANDOFF, MAX_REPLY_BYTES, knowledge_base
from actions.answer_dialogue import ConversationState, Dialogue, numbered, slot_region
from actions.turn_record import reply_metadata
from actions.understanding import WORDS, read_facts, understand
from actions.verdict import verdict_text
from knowledge.bot_texts import say
from knowledge.query import KnowledgeBase
from knowledge.text import normalize
from knowledge.trees import Question, Tree
from knowledge.words import alternatives

# "算了" stops a dialog only as a message of its own (结算了 is an answer): at its start, or a longer phrase anywhere.
STOP = re.compile(f"^{alternatives(WORDS.steering.stop_starts)}|{alternatives(WORDS.steering.stop_anywhere)}")
STOPPED, UNCLEAR = "stopped", "unclear"
# Bytes kept free in a turn that answers a question in between, for the dialog's own question after it (WeChat
# sends one text per turn).
QUESTION_ROOM = 600
FORM_NAME = "eligibility_form"


def tree_for(kb: KnowledgeBase, tracker: Tracker) -> Tree | None:
    return kb.trees.get(tracker.get_slot("eligibility_tree") or "")


def question_reply(question: Question) -> Reply:
    return numbered(question.ask, [option.label for option in question.options])


class ValidateEligibilityForm(Action):
    """Reads the user's answers to the questions of the tree being walked."""

    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        kb = knowledge_base()
        tree = tree_for(kb, tracker)
        if tree is None:  # no tree (a stale form after a restart of the dialog): stop it politely
            return [SlotSet("eligibility_leaf", STOPPED)]
        facts = dict(tracker.get_slot("eligibility_facts") or {})
        if tracker.get_slot("requested_slot") is None:  # activation: the facts come from the opening question
            return self._settle(tree, facts, [])
        text = tracker.latest_message.get("text") or ""
        normalized = normalize(text)
        asked = tree.next_question(facts)
        if STOP.search(normalized):
            return [SlotSet("eligibility_facts", facts), SlotSet("eligibility_leaf", STOPPED)]
        if any(word in normalized for word in WORDS.steering.restart_words):
            dispatcher.utter_message(text=say("eligibility.restart"))
            return self._settle(tree, {}, [SlotSet("failed_turns", 0)])
        told = read_facts(tree, text, asked)
        request = understand(kb, tracker.latest_message)
        events: list[EventType] = []
        if request.region and request.region.id != tracker.get_slot("region"):
            events.append(SlotSet("region", request.region.id))
            if not told:
                dispatcher.utter_message(text=say("eligibility.region_rule", region=request.region.label))
                return self._settle(tree, facts, events)
        if told:
            facts.update(told)
            return self._settle(tree, facts, events + [SlotSet("failed_turns", 0)])
        if any(word in normalized for word in WORDS.steering.dont_know_words) and asked is not None:
            dispatcher.utter_message(text=asked.explain)
            return self._settle(tree, facts, events)
        if request.items or (request.aspects and request.intent.startswith("ask_")):
            self._answer_in_between(kb, tracker, request, dispatcher)
            return self._settle(tree, facts, events)
        failed = int(tracker.get_slot("failed_turns") or 0) + 1
        if failed >= FAILED_TURNS_BEFORE_HANDOFF:
            return [SlotSet("eligibility_facts", facts), SlotSet("eligibility_leaf", UNCLEAR),
                    SlotSet("failed_turns", 0)]
        dispatcher.utter_message(text=say("eligibility.not_understood"))
        return self._settle(tree, facts, events + [SlotSet("failed_turns", failed)])

    @staticmethod
    def _settle(tree: Tree, facts: dict[str, str], events: list[EventType]) -> list[EventType]:
        """Store the facts; fill the leaf when they reach one (or when no question is left)."""
        leaf = tree.leaf(facts)
        events = events + [SlotSet("eligibility_facts", facts)]
        if leaf is not None:
            events.append(SlotSet("eligibility_leaf", leaf.id))
        elif tree.next_question(facts) is None:
            events.append(SlotSet("eligibility_leaf", UNCLEAR))
        return events

    @staticmethod
    def _answer_in_between(kb: KnowledgeBase, tracker: Tracker, request: Any,
                           dispatcher: CollectingDispatcher) -> None:
        """A fact question in the middle of the dialog: answered when it names its item, then the form asks
        its question again."""
        if not request.items:
            dispatcher.utter_message(text=say("eligibility.waiting"))
            return
        state = ConversationState(slot_region(kb, tracker), None, [], tracker.get_slot("person_type"), None, [], None)
        replies, _ = Dialogue(kb, state, request, start_trees=False, limit=MAX_REPLY_BYTES - QUESTION_ROOM).respond()
        for reply in replies:
            dispatcher.utter_message(text=reply.text)
        dispatcher.utter_message(text=say("eligibility.resume"))


class ActionAskEligibilityLeaf(Action):
    """Asks the next question of the active tree, with numbered options."""

    def name(self) -> str:
        return "action_ask_eligibility_leaf"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        tree = tree_for(knowledge_base(), tracker)
        question = tree.next_question(dict(tracker.get_slot("eligibility_facts") or {})) if tree else None
        if question is not None:
            reply = question_reply(question)
            dispatcher.utter_message(text=reply.text, buttons=[{"title": b, "payload": b} for b in reply.buttons],
                                     **reply_metadata("clarify"))
        return []


class ActionEligibilityResult(Action):
    """The end of a dialog: the verdict for the leaf reached, or a polite stop."""

    def name(self) -> str:
        return "action_eligibility_result"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        kb = knowledge_base()
        tree = tree_for(kb, tracker)
        leaf_id = tracker.get_slot("eligibility_leaf")
        region = slot_region(kb, tracker)
        done = [SlotSet("eligibility_tree", None), SlotSet("eligibility_facts", {}), SlotSet("eligibility_leaf", None),
                SlotSet("requested_slot", None), SlotSet("asked_for", None), SlotSet("offered_options", [])]
        leaf = next((leaf for leaf in tree.leaves if leaf.id == leaf_id), None) if tree else None
        if leaf_id == STOPPED or tree is None:
            dispatcher.utter_message(text=say("eligibility.stopped"))
            return done
        if leaf is None or region is None:
            dispatcher.utter_message(text=say("eligibility.gave_up", handoff=handoff_text(kb, region, tree.item, MAX_REPLY_BYTES)))
            return done
        text, item = verdict_text(kb, tree, leaf, region, said=tracker.get_slot("user_question") or "")
        dispatcher.utter_message(text=text, **reply_metadata("verdict", [item or tree.item],
                                                             region.document if region.covered else None))
        return done + ([SlotSet("item", item)] if item else [])
