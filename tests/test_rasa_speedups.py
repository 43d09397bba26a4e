"""bot.nlu.rasa_speedups gives Rasa's own verdicts and features, only faster."""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import scipy.sparse
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.shared.nlu.training_data.features import Features

from bot.nlu import rasa_speedups

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
