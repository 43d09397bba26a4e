"""One kept HTTP session per endpoint for the Rasa server's calls to the action server; applied by bot.rasa_run.

Rasa 3.6's `EndpointConfig.request` makes a new aiohttp session, and so a new TCP connection, for every call
(`async with self.session() as session`), which the action server then accepts and sets up again. Here
`EndpointConfig.session` lends the endpoint's one kept session (made like Rasa's: the endpoint's headers, basic
auth and timeout) and leaving the `async with` block does not close it, so calls reuse their connections
(aiohttp drops a connection idle for 15 s, before Sanic's keep-alive timeout closes it on the other side).
"""
from __future__ import annotations

from types import TracebackType

import aiohttp
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


def apply() -> None:
    EndpointConfig.session = kept_session
