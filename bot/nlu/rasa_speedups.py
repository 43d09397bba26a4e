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
  them for DIET (~2 ms a message: `copy.deepcopy` of scipy matrices). Here the matrix is copied with its own
  `copy()`, which is what the deep copy amounted to (the joined features are new matrices either way).

Applied only to the Rasa version they were written and measured against; any other version is left alone.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Type

import rasa
from jsonschema import validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.utils.schemas.events import EVENT_SCHEMA

logger = logging.getLogger(__name__)
RASA_VERSION = "3.6.21"

_resolve_by_type = Event.resolve_by_type
_event_classes: Dict[Text, Type[Event]] = {}
_response_validator: Any = None
_event_validators: Dict[Text, Any] = {}
_validate_action_result = RemoteAction._validate_action_result


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
    """`Message._combine_features`, the first features copied with their matrix's `copy()`."""
    combined = None
    for feature in features:
        if combined is None:
            combined = Features(feature.features.copy(), feature.type, feature.attribute, featurizers)
        else:
            combined.combine_with_features(feature)
    return combined


def apply() -> bool:
    """Install them; return whether they were installed (only for the Rasa version they were written for)."""
    if rasa.__version__ != RASA_VERSION:
        logger.warning(f"Rasa {rasa.__version__} is not {RASA_VERSION}: bot.nlu.rasa_speedups not applied.")
        return False
    Event.resolve_by_type = staticmethod(resolve_by_type)
    RemoteAction._validate_action_result = validate_action_result
    Message._combine_features = staticmethod(combine_features)
    return True


APPLIED = apply()
