"""Item ranking accuracy on evaluation cases (the blind sets in tests/eval/, or ../shared/eval/dev_cases.json).

For each case tagged with an item code, the user's words (all its turns) are parsed by the trained model and read by
actions.understanding as the assistant reads them: the items named or described, then the region's items ranked by
their own text. A candidate counts under its own code and under the item the region's document answers for it (the
2025 list answers 退休人员医保管理 under 职工参保登记, naming both). Top-1 counts the first candidate, top-3 any of the first three; a candidate is right
when it is the tagged code, or the national item of a 长沙 local key tagged (or the reverse), which the dialogue
resolves by entries.

Usage: python -m bot.training.rank_eval MODEL CASES.json [CASES.json …]
"""
from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

from rasa.core.agent import Agent

from actions.config import knowledge_base
from actions.understanding import items_by_text, understand
from knowledge.codes import catalogue_code

ITEM_TAG = re.compile(r"^(\d{12}|\d{9}00Y)(-\d+)?$|^0731-\d+$")


def expected_item(tags: list[str]) -> str | None:
    return next((tag for tag in tags if ITEM_TAG.match(tag)), None)


def same_item(found: str, expected: str) -> bool:
    return found == expected or catalogue_code(found) == expected or catalogue_code(expected) == found


def right(candidate: tuple[str, ...], expected: str) -> bool:
    """A candidate is right under any code it is answered by (`_candidates`)."""
    return any(same_item(code, expected) for code in candidate)


async def _candidates(agent: Agent, texts: list[str]) -> list[list[tuple[str, ...]]]:
    """Each message's candidate items, best first, each as its code and the item the region's document answers for
    it (the 2025 list answers 退休人员医保管理 under 职工参保登记, naming both)."""
    kb = knowledge_base()
    ranked = []
    for text in texts:
        request = understand(kb, await agent.parse_message(text))
        document = request.region.document if request.region is not None and request.region.covered else None
        codes = [match.code for match in request.items]
        codes += [m.code for m in items_by_text(kb, text, document, request.person_type) if m.code not in codes]
        ranked.append([(code, kb.answered_as(code, document) or code) if document else (code,) for code in codes])
    return ranked


def score(agent: Agent, cases_file: Path) -> dict[str, float]:
    cases = [case for case in json.loads(cases_file.read_text(encoding="utf-8"))["cases"]
             if expected_item(case["tags"])]
    texts = [" ".join(turn["user"] for turn in case["turns"]) for case in cases]
    ranked = asyncio.run(_candidates(agent, texts))
    expected = [expected_item(case["tags"]) or "" for case in cases]
    top1 = sum(bool(candidates) and right(candidates[0], item) for item, candidates in zip(expected, ranked))
    top3 = sum(any(right(candidate, item) for candidate in candidates[:3]) for item, candidates in zip(expected, ranked))
    return {"cases": len(cases), "top1": top1 / max(1, len(cases)), "top3": top3 / max(1, len(cases))}


def main(argv: list[str]) -> int:
    agent = Agent.load(argv[0])
    print("| cases file | cases with an item | item top-1 | item top-3 |\n| --- | --- | --- | --- |")
    for name in argv[1:]:
        result = score(agent, Path(name))
        print(f"| {Path(name).name} | {result['cases']} | {result['top1']:.3f} | {result['top3']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
