"""Work Rasa Open Source 3.6 repeats on every message for nothing; imported (and so applied) by
bot.nlu.components, which every Rasa process serving this assistant's model loads.

Measured with py-spy on the Rasa server (README, "Where the time goes"): on 2 cores they took about half of the
server's CPU per message, more in long conversations:

- `RemoteAction._validate_action_result` calls `jsonschema.validate`, which checks the whole events schema
  against the JSON-Schema meta-schema and builds a new validator each time an action answers (~25 ms per
  message), then validates each event against all 23 event schemas of a `oneOf` (~3 ms). Here the validators
  are built once, and each event is validated against the one schema its `event` names: the same verdict,
  since each schema of the `oneOf` requires its own `event` constant. An invalid response goes through Rasa's
  own code, which raises the same `ValidationError` as before.
- `Event.resolve_by_type` walks the whole tree of Event subclasses, with `inspect.isabstract` on each, for
  every event it deserialises: every event of the tracker, every message (~15 % of the CPU of a 60-message
  conversation). Here the class found for a type name is remembered (first match, as before; unknown names and
  the default still go through Rasa's own code).
- `Message._combine_features` deep-copies the first sparse feature matrix of every featurizer before joining
  them for DIET (~2 ms a message: `copy.deepcopy` of scipy matrices), then joins the others one by one with
  `scipy.sparse.hstack`, a new checked matrix for each (~1 ms). Here the sparse matrices are joined in one step
  from their entries (the same COO matrix; dense features are copied with their own `copy()` and joined as
  Rasa joins them).
- `RasaModel._rasa_predict` calls DIET's traced graph through `tf.function`, which for each message converts and
  checks the inputs against the signature, binds them like a Python call and looks the graph up in its cache
  (~1 ms a message, as long as the graph itself runs, py-spy: 46 % of the call against 22 % running the graph).
  Here the graph of the fixed input signature (Rasa traces it with one) is taken once and called with the inputs
  converted to the signature's types (TensorFlow's `ConcreteFunction._call_flat`, so TensorFlow's version is
  checked as well): the same outputs (tests/test_rasa_speedups.py compares them on the trained model).
- `DialogueStateTracker.past_states` replays the tracker's history into states; RulePolicy asks for them twice with
  the same arguments for its prediction after a user message (once to match by intent, once by text), 3 times a
  message (~0.2 ms each). Here the states are remembered for the tracker's events as they are and the arguments, and
  each caller gets its own copy (callers delete keys of the last state's user part).
- `Domain.is_empty` turns the whole domain into a dict and compares it with an empty domain's, for every message
  (~0.2 ms). Here it is answered once per domain.

Applied only to the Rasa and TensorFlow versions they were written and measured against; any other version is left alone.
"""
from __future__ import annotations

import copy
import logging
import weakref
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
import rasa
import scipy.sparse
import tensorflow as tf
from jsonschema import validators
from keras.utils.tf_utils import sync_to_numpy_or_python_type
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DIAGNOSTIC_DATA
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.utils.schemas.events import EVENT_SCHEMA
from rasa.utils.tensorflow.models import RasaModel

logger = logging.getLogger(__name__)
RASA_VERSION = "3.6.21"
TENSORFLOW_VERSION = "2.12.0"

_resolve_by_type = Event.resolve_by_type
_event_classes: Dict[Text, Type[Event]] = {}
_response_validator: Any = None
_event_validators: Dict[Text, Any] = {}
_validate_action_result = RemoteAction._validate_action_result
_domain_is_empty = Domain.is_empty
_rasa_predict = RasaModel._rasa_predict
_past_states = DialogueStateTracker.past_states
_predict_graphs: "weakref.WeakKeyDictionary[RasaModel, Any]" = weakref.WeakKeyDictionary()


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """`Event.resolve_by_type`, remembering the class found for each type name."""
    cls = _event_classes.get(type_name)
    if cls is None:
        cls = _resolve_by_type(type_name, default)
        if cls is not None and cls is not default:
            _event_classes[type_name] = cls
    return cls


def _validator(schema: Dict[Text, Any]) -> Any:
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _build_validators(schema: Dict[Text, Any]) -> None:
    """The response's schema with any list of events, and one validator per event type: EVENT_SCHEMA without
    its `oneOf`, together with the one schema of the `oneOf` whose `event` constant is that type."""
    global _response_validator
    events = schema["properties"]["events"]
    _response_validator = _validator({**schema, "properties": {**schema["properties"],
                                                               "events": {"type": events["type"]}}})
    common = {key: value for key, value in EVENT_SCHEMA.items() if key != "oneOf"}
    for branch in EVENT_SCHEMA["oneOf"]:
        _event_validators[branch["properties"]["event"]["const"]] = _validator({"allOf": [common, branch]})


def _valid(result: Dict[Text, Any]) -> bool:
    if not _response_validator.is_valid(result):
        return False
    for event in result.get("events") or []:
        validator = _event_validators.get(event.get("event")) if isinstance(event, dict) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """`RemoteAction._validate_action_result` with validators built once, each event checked against its type."""
    if _response_validator is None:
        _build_validators(self.action_response_format_spec())
    if not _valid(result):
        return _validate_action_result(self, result)  # Rasa's own code raises its error with its message
    return True


