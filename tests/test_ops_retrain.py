"""The label → data → retrain loop, end to end on a copy of the repository: an operator's decision about a sentence
the assistant could not place (bot/ops/labels.py, as /ops/inbox saves it) is written into the data files; the
knowledge base rebuilt from them ranks the labelled item first (no retraining needed for that); `rasa data
validate` accepts the new training file; and an NLU model trained on the data with the real pipeline reads the
sentence with the labelled aspect and region.

Bounded for CI: the NLU model alone (no dialogue policies, which labels do not change), with the real config.yml
except DIET's epochs (OPS_RETRAIN_EPOCHS, default 20 instead of 60) — about 3 minutes on 2 cores instead of a full
`make model`'s 8–10."""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from actions.understanding import understand
from bot.ops import labels
from knowledge.query import KnowledgeBase

pytestmark = pytest.mark.model  # trains an NLU model (about 3 minutes)

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("knowledge", "data", "bot", "actions", "config.yml", "domain.yml")
SENTENCE = "衡阳 我要办那个蓝本本 要带什么材料"
ITEM = "00203600500Y"  # 门诊慢特病和特药待遇认定: the 蓝本本 of this (made-up) local way of speaking
EPOCHS = int(os.environ.get("OPS_RETRAIN_EPOCHS", "20"))


def run(repo: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, *args], cwd=repo, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(repo), "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, (args, done.stdout[-3000:], done.stderr[-3000:])
    return done


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what `make model` reads, to label and retrain without touching the working tree."""
    copy = tmp_path_factory.mktemp("labelled-repo")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "knowledge.db*"))
        else:
            shutil.copy2(source, copy / name)
    return copy


def test_a_labelled_sentence_is_understood_after_retraining(repo: Path, kb: KnowledgeBase,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    before = understand(kb, {"text": SENTENCE, "intent": {}, "entities": []})
    assert ITEM not in [match.code for match in before.items]

    monkeypatch.setenv("OPS_REPO_ROOT", str(repo))
    written = labels.save(kb, labels.Label(SENTENCE, "item", ITEM, "materials", "湖南省/衡阳市", "蓝本本"), "tester")
    assert written == ["data/nlu/reviewed.yml", "knowledge/data/reviewed.yml"]

    run(repo, "-m", "knowledge", "build")
    after = understand(KnowledgeBase(repo / "knowledge" / "knowledge.db"),
                       {"text": SENTENCE, "intent": {}, "entities": []})
    assert after.items and after.items[0].code == ITEM and after.items[0].kind == "situation"

    run(repo, "-m", "rasa", "data", "validate", "--fail-on-warnings", "--config", "config.yml", "--domain",
        "domain.yml", "--data", "data")
    config = yaml.safe_load((repo / "config.yml").read_text(encoding="utf-8"))
    diet, = [component for component in config["pipeline"] if component["name"] == "DIETClassifier"]
    diet["epochs"] = EPOCHS
    (repo / "config-retrain.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    run(repo, "-m", "rasa", "train", "nlu", "--config", "config-retrain.yml", "--nlu", "data", "--out", "models",
        "--fixed-model-name", "labelled")

    from rasa.core.agent import Agent
    agent = Agent.load(str(repo / "models" / "labelled.tar.gz"))
    parsed = asyncio.run(agent.parse_message(SENTENCE))
    assert parsed["intent"]["name"] == "ask_materials"
    assert [(e["entity"], e["value"]) for e in parsed["entities"] if e["entity"] == "region"] == [("region", "湖南省/衡阳市")]
    reading = understand(KnowledgeBase(repo / "knowledge" / "knowledge.db"), parsed)
    assert reading.items[0].code == ITEM and reading.region.id == "湖南省/衡阳市" and reading.aspects == ["materials"]
