"""Limits of the public chat entry points: the size of a request body and of a message, and the rate limits and
the WeChat MsgId ledger, counted in this process (`make run`) or in Redis when REDIS_HOST is set (the cluster:
every process counts together).

Limits are messages per minute per key, in fixed one-minute windows; 0 switches a limit off:
  RATE_LIMIT_SENDER   /api/chat per sender id (default 20)
  RATE_LIMIT_ADDRESS  /api/chat per client address (default 300: an office behind one address has many people)
  RATE_LIMIT_WECHAT   WeChat messages per openid (default 20)
Redis: REDIS_HOST, REDIS_PORT (6379), REDIS_PASSWORD, REDIS_DB (0) — the variables of Rasa's lock store in
deploy/endpoints-cluster.yml. When Redis fails, a message is let through (and the failure logged): a limit must
not stop the service.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as redis

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # a request body (REST, WeChat, the web server); nginx caps it at 64k too
MAX_MESSAGE_CHARS = 1000  # a user's message (REST, WeChat, the widget's /api/chat)
WINDOW_SECONDS = 60.0
MAX_MEMORY_KEYS = 100_000
KEY_PREFIX = "yibao:"
REPLY_SECONDS = 60  # how long a WeChat MsgId and its answer are remembered (WeChat's retries end within 15 s)
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Limits:
    """Messages per minute allowed per key; 0 is no limit."""

    sender: int = 20
    address: int = 300
    wechat: int = 20

    @classmethod
    def load(cls, environ: Mapping[str, str] = os.environ) -> Limits:
        def limit(variable: str, default: int) -> int:
            value = int(environ.get(variable) or default)
            if value < 0:
                raise ValueError(f"{variable} must be 0 (no limit) or more, not {value}")
            return value

        return cls(sender=limit("RATE_LIMIT_SENDER", cls.sender), address=limit("RATE_LIMIT_ADDRESS", cls.address),
                   wechat=limit("RATE_LIMIT_WECHAT", cls.wechat))


class Counter(Protocol):
    """Counts the hits of a key in the current window."""

    async def hit(self, key: str) -> tuple[int, float]:
        """The hits of `key` in its current window, this one included, and the seconds until the window ends."""


class MemoryCounter:
    """Windows in this process's memory (one process: `make run`)."""

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self.window = window
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str) -> tuple[int, float]:
        now = time.monotonic()
        end, hits = self._windows.get(key, (0.0, 0))
        if end <= now:
            end, hits = now + self.window, 0
            if len(self._windows) >= MAX_MEMORY_KEYS:
                self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        self._windows[key] = (end, hits + 1)
        return hits + 1, end - now


class RedisCounter:
    """Windows in Redis, shared by every process that uses the same Redis."""

    def __init__(self, client: redis.Redis, window: float = WINDOW_SECONDS) -> None:
        self.client, self.window = client, window

    async def hit(self, key: str) -> tuple[int, float]:
        name = KEY_PREFIX + "limit:" + key
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, nx=True, px=int(self.window * 1000))  # a new window; INCR keeps its expiry
            pipe.incr(name)
            pipe.pttl(name)
            _, hits, ttl = await pipe.execute()
        return int(hits), max(ttl, 0) / 1000


class RateLimiter:
    """Says whether one more message of a key is within its limit; a failing counter lets it through."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    async def wait_seconds(self, key: str, limit: int) -> int:
        """0 when this message of `key` is within `limit` a minute (0: no limit), else the seconds to wait."""
        if limit <= 0:
            return 0
        try:
            hits, remaining = await self.counter.hit(key)
        except (redis.RedisError, OSError) as error:
            logger.warning("rate limit not checked (%s): %s", type(error).__name__, error)
            return 0
        return 0 if hits <= limit else max(1, round(remaining + 0.5))


class RedisReplies:
    """WeChat's MsgIds across the processes of a cluster: the first process to claim a MsgId asks the bot and
    stores the answer; a retry that reaches another process waits for that answer instead of asking again."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    async def claim(self, key: str) -> bool:
        """True when no process has seen this message yet (this one answers it); True also when Redis fails."""
        try:
            return bool(await self.client.set(self._name(key), "", nx=True, ex=REPLY_SECONDS))
        except (redis.RedisError, OSError) as error:
            logger.warning("wechat: MsgId not shared (%s): %s", type(error).__name__, error)
            return True

    async def settle(self, key: str, text: str) -> None:
        try:
            await self.client.set(self._name(key), text, ex=REPLY_SECONDS)
        except (redis.RedisError, OSError) as error:
            logger.warning("wechat: answer not shared (%s): %s", type(error).__name__, error)

    async def answer(self, key: str, timeout: float) -> str | None:
        """The answer another process stored for this message, waiting up to `timeout` s; None if none came."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                text = await self.client.get(self._name(key))
            except (redis.RedisError, OSError) as error:
                logger.warning("wechat: shared answer not read (%s): %s", type(error).__name__, error)
                return None
            if text:
                return text.decode("utf-8")
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(POLL_SECONDS)

    @staticmethod
    def _name(key: str) -> str:
        return KEY_PREFIX + "wechat:msg:" + key


def redis_client(environ: Mapping[str, str] = os.environ) -> redis.Redis | None:
    """A client of the Redis named by REDIS_HOST (with REDIS_PORT, REDIS_PASSWORD, REDIS_DB), or None."""
    host = environ.get("REDIS_HOST", "")
    if not host:
        return None
    return redis.Redis(host=host, port=int(environ.get("REDIS_PORT") or 6379),
                       password=environ.get("REDIS_PASSWORD") or None, db=int(environ.get("REDIS_DB") or 0),
                       socket_timeout=2, socket_connect_timeout=2)


def rate_limiter(client: redis.Redis | None) -> RateLimiter:
    """Counted in Redis when there is a client, else in this process."""
    return RateLimiter(RedisCounter(client) if client is not None else MemoryCounter())
