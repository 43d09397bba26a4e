"""Two pieces of work Rasa Open Source 3.6 repeats on every message for nothing; imported (and so applied) by
bot.nlu.components, which every Rasa process serving this assistant's model loads.

Measured with py-spy on the Rasa server (README, "Where the time goes"): on 2 cores they took about half of the
server's CPU per message, more in long conversations:

- `RemoteAction._validate_action_result` calls `jsonschema.validate`, which checks the whole events schema
  against the JSON-Schema meta-schema and builds a new validator each time an action answers (~25 ms per
  message). Here the schema is checked and its validator built once; every response is still validated
  against it, and an invalid one raises the same `ValidationError` as before.
- `Event.resolve_by_type` walks the whole tree of Event subclasses, with `inspect.isabstract` on each, for
  every event it deserialises: every event of the tracker, every message (~15 % of the CPU of a 60-message
  conversation). Here the class found for a type name is remembered (first match, as before; unknown names and
  the default still go through Rasa's own code).

Applied only to the Rasa version they were written and measured against; any other version is left alone.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Text, Type

import rasa
from jsonschema import validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event

logger = logging.getLogger(__name__)
RASA_VERSION = "3.6.21"

_resolve_by_type = Event.resolve_by_type
_event_classes: Dict[Text, Type[Event]] = {}
_action_result_validator: Any = None
_validate_action_result = RemoteAction._validate_action_result


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """`Event.resolve_by_type`, remembering the class found for each type name."""
    cls = _event_classes.get(type_name)
    if cls is None:
        cls = _resolve_by_type(type_name, default)
        if cls is not None and cls is not default:
            _event_classes[type_name] = cls
    return cls


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """`RemoteAction._validate_action_result` with the schema checked and its validator built once."""
    global _action_result_validator
    if _action_result_validator is None:
        schema = self.action_response_format_spec()
        cls = validators.validator_for(schema)
        cls.check_schema(schema)
        _action_result_validator = cls(schema)
    if best_match(_action_result_validator.iter_errors(result)) is not None:
        return _validate_action_result(self, result)  # Rasa's own code raises its error with its message
    return True


def apply() -> bool:
    """Install both; return whether they were installed (only for the Rasa version they were written for)."""
    if rasa.__version__ != RASA_VERSION:
        logger.warning(f"Rasa {rasa.__version__} is not {RASA_VERSION}: bot.nlu.rasa_speedups not applied.")
        return False
    Event.resolve_by_type = staticmethod(resolve_by_type)
    RemoteAction._validate_action_result = validate_action_result
    return True


APPLIED = apply()
