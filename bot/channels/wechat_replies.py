"""What the WeChat channel says: fixed texts, and the bot's messages turned into one text with numbered options."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.channels.wechat_protocol import fit_text

EXAMPLE = "耒阳 异地安置备案要什么材料"
WELCOME = ("您好！我是医保办事助手，可以告诉您湖南、湖北的医保业务怎么办：要带什么材料、到哪里办、咨询和监督电话、"
           "多久办好、谁能办、能不能网上办，并注明出自哪份官方办事指南。\n"
           f"请用文字直接问，说出地区和事项就行，例如：{EXAMPLE}")
NOT_TEXT = f"抱歉，我暂时只能看懂文字消息。请用文字输入您的问题，说出地区和事项就行，例如：{EXAMPLE}"
NO_ANSWER = f"抱歉，我没能回答这个问题。请换个说法，说出地区和事项，例如：{EXAMPLE}"
BOT_FAILED = "抱歉，系统暂时繁忙，请稍后再问一次。"
SLOW_DOWN = "您发消息太快了，请稍等一分钟再问，谢谢您的耐心。"
OPTIONS_HINT = "（回复序号或名称即可）"
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
    return Composed(fit_text(text) if text else NO_ANSWER, options)


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
    return "\n".join(([text] if text else []) + lines + [OPTIONS_HINT])


def choose(answer: str, options: list[str]) -> str:
    """The payload of the option a bare number picks; otherwise the answer unchanged."""
    digit = DIGIT.match(answer)
    if digit and 1 <= int(digit.group(1)) <= len(options):
        return options[int(digit.group(1)) - 1]
    return answer
