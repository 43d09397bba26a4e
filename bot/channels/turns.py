"""One turn of the bot for our input channels (REST and WeChat): the text cleaned and masked, the bot asked, and
a reply whatever happens.

- Control characters become spaces; an empty message gets a prompt (the bot is not asked).
- Personal data (身份证号, phone numbers) is masked before Rasa sees the text (bot/privacy.py), so the tracker
  store, the NLU, the action server and the logs only hold the masked text (`mask_personal_data`, default on).
- A message over MAX_MESSAGE_CHARS is not given to the NLU: the reply says it is too long; the (masked) message
  is still recorded in the conversation's tracker, with that reply.
- 「有用」「没用」「答错了」 (feedback.yml) right after an answer are feedback on it (`feedback()`): recorded in the
  conversation's tracker as a user event with `feedback` metadata and thanked, never asked of the bot.
- A turn the bot answers with nothing (the action server is down or failed, the tracker store raised …) gets
  bot/unavailable.py's reply: that the assistant cannot look it up now, and the region's phones from the
  knowledge base. The action server's /health is probed only to name the cause in the log.
Also the channels' common Blueprint (`webhook_blueprint`: Rasa's health route).
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.limits import MAX_MESSAGE_CHARS
from bot.privacy import Masker, install_log_masking
from bot.unavailable import knowledge_base, unavailable_reply
from knowledge.bot_texts import say

logger = logging.getLogger(__name__)

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # tab and line feed stay
TRUE_WORDS = {"1", "true", "yes", "on"}
HEALTH_TIMEOUT = aiohttp.ClientTimeout(total=2)

FEEDBACK = yaml.safe_load((Path(__file__).parent / "feedback.yml").read_text(encoding="utf-8"))
RATED_KINDS = ("answer", "verdict")  # the replies feedback is about (actions/turn_record.py)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass(frozen=True)
class TurnSettings:
    """Settings shared by our channels: credentials.yml key `mask_personal_data` (else MASK_PERSONAL_DATA)."""

    mask_personal_data: bool = True

    @classmethod
    def load(cls, credentials: Mapping[str, Any] | None, environ: Mapping[str, str] = os.environ) -> TurnSettings:
        value = (credentials or {}).get("mask_personal_data")
        if value is None or value == "":
            value = environ.get("MASK_PERSONAL_DATA", "true")
        return cls(mask_personal_data=str(value).strip().lower() in TRUE_WORDS)


def webhook_blueprint(name: str) -> Blueprint:
    """A channel's Blueprint with the health route every Rasa channel has: GET / → {"status": "ok"}."""
    webhook = Blueprint(name)

    @webhook.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    return webhook


def make_masker() -> Masker:
    """A masker that leaves the knowledge base's own published phone numbers alone."""
    kb = knowledge_base()
    return Masker(kb.phone_numbers() if kb is not None else ())


