"""bot.nlu.rasa_speedups gives Rasa's own verdicts and features, only faster."""
from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.loading import load_data
from rasa.utils.tensorflow.models import RasaModel

from bot.nlu import rasa_speedups
from conftest import trained_model

ROOT = Path(__file__).resolve().parents[1]

RESPONSES: list[dict[str, Any]] = [
    {"events": [{"event": "slot", "name": "region", "value": "衡阳市本级", "timestamp": None}],
     "responses": [{"text": "…"}]},
    {"events": [{"event": "user", "text": "你好", "parse_data": {"intent": {"name": "greet", "confidence": 0.9},
                                                               "entities": []}}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "bot", "text": "…", "data": {}}]},
    {"events": [{"event": "followup", "name": "eligibility_form"}]},
    {},
    {"events": [{"event": "slot", "value": "no name"}]},
    {"events": [{"event": "no such event"}]},
    {"events": [{"event": "action", "name": "x", "confidence": "high"}]},
    {"events": [{"event": "slot", "name": "a", "value": 1, "metadata": 3}]},
    {"events": [{"event": "user", "text": 5}]},
    {"events": [5]},
    {"events": [{"name": "no event"}]},
    {"events": "not a list"},
    {"responses": [1]},
]


def rasa_verdict(result: dict[str, Any]) -> bool:
    try:
        validate(result, RemoteAction.action_response_format_spec())
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("result", RESPONSES)
def test_an_action_response_is_valid_exactly_when_rasa_says_so(result: dict[str, Any]) -> None:
    assert rasa_speedups.APPLIED
    action = RemoteAction("action_answer", None)
    if rasa_verdict(result):
        assert action._validate_action_result(result)
    else:
        with pytest.raises(ValidationError):
            action._validate_action_result(result)


def test_combined_features_are_those_of_rasa_and_leave_the_originals_alone() -> None:
    first = Features(scipy.sparse.coo_matrix(np.eye(3)), "sequence", "text", "CountVectorsFeaturizer")
    second = Features(scipy.sparse.coo_matrix(np.ones((3, 2))), "sequence", "text", "RegexFeaturizer")
    expected = copy.deepcopy(first)
    expected.combine_with_features(second)
    combined = rasa_speedups.combine_features([first, second], ["a", "b"])
    assert (combined.features.toarray() == expected.features.toarray()).all()
    assert combined.origin == ["a", "b"] and combined.type == "sequence" and combined.attribute == "text"
    assert first.features.shape == (3, 3) and first.origin == "CountVectorsFeaturizer"


def rasa_combined(features: list[Features]) -> Features:
    """What Rasa's own `Message._combine_features` makes of them: a deep copy of the first, the others added."""
    combined = copy.deepcopy(features[0])
    for feature in features[1:]:
        combined.combine_with_features(feature)
    return combined


def test_several_sparse_features_are_joined_as_rasa_joins_them() -> None:
    rows = 4
    matrices = [scipy.sparse.coo_matrix(np.array([[0, 2], [1, 0], [0, 0], [3, 0]], dtype=np.float32)),
                scipy.sparse.coo_matrix((rows, 5), dtype=np.float32),  # a featurizer that found nothing
                scipy.sparse.random(rows, 7, density=0.4, format="coo", dtype=np.float64, random_state=7),
                scipy.sparse.csr_matrix(np.eye(rows, 3, dtype=np.int64))]
    features = [Features(matrix, "sequence", "text", f"F{index}") for index, matrix in enumerate(matrices)]
    expected = rasa_combined(features)
    combined = rasa_speedups.combine_features(features, ["F0", "F1", "F2", "F3"])
    assert combined.features.format == expected.features.format == "coo"
    assert combined.features.shape == expected.features.shape == (rows, 17)
    assert combined.features.dtype == expected.features.dtype
    assert (combined.features.toarray() == expected.features.toarray()).all()
    assert combined.origin == ["F0", "F1", "F2", "F3"] and combined.type == "sequence"
    assert [feature.features.shape[1] for feature in features] == [2, 5, 7, 3]


