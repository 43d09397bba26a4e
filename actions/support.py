"""Hand-off to people, polite declines and the fallback after failed turns."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.compose import utf8_len
from actions.config import FAILED_TURNS_BEFORE_HANDOFF, MAX_REPLY_BYTES, knowledge_base
from actions.service import ActionAnswer
from actions.understanding import regions_in, understand
from knowledge.query import KnowledgeBase, Region

# The item whose phones a hand-off gives when the conversation names none: the first registration item,
# whose 查询 phones are each office's general line in the 衡阳 guide and whose offices every guide lists.
GENERAL_ITEM = "002036001001"
CAPABILITIES = ("我能回答医保经办事项的问题：要带什么材料、去哪里办、咨询和监督电话、办理时限、流程、能不能办、线上渠道和要填的表，"
                "例如异地就医备案、门诊慢特病认定、生育津贴、医疗费用报销、参保登记、个人账户支取、医保关系转移。")
OUT_OF_SCOPE = "抱歉，这个问题不属于医保（医疗保障）经办事项，我答不了。" + CAPABILITIES
FALLBACK = "抱歉，我没太明白。可以换个说法，说一下您要办的医保事项和参保地吗？例如：“长沙 生育津贴要什么材料”。"


def handoff_text(kb: KnowledgeBase, region: Region | None, item: str | None) -> str:
    """The 咨询 and 监督 phones for the user's region and item, or what the documents offer instead."""
    if region is None:
        return ("人工咨询请拨打参保地医保经办机构的电话。告诉我您的参保地（如“耒阳”“长沙望城区”）和事项，我可以查到对应的咨询电话和监督电话。")
    if not region.covered:
        return f"“{region.name}”不在我的资料范围内，请联系当地医保经办机构。"
    guide = kb.guide(item or GENERAL_ITEM, region)
    query = list(dict.fromkeys(f"{p.text}{'（' + p.extra['qualifier'] + '）' if p.extra.get('qualifier') else ''}"
                               for e in guide.entries for p in e.phones if p.extra["kind"] in ("查询", "办理")))
    supervision = list(dict.fromkeys(p.text for e in guide.entries for p in e.phones if p.extra["kind"] == "监督"))
    lines = [f"需要人工帮助的话，可以联系{region.label}的医保经办机构："]
    if query:
        lines.append("咨询电话：" + "；".join(query))
    if supervision:
        lines.append("监督电话：" + "；".join(supervision))
    if not query and not supervision:
        lines += [gap.statement for gap in guide.gaps if {"phone", "supervision"} & set(gap.aspects)][:1]
        channels = list(dict.fromkeys(c.text for e in guide.entries for c in e.online_channels))
        if channels:
            lines.append("可通过以下渠道咨询办理：" + "；".join(channels))
    lines.append(f"来源：{guide.document.citation}")
    text = "\n".join(lines)
    return text if utf8_len(text) <= MAX_REPLY_BYTES else text[: MAX_REPLY_BYTES // 3]


def _region(kb: KnowledgeBase, tracker: Tracker) -> Region | None:
    region, _, _ = regions_in(kb, tracker.latest_message.get("text") or "")
    if region is None and tracker.get_slot("region"):
        try:
            region = kb.region(tracker.get_slot("region"))
        except KeyError:
            region = None
    return region


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        kb = knowledge_base()
        region = _region(kb, tracker)
        dispatcher.utter_message(text=handoff_text(kb, region, tracker.get_slot("item")))
        return [SlotSet("region", region.id if region else tracker.get_slot("region")), SlotSet("failed_turns", 0)]


class ActionOutOfScope(Action):
    def name(self) -> str:
        return "action_out_of_scope"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=OUT_OF_SCOPE)
        return []


class ActionFallback(Action):
    """Low NLU confidence: answer if the knowledge base recognises the question, else ask again; after two
    failed turns in a row, give the region's phones."""

    def name(self) -> str:
        return "action_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        kb = knowledge_base()
        request = understand(kb, tracker.latest_message)
        in_context = tracker.get_slot("item") and (request.aspects or request.region or tracker.get_slot("pending"))
        if request.items or in_context:
            return ActionAnswer().run(dispatcher, tracker, domain)
        failed = int(tracker.get_slot("failed_turns") or 0) + 1
        if failed >= FAILED_TURNS_BEFORE_HANDOFF:
            dispatcher.utter_message(text="看来我没能帮上忙。" + handoff_text(kb, _region(kb, tracker),
                                                                        tracker.get_slot("item")))
            return [SlotSet("failed_turns", 0)]
        dispatcher.utter_message(text=FALLBACK)
        return [SlotSet("failed_turns", failed)]