class Turns:
    """Asks the bot for one turn on behalf of a channel; see the module's docstring."""

    def __init__(self, settings: TurnSettings = TurnSettings(), masker: Masker | None = None) -> None:
        self.settings = settings
        self.masker = (masker or make_masker()) if settings.mask_personal_data else None
        if self.masker is not None:
            install_log_masking(self.masker)

    def clean(self, text: str) -> str:
        """The text as the bot and the tracker store get it: no control characters, personal data masked."""
        text = CONTROL.sub(" ", text).strip()
        return self.masker.mask(text) if self.masker is not None else text

    async def ask(self, on_new_message: OnNewMessage, agent: Any, sender: str, text: str, input_channel: str,
                  metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The bot's messages for one user message; never empty."""
        text = self.clean(text)
        if not text:
            return [{"recipient_id": sender,
                     "text": say("channels.empty_message", example=say("channels.example_question"))}]
        if len(text) > MAX_MESSAGE_CHARS:
            reply = say("channels.too_long", length=len(text), limit=MAX_MESSAGE_CHARS,
                        example=say("channels.example_question"))
            await record_unprocessed(agent, sender, text, reply, input_channel, metadata)
            return [{"recipient_id": sender, "text": reply}]
        collector = CollectingOutputChannel()
        try:
            await on_new_message(UserMessage(text, collector, sender, input_channel=input_channel,
                                             metadata=metadata))
        except Exception:  # the user still gets an answer below; the masked text only goes to the log
            logger.exception("%s: the bot failed on a message from %s: %r", input_channel, sender, text)
        if collector.messages:
            return collector.messages
        cause = await action_server_problem(agent)
        logger.error("%s: no reply to a message from %s (%s); answered with the hotline numbers",
                     input_channel, sender, cause or "the action server answers its health check")
        slots = await conversation_slots(agent, sender)
        return [{"recipient_id": sender, "text": unavailable_reply(text, slots)}]


async def feedback(agent: Any, sender: str, text: str, input_channel: str) -> list[dict[str, Any]] | None:
    """The thanks for a rating word sent right after an answer, recorded in the tracker; None when the text is no
    rating word or the conversation's last reply was no answer (then it is an ordinary message)."""
    rating = FEEDBACK["ratings"].get(text.strip())
    processor, lock_store = getattr(agent, "processor", None), getattr(agent, "lock_store", None)
    if rating is None or processor is None or lock_store is None:
        return None
    async with lock_store.lock(sender):
        tracker = await processor.tracker_store.retrieve(sender)
        last = next((event for event in reversed(tracker.events) if isinstance(event, BotUttered)), None) \
            if tracker is not None else None
        if last is None or ((last.metadata or {}).get("reply") or {}).get("kind") not in RATED_KINDS:
            return None
        thanks = FEEDBACK["thanks"][rating]
        intent = {"name": "feedback", "confidence": 1.0}
        tracker.update(UserUttered(text.strip(), intent, [], {"text": text.strip(), "intent": intent, "entities": []},
                                   input_channel=input_channel, metadata={"feedback": rating}))
        tracker.update(BotUttered(thanks, metadata={"feedback_thanks": rating}))
        tracker.update(ActionExecuted("action_listen"))
        await processor.save_tracker(tracker)
    return [{"recipient_id": sender, "text": thanks}]


async def action_server_problem(agent: Any) -> str | None:
    """Why the action server cannot be used (unreachable, unhealthy), or None when its /health answers."""
    endpoint = getattr(agent, "action_endpoint", None)
    url = getattr(endpoint, "url", None)
    if not url:
        return "no action server is configured"
    health = re.sub(r"/webhook/?$", "", url.rstrip("/")) + "/health"
    try:
        async with aiohttp.ClientSession(timeout=HEALTH_TIMEOUT) as session:
            async with session.get(health) as response:
                return None if response.status == 200 else f"the action server's {health} answered {response.status}"
    except Exception as error:  # refused, timed out, DNS …: all mean the same to the user
        return f"the action server at {health} is unreachable ({type(error).__name__})"


async def conversation_slots(agent: Any, sender: str) -> dict[str, Any]:
    """The conversation's slots from the tracker store (empty if it cannot be read)."""
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return {}
    try:
        tracker = await store.retrieve(sender)
    except Exception:
        logger.exception("cannot read the tracker of %s", sender)
        return {}
    return tracker.current_slot_values() if tracker is not None else {}


async def record_unprocessed(agent: Any, sender: str, text: str, reply: str, input_channel: str,
                             metadata: dict[str, Any] | None) -> None:
    """Keep a message the bot was not given in the conversation's tracker (as an nlu_fallback turn), with the
    reply it got, so that nothing the user said is lost."""
    processor, lock_store = getattr(agent, "processor", None), getattr(agent, "lock_store", None)
    if processor is None or lock_store is None:
        return
    try:
        async with lock_store.lock(sender):
            tracker = await processor.fetch_tracker_and_update_session(sender, CollectingOutputChannel(), metadata)
            intent = {"name": "nlu_fallback", "confidence": 1.0}
            tracker.update(UserUttered(text, intent, [], {"text": text, "intent": intent, "entities": []},
                                       input_channel=input_channel,
                                       metadata={**(metadata or {}), "not_processed": "too_long"}))
            tracker.update(BotUttered(reply, metadata={"not_processed": "too_long"}))
            tracker.update(ActionExecuted("action_listen"))
            await processor.save_tracker(tracker)
    except Exception:
        logger.exception("%s: cannot record a long message of %s in its tracker", input_channel, sender)
