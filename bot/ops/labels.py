"""An operator's decision about a turn, written as reviewed data in the repository's layout, with who and when:

- a training example in `data/nlu/reviewed.yml` (the aspect's intent, or out_of_scope), the region annotated where
  its name stands in the text; `make model` trains with it;
- where the operator names the item's new wording (a phrase of the text), a situation pattern in
  `knowledge/data/reviewed.yml` (read by `python -m knowledge build` beside situations.yml): the item ranking uses
  it as soon as the knowledge base is rebuilt, with no retraining;
- "not in the documents": the text in `knowledge/data/reviewed.yml`, for whoever writes unanswered.yml.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from actions.understanding import INTENT_ASPECTS
from knowledge.bot_texts import say
from knowledge.query import KnowledgeBase

ROOT = Path(__file__).resolve().parents[2]
DECISIONS = ("item", "out_of_scope", "not_in_documents")
DOMAIN_INTENTS = set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])
ASPECT_INTENTS = {aspect: intent for intent, aspect in INTENT_ASPECTS.items() if intent in DOMAIN_INTENTS}
NLU_HEADER = ("# Reviewed in the operations console (/ops/inbox, bot/ops/labels.py): each example with who labelled\n"
              "# it and when. Written by the console; edit or remove examples by hand if a label was wrong.\n")
KNOWLEDGE_HEADER = ("# Reviewed in the operations console (/ops/inbox, bot/ops/labels.py), with who and when.\n"
                    "# situations: new ways of naming an item (patterns as in situations.yml), read by\n"
                    "#   `python -m knowledge build`. not_in_documents: questions the documents do not answer, to be\n"
                    "#   written into unanswered.yml by the content team.\n")


class LabelError(ValueError):
    """A decision that cannot be saved, with the reason."""


@dataclass(frozen=True)
class Label:
    text: str  # the turn's masked text
    decision: str  # one of DECISIONS
    item: str | None = None
    aspect: str | None = None
    region: str | None = None  # a region id
    phrase: str | None = None  # the words of the text that name the item (a situation pattern: A or A+B)


def repo_root() -> Path:
    return Path(os.environ.get("OPS_REPO_ROOT") or ROOT)


def _load(path: Path, empty: dict[str, Any]) -> dict[str, Any]:
    if not path.exists():
        return empty
    return yaml.safe_load(path.read_text(encoding="utf-8")) or empty


def _dump(path: Path, header: str, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(header + body, encoding="utf-8")
    temporary.replace(path)


def annotated(kb: KnowledgeBase, text: str, region: str | None) -> str:
    """The text in Rasa's training format, the region entity marked where one of its names stands in it."""
    escaped = re.sub(r"([\[\]()])", " ", text)
    if region is None:
        return escaped
    for place in kb.find_regions(escaped):
        if place.region is not None and (region.startswith(place.region.id) or place.region.id.startswith(region)):
            start, end = place.start, place.start + len(place.typed)
            return f"{escaped[:start]}[{escaped[start:end]}](region){escaped[end:]}"
    return escaped


def validate(kb: KnowledgeBase, label: Label) -> None:
    if label.decision not in DECISIONS:
        raise LabelError(say("ops.bad_decision", decisions="、".join(DECISIONS)))
    if label.decision != "item":
        return
    if not label.item or (label.item not in kb.catalogue and not kb.has_item_key(label.item)):
        raise LabelError(say("ops.choose_item"))
    if label.aspect not in ASPECT_INTENTS:
        raise LabelError(say("ops.choose_aspect"))
    if label.region:
        try:
            kb.region(label.region)
        except KeyError:
            raise LabelError(say("ops.unknown_region")) from None
    if label.phrase is not None:
        parts = label.phrase.split("+")
        if not all(part.strip() and part.strip() in label.text for part in parts) or len(label.phrase) > 40:
            raise LabelError(say("ops.phrase_not_in_text"))


def save(kb: KnowledgeBase, label: Label, user: str, now: datetime | None = None) -> list[str]:
    """Write the decision into the data files; the repository paths written."""
    validate(kb, label)
    at = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    root = repo_root()
    written: list[str] = []
    if label.decision in ("item", "out_of_scope"):
        intent = ASPECT_INTENTS[label.aspect] if label.decision == "item" else "out_of_scope"
        path = root / "data" / "nlu" / "reviewed.yml"
        data = _load(path, {"version": "3.1", "nlu": []})
        block = next((entry for entry in data["nlu"] if entry.get("intent") == intent), None)
        if block is None:
            block = {"intent": intent, "examples": []}
            data["nlu"].append(block)
        example = annotated(kb, label.text, label.region if label.decision == "item" else None)
        if all(existing["text"] != example for existing in block["examples"]):
            block["examples"].append({"text": example, "metadata": {"reviewed_by": user, "reviewed_at": at,
                                                                    **({"item": label.item} if label.item else {})}})
        _dump(path, NLU_HEADER, data)
        written.append(str(path.relative_to(root)))
    if label.phrase or label.decision == "not_in_documents":
        path = root / "knowledge" / "data" / "reviewed.yml"
        data = _load(path, {"situations": [], "not_in_documents": []})
        if label.phrase:
            pattern = "+".join(part.strip() for part in label.phrase.split("+"))
            data.setdefault("situations", []).append({"item": label.item, "pattern": pattern, "text": label.text,
                                                      "reviewed_by": user, "reviewed_at": at})
        else:
            data.setdefault("not_in_documents", []).append({"text": label.text, "reviewed_by": user,
                                                            "reviewed_at": at})
        _dump(path, KNOWLEDGE_HEADER, data)
        written.append(str(path.relative_to(root)))
    return written