def combine_features(features: List[Features], featurizers: List[Text]) -> Optional[Features]:
    """`Message._combine_features`: sparse features joined in one step, otherwise the first features copied with
    their matrix's `copy()` and the others added to it as Rasa does."""
    if len(features) > 1 and all(feature.is_sparse() for feature in features):
        return _joined_sparse(features, featurizers)
    combined = None
    for feature in features:
        if combined is None:
            combined = Features(feature.features.copy(), feature.type, feature.attribute, featurizers)
        else:
            combined.combine_with_features(feature)
    return combined


def _joined_sparse(features: List[Features], featurizers: List[Text]) -> Features:
    """The sparse matrices side by side, as one COO matrix: what Rasa's pairwise `scipy.sparse.hstack` gives, built
    once from the entries of all of them instead of a new matrix (and its checks) for each pair."""
    matrices = [feature.features.tocoo() for feature in features]
    rows = matrices[0].shape[0]
    for matrix in matrices[1:]:
        if matrix.shape[0] != rows:
            raise ValueError(f"Cannot combine sparse features as sequence dimensions do not match: "
                             f"{rows} != {matrix.shape[0]}.")
    offsets = np.cumsum([0] + [matrix.shape[1] for matrix in matrices])
    data = np.concatenate([matrix.data for matrix in matrices])
    row = np.concatenate([matrix.row for matrix in matrices])
    col = np.concatenate([matrix.col + offset for matrix, offset in zip(matrices, offsets)])
    joined = scipy.sparse.coo_matrix((data, (row, col)), shape=(rows, int(offsets[-1])))
    first = features[0]
    return Features(joined, first.type, first.attribute, featurizers)


def domain_is_empty(self: Domain) -> bool:
    """`Domain.is_empty`, answered once per domain: Rasa compares the whole domain as a dict with an empty one's for
    every message (`MessageProcessor._check_for_unseen_features`), and a served domain does not change."""
    empty = self.__dict__.get("_is_empty")
    if empty is None:
        empty = self.__dict__["_is_empty"] = _domain_is_empty(self)
    return empty


def rasa_predict(self: RasaModel, batch_in: tuple[np.ndarray, ...]) -> Dict[Text, Any]:
    """`RasaModel._rasa_predict` calling the graph of its input signature directly, once Rasa has traced it."""
    function = self._tf_predict_step
    if function is None or self._run_eagerly or not self.prepared_for_prediction:
        return _rasa_predict(self, batch_in)  # the first call traces the graph
    graph = _predict_graphs.get(self)
    if graph is None:
        graph = _predict_graphs[self] = (function.get_concrete_function(),
                                         [spec.dtype for spec in tf.nest.flatten(function.input_signature)])
    concrete, dtypes = graph
    values = tf.nest.flatten(batch_in)
    if len(values) != len(dtypes):
        return _rasa_predict(self, batch_in)  # not the signature's inputs: Rasa's own call raises its error
    inputs = [tf.convert_to_tensor(value, dtype=dtype) for value, dtype in zip(values, dtypes)]
    self._training = False
    outputs = sync_to_numpy_or_python_type(concrete._call_flat(inputs, concrete.captured_inputs))
    if DIAGNOSTIC_DATA in outputs:
        outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
    return outputs


def past_states(self: DialogueStateTracker, domain: Domain, omit_unset_slots: bool = False,
                ignore_rule_only_turns: bool = False,
                rule_only_data: Optional[Dict[Text, Any]] = None) -> List[Dict[Text, Dict[Text, Any]]]:
    """`DialogueStateTracker.past_states`, computed once for the tracker's events as they are and the same arguments;
    a copy of each state and of its parts for each caller (the parts' values are strings, numbers and tuples)."""
    events = self.events
    key = (len(events), id(events[-1]) if events else None, id(domain), omit_unset_slots, ignore_rule_only_turns)
    memo = self.__dict__.get("_past_states_memo")
    if memo is None or memo[0] != key or memo[1] != rule_only_data:
        states = _past_states(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        memo = self.__dict__["_past_states_memo"] = (key, copy.deepcopy(rule_only_data), states)
    return [{name: dict(part) for name, part in state.items()} for state in memo[2]]


def apply() -> bool:
    """Install them; return whether they were installed (only for the Rasa version they were written for)."""
    if rasa.__version__ != RASA_VERSION or tf.__version__ != TENSORFLOW_VERSION:
        logger.warning(f"Rasa {rasa.__version__} and TensorFlow {tf.__version__} are not {RASA_VERSION} and "
                       f"{TENSORFLOW_VERSION}: bot.nlu.rasa_speedups not applied.")
        return False
    Event.resolve_by_type = staticmethod(resolve_by_type)
    RemoteAction._validate_action_result = validate_action_result
    Message._combine_features = staticmethod(combine_features)
    Domain.is_empty = domain_is_empty
    RasaModel._rasa_predict = rasa_predict
    DialogueStateTracker.past_states = past_states
    return True


APPLIED = apply()
