"""The REST channel at /webhooks/rest/webhook (credentials.yml: bot.channels.rest.RestInput, in place of `rest:`).

Rasa's protocol — POST {"sender": "u1", "message": "…", "metadata": {…}} → [{"recipient_id", "text", "buttons"…}]
— with what Rasa's own RestInput lacks (bot/channels/turns.py): personal data masked before Rasa sees it, an
answer to every message (the hotline numbers when the action server is down, a prompt for an empty message, a
note for a message over 1000 characters), and bad requests refused with a 4xx and a JSON {"error": "…"}:
a body over 64 KiB → 413; invalid JSON, not an object, a missing or non-string message, a missing or
malformed sender, metadata that is not an object → 400. Streaming (?stream=true) is not offered.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.turns import Turns, TurnSettings, webhook_blueprint
from bot.limits import MAX_BODY_BYTES
from knowledge.bot_texts import say

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128


class BadRequest(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False))


def parse(body: bytes) -> tuple[str, str, dict[str, Any] | None]:
    """sender, message and metadata of a request body, or BadRequest."""
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(413, say("channels.body_too_large", kib=MAX_BODY_BYTES // 1024))
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(400, say("channels.body_not_utf8_json")) from None
    if not isinstance(data, dict):
        raise BadRequest(400, say("channels.body_not_message"))
    sender, message, metadata = data.get("sender"), data.get("message"), data.get("metadata")
    if isinstance(sender, int) and not isinstance(sender, bool):
        sender = str(sender)
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS \
            or not sender.isprintable():
        raise BadRequest(400, say("channels.bad_sender", max_chars=MAX_SENDER_CHARS))
    if not isinstance(message, str):
        raise BadRequest(400, say("channels.message_not_string"))
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest(400, say("channels.metadata_not_object"))
    return sender, message, metadata


class RestInput(RasaRestInput):
    """Rasa's REST channel (its name "rest", hence its URL) with validation, masking and an answer to every
    message."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(Turns(TurnSettings.load(credentials)))

    def __init__(self, turns: Turns) -> None:
        self.turns = turns

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = webhook_blueprint("custom_webhook_RestInput")

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender, message, metadata = parse(request.body or b"")
            except BadRequest as bad:
                logger.info("rest: bad request (%s): %s", bad.status, bad)
                return error(bad.status, str(bad))
            replies = await self.turns.ask(on_new_message, request.app.ctx.agent, sender, message, self.name(),
                                           metadata)
            return response.json(replies, dumps=lambda v: json.dumps(v, ensure_ascii=False))

        return webhook