def test_sparse_features_of_different_lengths_are_refused_as_rasa_refuses_them() -> None:
    features = [Features(scipy.sparse.coo_matrix(np.eye(3)), "sequence", "text", "a"),
                Features(scipy.sparse.coo_matrix(np.eye(2)), "sequence", "text", "b")]
    with pytest.raises(ValueError, match="sequence dimensions do not match"):
        rasa_combined(features)
    with pytest.raises(ValueError, match="sequence dimensions do not match"):
        rasa_speedups.combine_features(features, ["a", "b"])


def test_dense_features_are_still_joined_by_rasa() -> None:
    features = [Features(np.ones((2, 3)), "sentence", "text", "a"), Features(np.zeros((2, 4)), "sentence", "text", "b")]
    combined = rasa_speedups.combine_features(features, ["a", "b"])
    assert (combined.features == rasa_combined(features).features).all() and combined.features.shape == (2, 7)


def test_whether_a_domain_is_empty_is_rasas_answer() -> None:
    assert Domain.empty().is_empty()
    domain = Domain.from_dict({"intents": ["greet"], "responses": {"utter_greet": [{"text": "您好"}]}})
    assert not domain.is_empty() and not domain.is_empty()


@pytest.mark.server
def test_diet_gives_rasas_own_outputs_through_the_direct_graph_call() -> None:
    """The first 150 examples of the chitchat and out-of-scope data and the bench's questions parsed by the trained model,
    once through Rasa's `tf.function` call and once through the direct one: the same intents, confidences and
    entities, to the last bit."""
    messages = [example.get("text") for name in ("chitchat.yml", "out_of_scope.yml")
                for example in load_data(str(ROOT / "data" / "nlu" / name)).intent_examples][:150]
    messages += ["耒阳 异地安置备案要什么材料", "长沙 住院费用报销要多久", "望城区 门诊费用报销 电话", "宜章 生育津贴 咨询电话"]
    agent = Agent.load(str(trained_model()))

    def parses() -> list[dict[str, Any]]:
        return [asyncio.run(agent.parse_message(message)) for message in messages]

    assert RasaModel._rasa_predict is rasa_speedups.rasa_predict
    direct = parses()
    RasaModel._rasa_predict = rasa_speedups._rasa_predict
    try:
        through_tf_function = parses()
    finally:
        RasaModel._rasa_predict = rasa_speedups.rasa_predict
    assert len(messages) > 100
    assert direct == through_tf_function
    assert any(parse["entities"] for parse in direct)


def test_past_states_are_rasas_own_and_follow_the_tracker() -> None:
    domain = Domain.load(ROOT / "domain.yml")
    tracker = DialogueStateTracker.from_events("caller-1", [
        ActionExecuted("action_listen"),
        UserUttered("衡阳 生育津贴 要什么材料", {"name": "ask_materials", "confidence": 0.9},
                    [{"entity": "item", "value": "生育津贴", "start": 3, "end": 7}]),
        ActionExecuted("action_answer"), SlotSet("eligibility_tree", "maternity")], domain.slots)
    rule_only = {"rule_only_slots": ["eligibility_tree"], "rule_only_loops": []}
    for arguments in [(False, False, None), (True, False, None), (False, True, rule_only), (True, True, rule_only)]:
        assert rasa_speedups.past_states(tracker, domain, *arguments) == \
            rasa_speedups._past_states(tracker, domain, *arguments)
    first = rasa_speedups.past_states(tracker, domain)
    del first[-1]["prev_action"]  # what a caller may do to its copy
    first[-2]["user"].clear()
    assert rasa_speedups.past_states(tracker, domain) == rasa_speedups._past_states(tracker, domain)
    tracker.update(ActionExecuted("eligibility_form"))
    after = rasa_speedups.past_states(tracker, domain)
    assert after == rasa_speedups._past_states(tracker, domain)
    assert after[-1]["prev_action"] == {"action_name": "eligibility_form"}
