"""The WeChat official-account channel at /webhooks/wechat/webhook (credentials.yml: bot.channels.wechat.WeChatInput).

WeChatEndpoint holds the behaviour without a web framework (verification, the replay window, messages, retries,
the rate limit per openid, the 5-second window); WeChatInput is the Rasa input channel that mounts it on a Sanic
blueprint. With REDIS_HOST set (the cluster), the MsgIds and the rate limit are shared by every process.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy import WeChatClient
from wechatpy.crypto import WeChatCrypto

from bot.channels.wechat_protocol import (
    Message,
    ProtocolError,
    SignatureError,
    open_envelope,
    parse_fields,
    seal,
    text_reply,
    to_message,
    verify_signature,
)
from bot.channels.turns import Turns, TurnSettings, feedback, webhook_blueprint
from bot.channels.wechat_replies import choose, compose
from bot.limits import MAX_BODY_BYTES, Limits, RateLimiter, RedisReplies, rate_limiter, redis_client
from knowledge.bot_texts import say

logger = logging.getLogger(__name__)

REPLY_TTL_SECONDS = 60.0  # WeChat's three tries of one message end within about 15 s
OPTIONS_TTL_SECONDS = 30 * 60.0
CACHE_ENTRIES = 10_000
TRUE_WORDS = {"1", "true", "yes", "on"}
SECRET_KEYS = ("token", "aes_key", "app_secret")  # only from the environment, never from credentials.yml

# (openid, text) → the bot's messages for that turn.
Ask = Callable[[str, str], Awaitable[list[dict[str, Any]]]]

K = TypeVar("K")
V = TypeVar("V")


class CustomerService(Protocol):
    """Sends a text to a user outside the passive reply (WeChat's customer-service message API)."""

    async def send_text(self, openid: str, text: str) -> None: ...


class WeChatCustomerService:
    """CustomerService through wechatpy's WeChatClient (fetches the access token with the AppSecret)."""

    def __init__(self, app_id: str, app_secret: str) -> None:
        self._client = WeChatClient(app_id, app_secret)

    async def send_text(self, openid: str, text: str) -> None:
        await asyncio.to_thread(self._client.message.send_text, openid, text)


@dataclass(frozen=True)
class WeChatConfig:
    """The channel's settings: environment variables; those that are not secrets can be overridden by a
    credentials.yml key (the token and the keys are refused there: secrets come only from the environment)."""

    token: str = field(default="", repr=False)
    app_id: str = ""
    aes_key: str = field(default="", repr=False)
    app_secret: str = field(default="", repr=False)
    async_reply: bool = False
    reply_deadline: float = 4.5
    max_age: float = 300.0  # seconds a signed request's timestamp may be off the clock; 0: no replay window
    rate_limit: int = Limits.wechat  # messages a minute per openid; 0: no limit

    @classmethod
    def load(cls, credentials: Mapping[str, Any] | None, environ: Mapping[str, str] = os.environ) -> WeChatConfig:
        in_file = [key for key in SECRET_KEYS if (credentials or {}).get(key) not in (None, "")]
        if in_file:
            raise ValueError(f"credentials.yml sets {', '.join(in_file)} of the WeChat channel: secrets come only "
                             "from the environment (WECHAT_TOKEN, WECHAT_AES_KEY, WECHAT_APPSECRET)")

        def setting(key: str, variable: str, default: str = "") -> str:
            value = (credentials or {}).get(key)
            return str(value) if value not in (None, "") else environ.get(variable, default)

        max_age = float(setting("max_age", "WECHAT_MAX_AGE", "300"))
        if max_age < 0:
            raise ValueError(f"WECHAT_MAX_AGE must be 0 (no replay window) or more seconds, not {max_age}")
        return cls(token=environ.get("WECHAT_TOKEN", ""),
                   app_id=setting("app_id", "WECHAT_APPID"),
                   aes_key=environ.get("WECHAT_AES_KEY", ""),
                   app_secret=environ.get("WECHAT_APPSECRET", ""),
                   async_reply=setting("async_reply", "WECHAT_ASYNC_REPLY").strip().lower() in TRUE_WORDS,
                   reply_deadline=float(setting("reply_deadline", "WECHAT_REPLY_DEADLINE", "4.5")),
                   max_age=max_age, rate_limit=Limits.load(environ).wechat)


class TtlCache(Generic[K, V]):
    """A bounded in-memory map whose entries expire; the oldest entries go first when it is full."""

    def __init__(self, ttl: float, max_entries: int) -> None:
        self.ttl, self.max_entries = ttl, max_entries
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def pop(self, key: K) -> V | None:
        value = self.get(key)
        self._entries.pop(key, None)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries.pop(key, None)
        self._entries[key] = (time.monotonic() + self.ttl, value)
        while self._entries and (len(self._entries) > self.max_entries
                                 or next(iter(self._entries.values()))[0] < time.monotonic()):
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class PendingReply:
    """The bot's answer to one MsgId, shared by WeChat's retries; deferred once a request answered 'success'."""

    text: asyncio.Future[str] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    deferred: bool = False


class WeChatEndpoint:
    """The channel's behaviour, free of the web framework: requests in, response bodies out. `limiter` counts the
    messages per openid (default: in this process); `shared` holds the MsgIds across processes (a cluster)."""

    def __init__(self, config: WeChatConfig, customer_service: CustomerService | None = None,
                 limiter: RateLimiter | None = None, shared: RedisReplies | None = None) -> None:
        self.config = config
        self.customer_service = customer_service
        self.limiter = limiter or rate_limiter(None)
        self.shared = shared
        self.crypto = WeChatCrypto(config.token, config.aes_key, config.app_id) if config.aes_key else None
        self.replies: TtlCache[str, PendingReply] = TtlCache(REPLY_TTL_SECONDS, CACHE_ENTRIES)
        self.options: TtlCache[str, list[str]] = TtlCache(OPTIONS_TTL_SECONDS, CACHE_ENTRIES)
        self._tasks: set[asyncio.Task[None]] = set()

    def verify(self, query: Mapping[str, str]) -> str:
        """The server-configuration check: echo `echostr` when the signature is ours and recent."""
        verify_signature(self.config.token, query, self.config.max_age)
        return query.get("echostr", "")

    async def receive(self, query: Mapping[str, str], body: bytes, ask: Ask) -> str:
        """The response body for a pushed message: a passive XML reply (encrypted in safe mode) or 'success'."""
        if len(body) > MAX_BODY_BYTES:
            raise ProtocolError(f"body of {len(body)} bytes")
        verify_signature(self.config.token, query, self.config.max_age)
        message, safe = self._open(query, body)
        reply = await self._reply_to(message, ask)
        if reply is None:
            return "success"
        xml = text_reply(message, reply)
        return seal(self.crypto, xml, query.get("nonce", "")) if safe and self.crypto else xml

    def _open(self, query: Mapping[str, str], body: bytes) -> tuple[Message, bool]:
        """The message, and whether it came in safe mode (encrypt_type=aes)."""
        envelope = parse_fields(body)
        if query.get("encrypt_type", "raw") != "aes":
            return to_message(envelope), False
        if self.crypto is None:
            raise ProtocolError("safe-mode message, but no WECHAT_AES_KEY is configured")
        return to_message(parse_fields(open_envelope(self.crypto, envelope, query))), True

    async def _reply_to(self, message: Message, ask: Ask) -> str | None:
        """The text to answer with; None for 'success' (no passive reply)."""
        if message.msg_type == "event":
            return (say("channels.welcome", example=say("channels.example_question"))
                    if message.event == "subscribe" else None)
        if not message.question:
            return say("channels.not_text", example=say("channels.example_question"))
        return await self._bot_reply(message, ask)

    async def _bot_reply(self, message: Message, ask: Ask) -> str | None:
        """The bot's answer within the deadline; past it (or always, if so switched) deferred to customer service.
        A retry of a message that another process of the cluster is answering gets that process's answer."""
        pending = self.replies.get(message.key)
        if pending is None:
            if self.shared is not None and not await self.shared.claim(message.key):
                return await self.shared.answer(message.key, self.config.reply_deadline)
            pending = self._pending(message, ask)
        if pending.deferred:
            return None
        if self.config.async_reply and self.customer_service is not None:
            pending.deferred = True
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(pending.text), self.config.reply_deadline)
        except asyncio.TimeoutError:
            if pending.text.done():
                return pending.text.result()
            if self.customer_service is None:
                return await pending.text
            pending.deferred = True
            return None

    def _pending(self, message: Message, ask: Ask) -> PendingReply:
        """The answer to this MsgId: asked of the bot on its first arrival only."""
        pending = self.replies.get(message.key)
        if pending is None:
            pending = PendingReply()
            self.replies.put(message.key, pending)
            task = asyncio.create_task(self._answer(message, pending, ask))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return pending

    async def _answer(self, message: Message, pending: PendingReply, ask: Ask) -> None:
        """Ask the bot (within the openid's rate limit), settle the pending reply (and the shared one), and send it
        by customer service if a request deferred it."""
        wait = await self.limiter.wait_seconds("wechat:" + message.openid, self.config.rate_limit)
        if wait:
            logger.info("wechat: %s sends too fast; asked to slow down (%s s)", message.openid, wait)
            text = say("channels.slow_down")
        else:
            text = await self._ask_bot(message.openid, message.question, ask)
        pending.text.set_result(text)
        if self.shared is not None:
            await self.shared.settle(message.key, text)
        if pending.deferred and self.customer_service is not None:
            await deliver(self.customer_service, message.openid, text)

    async def _ask_bot(self, openid: str, question: str, ask: Ask) -> str:
        """One turn of the bot as a single WeChat text; a digit picks from the options shown last time."""
        try:
            messages = await ask(openid, choose(question, self.options.pop(openid) or []))
        except Exception:  # the bot failing must not leave WeChat's request unanswered
            logger.exception("wechat: the bot failed on a message from %s", openid)
            return say("channels.bot_failed")
        composed = compose(messages)
        if composed.options:
            self.options.put(openid, composed.options)
        return composed.text


