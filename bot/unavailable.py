"""What the channels say when the assistant cannot answer a turn (the action server is down or failed): that it
cannot look this up now, and the phones of the user's region from the knowledge base — never an invented number.

Used in the Rasa server by every channel (bot/channels/turns.py) and by the web API (bot/web/api.py); no Rasa
imports here. The region is the place the message names, else the conversation's `region` slot; the item likewise.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from actions.compose import handoff_text
from actions.config import MAX_REPLY_BYTES
from actions.understanding import understand
from knowledge.bot_texts import say
from knowledge.query import KnowledgeBase, KnowledgeBaseError, Region, open_knowledge_base

logger = logging.getLogger(__name__)

CANNOT_LOOK_UP = say("unavailable.cannot_look_up")


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase | None:
    """The knowledge base (KNOWLEDGE_DB), opened once; None if it cannot be opened (the reply then has no phones)."""
    try:
        return open_knowledge_base()
    except KnowledgeBaseError as error:
        logger.warning("the knowledge base cannot be opened, replies without phones: %s", error)
        return None


def _region(kb: KnowledgeBase, text: str, slots: Mapping[str, Any]) -> Region | None:
    named = understand(kb, {"text": text}).region
    if named is not None:
        return named
    region_id = slots.get("region")
    if isinstance(region_id, str):
        try:
            return kb.region(region_id)
        except KeyError:
            return None
    return None


def _item(kb: KnowledgeBase, text: str, slots: Mapping[str, Any]) -> str | None:
    named = understand(kb, {"text": text}).items
    if named:
        return named[0].code
    item = slots.get("item")
    return item if isinstance(item, str) and item else None


def unavailable_reply(text: str, slots: Mapping[str, Any] | None = None, kb: KnowledgeBase | None = None) -> str:
    """The reply for a turn the assistant could not answer: an apology and whom to call, from the documents."""
    kb = kb or knowledge_base()
    if kb is None:
        return CANNOT_LOOK_UP + say("unavailable.no_knowledge")
    slots = slots or {}
    try:
        region = _region(kb, text, slots)
        item = _item(kb, text, slots) if region is not None and region.covered else None
    except Exception:  # the fallback must answer whatever the text or slots hold
        logger.exception("unavailable reply: reading region and item failed")
        region, item = None, None
    for attempt in ((region, item), (region, None), (None, None)):
        try:
            return CANNOT_LOOK_UP + handoff_text(kb, attempt[0], attempt[1], MAX_REPLY_BYTES
                                                 - len(CANNOT_LOOK_UP.encode()))
        except Exception:  # e.g. a slot item the serving document does not know: try with less
            logger.exception("unavailable reply: phones for %s / %s failed", *attempt)
    return CANNOT_LOOK_UP + say("unavailable.no_knowledge")
