"""What an action tells the operations console about its reply: the kind of reply and the items and document it
answered from. Attached to the bot message as `reply` metadata: Rasa keeps it in the BotUttered event of the tracker
store (bot/ops reads it there); the channels never show it."""
from __future__ import annotations

from typing import Any

KINDS = ("answer", "clarify", "verdict", "fallback", "out_of_scope", "handoff")


def reply_metadata(kind: str, items: list[str] | None = None, document: str | None = None,
                   menu: bool = False) -> dict[str, Any]:
    """The `reply` metadata of a bot message: kind (one of KINDS), the items and the document answered, and whether
    a clarifying question was the general menu."""
    if kind not in KINDS:
        raise ValueError(f"unknown reply kind {kind!r}")
    return {"reply": {"kind": kind, "items": [code for code in items or [] if code], "document": document,
                      "menu": menu}}
