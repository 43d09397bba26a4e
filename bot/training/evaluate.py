"""Score the trained NLU on the held-out split (tests/nlu/holdout.yml, never used for training).

Reports what the assistant gets right in the end — per message, the service item and the region that the
actions resolve from the NLU output (DIET + gazetteer + synonyms + knowledge-base names) — and Rasa's own
per-intent and per-entity F1 (`rasa test nlu`). Writes results/nlu/summary.json and prints a Markdown table.

Usage: python -m bot.training.evaluate MODEL
"""
from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from rasa.core.agent import Agent

from actions.config import knowledge_base
from actions.understanding import understand
from bot.nlu.normalization import normalize_text
from bot.training.generate import HOLDOUT, ROOT
from knowledge.vocabulary import item_names, region_names

RESULTS = ROOT / "results/nlu"
ANNOTATION = re.compile(r"\[([^\]]+)\]\((\w+)\)")


def holdout_examples() -> list[tuple[str, str, dict[str, str]]]:
    """(text, intent, {entity: annotated words}) for every held-out example."""
    examples, intent = [], ""
    for line in HOLDOUT.read_text(encoding="utf-8").splitlines():
        if line.startswith("- intent: "):
            intent = line.removeprefix("- intent: ").strip()
        elif line.startswith("    - "):
            annotated = line.removeprefix("    - ")
            entities = {entity: words for words, entity in ANNOTATION.findall(annotated)}
            examples.append((ANNOTATION.sub(r"\1", annotated), intent, entities))
    return examples


async def _parse_all(model: Path, texts: list[str]) -> list[dict]:
    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def resolution_accuracy(model: Path) -> dict[str, dict[str, float]]:
    """Per message: is the item (region) the actions resolve the one annotated?"""
    kb = knowledge_base()
    items = {normalize_text(n.text): n.value for n in item_names()}
    regions = {normalize_text(n.text): n.value for n in region_names()}
    examples = holdout_examples()
    parsed = asyncio.run(_parse_all(model, [text for text, _, _ in examples]))
    counts: Counter[str] = Counter()
    for (text, _, entities), message in zip(examples, parsed):
        request = understand(kb, message)
        if "item" in entities and items.get(normalize_text(entities["item"])):
            counts["item_total"] += 1
            expected = items[normalize_text(entities["item"])]
            found = [m.code for m in request.items]
            counts["item_correct"] += bool(found) and found[0] == expected
        if "region" in entities and regions.get(normalize_text(entities["region"])):
            counts["region_total"] += 1
            resolved = request.region.id if request.region else None
            counts["region_correct"] += resolved == regions[normalize_text(entities["region"])]
    return {kind: {"accuracy": counts[f"{kind}_correct"] / max(1, counts[f"{kind}_total"]),
                   "messages": counts[f"{kind}_total"]} for kind in ("item", "region")}


def rasa_reports(model: Path) -> dict[str, dict]:
    subprocess.run([sys.executable, "-m", "rasa", "test", "nlu", "--model", str(model), "--nlu", str(HOLDOUT),
                    "--out", str(RESULTS)], cwd=ROOT, check=True, capture_output=True)
    intents = json.loads((RESULTS / "intent_report.json").read_text(encoding="utf-8"))
    entities = json.loads((RESULTS / "DIETClassifier_report.json").read_text(encoding="utf-8"))
    return {"intents": intents, "entities": entities}


def main(argv: list[str]) -> int:
    model = Path(argv[0])
    RESULTS.mkdir(parents=True, exist_ok=True)
    resolved = resolution_accuracy(model)
    reports = rasa_reports(model)
    summary = {"resolved": resolved, "intent_f1": {k: v["f1-score"] for k, v in reports["intents"].items()
                                                   if isinstance(v, dict) and "f1-score" in v},
               "entity_f1": {k: v["f1-score"] for k, v in reports["entities"].items()
                             if isinstance(v, dict) and "f1-score" in v}}
    (RESULTS / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"held-out messages: {len(holdout_examples())}")
    print("| measure | value |\n| --- | --- |")
    for kind, label in (("item", "service item resolved (accuracy)"), ("region", "region resolved (accuracy)")):
        print(f"| {label} | {resolved[kind]['accuracy']:.3f} ({resolved[kind]['messages']} messages) |")
    for name, value in summary["entity_f1"].items():
        print(f"| entity F1 `{name}` | {value:.3f} |")
    for name, value in summary["intent_f1"].items():
        print(f"| intent F1 `{name}` | {value:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
