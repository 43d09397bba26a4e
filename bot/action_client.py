"""The Rasa server's calls to the action server, made cheaper; applied by bot.rasa_run.

- **One kept HTTP session per endpoint.** Rasa 3.6's `EndpointConfig.request` makes a new aiohttp session, and so
  a new TCP connection, for every call (`async with self.session() as session`), which the action server then
  accepts and sets up again. Here `EndpointConfig.session` lends the endpoint's one kept session (made like Rasa's:
  the endpoint's headers, basic auth and timeout) and leaving the `async with` block does not close it, so calls
  reuse their connections (aiohttp drops a connection idle for 15 s, before Sanic's keep-alive timeout closes it on
  the other side).
- **The tracker's state without its events.** Rasa sends every event of the conversation with each call (~20 KB
  of JSON three turns in: ~0.4 ms to build and encode, again to decode); this assistant's actions read only the
  slots and the latest message (tests/test_action_client.py holds them to it), so the call carries the state
  (`EventVerbosity.NONE`) and an empty list of events.
"""
from __future__ import annotations

from types import TracebackType
from typing import Any

import aiohttp
import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

_new_session = EndpointConfig.session


class KeptSession:
    """`async with` gives the endpoint's kept session (made on first use, or again once closed)."""

    def __init__(self, endpoint: EndpointConfig) -> None:
        self.endpoint = endpoint

    async def __aenter__(self) -> aiohttp.ClientSession:
        session = self.endpoint.__dict__.get("kept_session")
        if session is None or session.closed:
            session = _new_session(self.endpoint)
            self.endpoint.__dict__["kept_session"] = session
        return session

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        return None


def kept_session(self: EndpointConfig) -> KeptSession:
    return KeptSession(self)


def action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    """`RemoteAction._action_call_format` with the tracker's state but no events (the domain as Rasa sends it)."""
    call = {"next_action": self.name(), "sender_id": tracker.sender_id,
            "tracker": {**tracker.current_state(EventVerbosity.NONE), "events": []}, "version": rasa.__version__}
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        call["domain"] = domain.as_dict()
    return call


def apply() -> None:
    EndpointConfig.session = kept_session
    RemoteAction._action_call_format = action_call_format
