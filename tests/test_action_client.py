"""bot.action_client: the call to the action server carries the tracker's state without its events, and the
actions read nothing the call leaves out."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import action_client

ROOT = Path(__file__).resolve().parents[1]
# What rasa_sdk's Tracker answers from the state alone (its slots, latest message, loop and latest action).
STATE_ONLY = {"get_slot", "slots", "latest_message", "sender_id", "active_loop", "active_loop_or_form",
              "latest_action_name", "get_latest_entity_values", "get_intent_of_latest_message", "is_paused"}


def conversation(domain: Domain) -> DialogueStateTracker:
    events = [ActionExecuted("action_listen"),
              UserUttered("衡阳 生育津贴 要什么材料", {"name": "ask_materials", "confidence": 0.9},
                          [{"entity": "item", "value": "生育津贴", "start": 3, "end": 7}]),
              ActionExecuted("action_answer"), BotUttered("…"), SlotSet("region", "衡阳市本级"),
              SlotSet("item", "生育津贴"), ActionExecuted("action_listen"),
              UserUttered("电话多少", {"name": "ask_phone", "confidence": 0.8})]
    return DialogueStateTracker.from_events("caller-1", events, domain.slots)


def test_the_action_call_carries_the_state_and_no_events() -> None:
    domain = Domain.load(ROOT / "domain.yml")
    tracker = conversation(domain)
    action = RemoteAction("action_answer", EndpointConfig("http://localhost:5055/webhook"))
    call = action_client.action_call_format(action, tracker, domain)
    state = call["tracker"]
    assert call["next_action"] == "action_answer" and call["sender_id"] == "caller-1"
    assert state["events"] == []
    assert state["slots"]["region"] == "衡阳市本级" and state["slots"]["item"] == "生育津贴"
    assert state["latest_message"]["text"] == "电话多少"
    assert state["latest_message"]["intent"]["name"] == "ask_phone"
    assert state["latest_action_name"] == "action_listen"
    assert call["domain"]["slots"].keys() == domain.as_dict()["slots"].keys()
    assert json.loads(json.dumps(call)) == call


def test_apply_makes_rasa_send_that_call(monkeypatch: pytest.MonkeyPatch) -> None:
    for cls, name in ((RemoteAction, "_action_call_format"), (EndpointConfig, "session")):
        monkeypatch.setattr(cls, name, getattr(cls, name))  # restored after the test
    action_client.apply()
    domain = Domain.load(ROOT / "domain.yml")
    action = RemoteAction("action_answer", EndpointConfig("http://localhost:5055/webhook"))
    assert action._action_call_format(conversation(domain), domain)["tracker"]["events"] == []


def tracker_uses(path: Path) -> set[str]:
    """The attributes read of every name `tracker` in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "tracker"}


def test_the_actions_read_only_what_the_call_carries() -> None:
    modules = sorted((ROOT / "actions").glob("*.py"))
    used = {module.name: tracker_uses(module) for module in modules}
    assert used["answer_dialogue.py"] >= {"get_slot", "latest_message"}  # the check sees real uses
    beyond = {name: uses - STATE_ONLY for name, uses in used.items() if uses - STATE_ONLY}
    assert beyond == {}, f"an action reads the tracker's events, which the call leaves out: {beyond}"