async def deliver(customer_service: CustomerService, openid: str, text: str) -> None:
    """Send a deferred answer; a network or API error of WeChat's is logged and the channel goes on."""
    try:
        await customer_service.send_text(openid, text)
    except Exception:  # any failure of the remote API, which the caller cannot act on
        logger.exception("wechat: customer-service message to %s failed", openid)


class WeChatInput(InputChannel):
    """Rasa input channel for a WeChat official account (公众号), plaintext and safe mode."""

    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        config = WeChatConfig.load(credentials)
        if not config.token:
            logger.warning("wechat: WECHAT_TOKEN is not set; every request to the channel is refused (403)")
        customer_service = None
        if config.app_id and config.app_secret:
            customer_service = WeChatCustomerService(config.app_id, config.app_secret)
        elif config.async_reply:
            logger.warning("wechat: WECHAT_ASYNC_REPLY needs WECHAT_APPID and WECHAT_APPSECRET; replying passively")
        client = redis_client()
        shared = RedisReplies(client) if client is not None else None
        return cls(WeChatEndpoint(config, customer_service, rate_limiter(client), shared),
                   Turns(TurnSettings.load(credentials)))

    def __init__(self, endpoint: WeChatEndpoint, turns: Turns | None = None) -> None:
        self.endpoint = endpoint
        self.turns = turns or Turns()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = webhook_blueprint("wechat_webhook")

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            try:
                return response.text(self.endpoint.verify(query_of(request)))
            except SignatureError:
                return response.text("forbidden", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                ask = self._asker(on_new_message, request)
                body = await self.endpoint.receive(query_of(request), request.body, ask)
            except SignatureError:
                return response.text("forbidden", status=403)
            except ProtocolError as error:
                logger.info("wechat: bad request: %s", error)
                return response.text("bad request", status=400)
            content_type = "text/plain; charset=utf-8" if body == "success" else "application/xml; charset=utf-8"
            return response.text(body, content_type=content_type)

        return webhook

    def _asker(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], request: Request) -> Ask:
        """Asks the bot through the shared turn logic (masking, long messages, the action server down)."""
        agent = request.app.ctx.agent

        async def ask(openid: str, text: str) -> list[dict[str, Any]]:
            return await feedback(agent, openid, text, self.name()) or \
                await self.turns.ask(on_new_message, agent, openid, text, self.name())
        return ask


def query_of(request: Request) -> dict[str, str]:
    """The URL's parameters, first value of each."""
    return {name: request.args.get(name) or "" for name in request.args}
