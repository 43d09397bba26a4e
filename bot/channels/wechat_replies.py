"""What the WeChat channel says of a turn: the bot's messages turned into one text with numbered options."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.channels.wechat_protocol import fit_text
from knowledge.bot_texts import say

DIGIT = re.compile(r"^\s*(\d{1,2})\s*[.、)）]?\s*$")


@dataclass(frozen=True)
class Composed:
    """One WeChat text for a turn, and the payloads its numbered options stand for (1 → options[0])."""

    text: str
    options: list[str] = field(default_factory=list)


def compose(messages: list[dict[str, Any]]) -> Composed:
    """The bot's messages joined by blank lines within the text limit; buttons shown as numbered options."""
    parts = [render(message) for message in messages]
    text = "\n\n".join(part for part in parts if part)
    with_buttons = [message for message in messages if buttons_of(message)]
    options = [payload for _, payload in buttons_of(with_buttons[-1])] if with_buttons else []
    if not text:
        return Composed(say("channels.no_answer", example=say("channels.example_question")), options)
    return Composed(fit_text(text), options)


def buttons_of(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, payload) of a message's buttons that have a title."""
    buttons = message.get("buttons") or []
    return [(b["title"], b.get("payload") or b["title"]) for b in buttons if b.get("title")]


def render(message: dict[str, Any]) -> str:
    """A message's text followed by its buttons as '1. title' lines, unless the text already lists them so."""
    text = (message.get("text") or "").strip()
    lines = [f"{number}. {title}" for number, (title, _) in enumerate(buttons_of(message), 1)]
    if not lines or all(line in text for line in lines):
        return text
    return "\n".join(([text] if text else []) + lines + [say("answer_dialogue.reply_by_number")])


def choose(answer: str, options: list[str]) -> str:
    """The payload of the option a bare number picks; otherwise the answer unchanged."""
    digit = DIGIT.match(answer)
    if digit and 1 <= int(digit.group(1)) <= len(options):
        return options[int(digit.group(1)) - 1]
    return answer
