"""The WeChat channel, over real HTTP on 127.0.0.1, mounted the way Rasa mounts it (channel.register), with
requests signed and encrypted as WeChat builds them and a stub agent in place of the bot."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic
from wechatpy.crypto import PrpCrypto

from actions.config import MAX_REPLY_BYTES
from bot.channels.wechat import (
    TtlCache,
    WeChatConfig,
    WeChatCustomerService,
    WeChatEndpoint,
    WeChatInput,
)
from bot.channels.wechat_protocol import TRUNCATION_NOTE, fit_text
from bot.limits import MAX_BODY_BYTES, MAX_MESSAGE_CHARS
from bot.privacy import PLACEHOLDER
from bot.unavailable import CANNOT_LOOK_UP, unavailable_reply
from knowledge.bot_texts import say

TOKEN = "yibao-test-token"
APP_ID = "wx5823bf96d3bd56c7"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # an EncodingAESKey: 43 characters
ACCOUNT = "gh_0f1e2d3c4b5a"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"

QUESTION = "耒阳 异地安置备案要什么材料"
WELCOME = say("channels.welcome", example=say("channels.example_question"))
NOT_TEXT = say("channels.not_text", example=say("channels.example_question"))
EMPTY_REPLY = say("channels.empty_message", example=say("channels.example_question"))
SLOW_DOWN = say("channels.slow_down")
OPTIONS_HINT = say("answer_dialogue.reply_by_number")
ANSWER = ("【耒阳市 异地安置备案】需要的材料：\n1. 医保电子凭证或社会保障卡\n2. 《异地就医登记备案表》\n"
          "来源：衡阳市医疗保障经办政务服务事项办事指南")
REGION_QUESTION = "请问您在哪个城市（区县）参保？"
LONG_ANSWER = "办理材料：" + "居民身份证或社会保障卡原件及复印件；" * 120
SLOW_ANSWER = "住院费用报销：出院结算后三个月内到参保地医保经办机构办理。"
NUMBERED_QUESTION = "“城东”在多个城市都有，请问是哪一个？\n1. 衡阳市城东\n2. 郴州市城东\n（回复序号或名称即可）"

APP_NUMBERS = itertools.count()


# ---- the bot's stand-in ---------------------------------------------------------------------------------------

@dataclass
class StubAgent:
    """Answers like the bot, through the real CollectingOutputChannel; records what it was asked."""

    delay: float = 0.0
    asked: list[tuple[str, str, str]] = field(default_factory=list)

    async def handle_message(self, message: UserMessage) -> None:
        self.asked.append((message.sender_id, message.text, message.input_channel))
        await asyncio.sleep(self.delay)
        out = message.output_channel
        match message.text:
            case "异地备案":
                await out.send_response(message.sender_id, {"text": REGION_QUESTION, "buttons": [
                    {"title": "衡阳", "payload": "衡阳"}, {"title": "长沙", "payload": "长沙"},
                    {"title": "郴州", "payload": "/inform{\"region\": \"郴州\"}"}]})
            case "城东":
                await out.send_response(message.sender_id, {"text": NUMBERED_QUESTION, "buttons": [
                    {"title": "衡阳市城东", "payload": "衡阳市城东"},
                    {"title": "郴州市城东", "payload": "郴州市城东"}]})
            case "全部材料":
                await out.send_response(message.sender_id, {"text": LONG_ANSWER})
            case "两条":
                await out.send_response(message.sender_id, {"text": "第一条。"})
                await out.send_response(message.sender_id, {"text": "第二条。"})
            case "住院报销":
                await out.send_response(message.sender_id, {"text": SLOW_ANSWER})
            case "出错":
                raise RuntimeError("the tracker store is down")
            case "括号":
                await out.send_response(message.sender_id, {"text": "a]]>b <c> & d"})
            case _:
                await out.send_response(message.sender_id, {"text": ANSWER})


@dataclass
class FakeCustomerService:
    """Records customer-service messages instead of calling WeChat."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send_text(self, openid: str, text: str) -> None:
        self.sent.append((openid, text))

    async def wait_for(self, count: int, timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)


# ---- requests as WeChat builds them ---------------------------------------------------------------------------

def sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signed(nonce: str = "1320562132", token: str = TOKEN, timestamp: int | None = None) -> dict[str, str]:
    """The query WeChat signs a push with; the timestamp is now unless given."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"signature": sha1_sorted(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
            "openid": OPENID}


def message_xml(msg_type: str, msg_id: str | None = "23983561398101212", **fields: str) -> str:
    body = "".join(f"<{name}><![CDATA[{value}]]></{name}>" for name, value in fields.items())
    msg_id_xml = f"<MsgId>{msg_id}</MsgId>" if msg_id else ""
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
            f"{body}{msg_id_xml}</xml>")


def text_xml(content: str, msg_id: str = "23983561398101212") -> str:
    return message_xml("text", msg_id, Content=content)


def event_xml(event: str) -> str:
    return message_xml("event", None, Event=event)


def encrypted(xml: str, nonce: str = "1607459425") -> tuple[dict[str, str], str]:
    """Query and body of a safe-mode push: the XML encrypted with the EncodingAESKey, msg_signature over it."""
    encrypt = PrpCrypto(base64.b64decode(AES_KEY + "=")).encrypt(xml, APP_ID).decode()
    query = signed(nonce)
    query |= {"encrypt_type": "aes", "msg_signature": sha1_sorted(TOKEN, query["timestamp"], nonce, encrypt)}
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return query, body


def fields_of(xml: str) -> dict[str, str]:
    root = ET.fromstring(xml)
    assert root.tag == "xml"
    return {child.tag: child.text or "" for child in root}


def decrypt_reply(xml: str) -> dict[str, str]:
    """The plaintext fields of an encrypted reply, after checking its MsgSignature the way WeChat does."""
    envelope = fields_of(xml)
    assert envelope["MsgSignature"] == sha1_sorted(TOKEN, envelope["TimeStamp"], envelope["Nonce"],
                                                   envelope["Encrypt"])
    return fields_of(PrpCrypto(base64.b64decode(AES_KEY + "=")).decrypt(envelope["Encrypt"], APP_ID))


# ---- the channel, served -------------------------------------------------------------------------------------

@dataclass
class Client:
    session: aiohttp.ClientSession
    url: str

    async def get(self, query: dict[str, str]) -> tuple[int, str]:
        async with self.session.get(self.url, params=query) as reply:
            return reply.status, await reply.text()

    async def post(self, query: dict[str, str], body: str | bytes) -> tuple[int, str]:
        data = body.encode() if isinstance(body, str) else body
        async with self.session.post(self.url, params=query, data=data,
                                     headers={"Content-Type": "text/xml"}) as reply:
            return reply.status, await reply.text()


def endpoint(customer_service: FakeCustomerService | None = None, **settings: Any) -> WeChatEndpoint:
    config = WeChatConfig(**({"token": TOKEN, "app_id": APP_ID, "aes_key": AES_KEY} | settings))
    return WeChatEndpoint(config, customer_service)


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sanic's test mode, as sanic-testing sets it: lets one process start many apps."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@asynccontextmanager
async def served(channel_endpoint: WeChatEndpoint, agent: StubAgent) -> AsyncIterator[Client]:
    """The channel on a Sanic app listening on a free port of 127.0.0.1, registered as Rasa registers it."""
    app = Sanic(f"wechat_test_{next(APP_NUMBERS)}")
    app.ctx.agent = agent
    register([WeChatInput(channel_endpoint)], app, route="/webhooks/")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    try:
        async with aiohttp.ClientSession() as session:
            yield Client(session, f"http://127.0.0.1:{sock.getsockname()[1]}/webhooks/wechat/webhook")
    finally:
        server.close()
        await server.wait_closed()


def run(scenario: Callable[[Client], Awaitable[None]], agent: StubAgent | None = None,
        channel_endpoint: WeChatEndpoint | None = None) -> None:
    async def main() -> None:
        async with served(channel_endpoint or endpoint(), agent or StubAgent()) as client:
            await scenario(client)

    asyncio.run(main())


# ---- verification --------------------------------------------------------------------------------------------

def test_verification_echoes_echostr() -> None:
    async def scenario(client: Client) -> None:
        assert await client.get(signed() | {"echostr": "7213640998337812915"}) == (200, "7213640998337812915")

    run(scenario)


@pytest.mark.parametrize("query", [
    signed(token="another-token") | {"echostr": "1"},
    {"timestamp": "1700000000", "nonce": "1", "echostr": "1"},
    {"echostr": "1"},
])
def test_verification_with_wrong_or_missing_signature_is_403(query: dict[str, str]) -> None:
    async def scenario(client: Client) -> None:
        assert await client.get(query) == (403, "forbidden")

    run(scenario)


def test_channel_without_token_refuses_everything() -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        assert await client.get(signed(token="") | {"echostr": "1"}) == (403, "forbidden")
        assert await client.post(signed(token=""), text_xml(QUESTION)) == (403, "forbidden")

    run(scenario, agent, endpoint(token=""))
    assert agent.asked == []


# ---- text messages -------------------------------------------------------------------------------------------

def test_plaintext_text_message_gets_a_passive_xml_reply() -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        before = int(time.time())
        status, body = await client.post(signed(), text_xml(QUESTION))
        assert status == 200
        reply = fields_of(body)
        assert reply["ToUserName"] == OPENID
        assert reply["FromUserName"] == ACCOUNT
        assert reply["MsgType"] == "text"
        assert reply["Content"] == ANSWER
        assert before <= int(reply["CreateTime"]) <= int(time.time())

    run(scenario, agent)
    assert agent.asked == [(OPENID, QUESTION, "wechat")]


def test_safe_mode_message_is_decrypted_and_the_reply_encrypted() -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        query, body = encrypted(text_xml(QUESTION))
        status, reply_xml = await client.post(query, body)
        assert status == 200
        assert "<Content>" not in reply_xml and QUESTION not in reply_xml
        assert fields_of(reply_xml)["Nonce"] == query["nonce"]
        reply = decrypt_reply(reply_xml)
        assert (reply["ToUserName"], reply["FromUserName"], reply["MsgType"]) == (OPENID, ACCOUNT, "text")
        assert reply["Content"] == ANSWER

    run(scenario, agent)
    assert agent.asked == [(OPENID, QUESTION, "wechat")]


def test_safe_mode_with_wrong_msg_signature_is_403() -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        query, body = encrypted(text_xml(QUESTION))
        query["msg_signature"] = sha1_sorted("forged")
        assert await client.post(query, body) == (403, "forbidden")

    run(scenario, agent)
    assert agent.asked == []


def test_safe_mode_message_without_a_configured_key_is_400() -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        assert await client.post(*encrypted(text_xml(QUESTION))) == (400, "bad request")

    run(scenario, agent, endpoint(aes_key=""))
    assert agent.asked == []


def test_bad_signature_on_a_message_is_403_and_the_bot_is_not_asked() -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        assert await client.post(signed(token="guess"), text_xml(QUESTION)) == (403, "forbidden")

    run(scenario, agent)
    assert agent.asked == []


def test_special_characters_survive_the_reply_xml() -> None:
    async def scenario(client: Client) -> None:
        _, body = await client.post(signed(), text_xml("括号"))
        assert fields_of(body)["Content"] == "a]]>b <c> & d"

    run(scenario)


def test_a_failing_bot_gets_an_apology_not_a_500() -> None:
    async def scenario(client: Client) -> None:
        status, body = await client.post(signed(), text_xml("出错"))
        assert status == 200
        assert fields_of(body)["Content"] == unavailable_reply("出错")
        assert fields_of(body)["Content"].startswith(CANNOT_LOOK_UP)

    run(scenario)


# ---- events and other message types --------------------------------------------------------------------------

def test_subscribe_gets_the_welcome_and_unsubscribe_success() -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        status, body = await client.post(signed(), event_xml("subscribe"))
        reply = fields_of(body)
        assert (status, reply["ToUserName"], reply["MsgType"]) == (200, OPENID, "text")
        assert reply["Content"] == WELCOME
        assert "医保办事助手" in WELCOME and "耒阳 异地安置备案要什么材料" in WELCOME
        assert await client.post(signed(), event_xml("unsubscribe")) == (200, "success")

    run(scenario, agent)
    assert agent.asked == []


@pytest.mark.parametrize("msg_type, fields", [
    ("image", {"PicUrl": "http://mmbiz.qpic.cn/x.jpg", "MediaId": "media_id"}),
    ("voice", {"MediaId": "media_id", "Format": "amr"}),
    ("voice", {"MediaId": "media_id", "Format": "amr", "Recognition": ""}),
    ("video", {"MediaId": "media_id", "ThumbMediaId": "thumb"}),
    ("shortvideo", {"MediaId": "media_id", "ThumbMediaId": "thumb"}),
    ("location", {"Location_X": "26.42", "Location_Y": "112.85", "Scale": "15", "Label": "耒阳市"}),
    ("link", {"Title": "医保", "Description": "链接", "Url": "http://example.com"}),
])
def test_other_message_types_get_a_polite_request_for_text(msg_type: str, fields: dict[str, str]) -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        status, body = await client.post(signed(), message_xml(msg_type, **fields))
        reply = fields_of(body)
        assert (status, reply["ToUserName"], reply["Content"]) == (200, OPENID, NOT_TEXT)
        assert "文字" in NOT_TEXT

    run(scenario, agent)
    assert agent.asked == []


def test_voice_with_wechat_recognition_is_asked_as_text() -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        _, body = await client.post(signed(), message_xml("voice", MediaId="m", Format="amr", Recognition=QUESTION))
        assert fields_of(body)["Content"] == ANSWER

    run(scenario, agent)
    assert agent.asked == [(OPENID, QUESTION, "wechat")]


# ---- retries and the 5-second window -------------------------------------------------------------------------

def test_a_retried_msg_id_is_answered_once() -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        first = fields_of((await client.post(signed("1"), text_xml(QUESTION, "6001")))[1])
        retry = fields_of((await client.post(signed("2"), text_xml(QUESTION, "6001")))[1])
        assert first["Content"] == retry["Content"] == ANSWER
        await client.post(signed("3"), text_xml(QUESTION, "6002"))

    run(scenario, agent)
    assert agent.asked == [(OPENID, QUESTION, "wechat")] * 2  # 6001 once, 6002 once


def test_concurrent_retries_share_one_bot_call() -> None:
    agent = StubAgent(delay=0.3)

    async def scenario(client: Client) -> None:
        replies = await asyncio.gather(*(client.post(signed(str(n)), text_xml(QUESTION, "7001")) for n in range(3)))
        assert [status for status, _ in replies] == [200, 200, 200]
        assert [fields_of(body)["Content"] for _, body in replies] == [ANSWER] * 3

    run(scenario, agent)
    assert agent.asked == [(OPENID, QUESTION, "wechat")]


def test_slow_answer_is_success_at_once_then_a_customer_service_message() -> None:
    agent = StubAgent(delay=0.6)
    customer_service = FakeCustomerService()

    async def scenario(client: Client) -> None:
        started = time.monotonic()
        assert await client.post(signed("1"), text_xml("住院报销", "8001")) == (200, "success")
        assert time.monotonic() - started < 0.5
        assert customer_service.sent == []
        await customer_service.wait_for(1)
        assert customer_service.sent == [(OPENID, SLOW_ANSWER)]
        assert await client.post(signed("2"), text_xml("住院报销", "8001")) == (200, "success")
        await asyncio.sleep(0.1)

    run(scenario, agent, endpoint(customer_service, reply_deadline=0.15))
    assert agent.asked == [(OPENID, "住院报销", "wechat")]
    assert customer_service.sent == [(OPENID, SLOW_ANSWER)]


def test_a_fast_answer_within_the_deadline_stays_passive() -> None:
    customer_service = FakeCustomerService()

    async def scenario(client: Client) -> None:
        _, body = await client.post(signed(), text_xml(QUESTION))
        assert fields_of(body)["Content"] == ANSWER

    run(scenario, StubAgent(), endpoint(customer_service, reply_deadline=2.0))
    assert customer_service.sent == []


def test_async_switch_always_answers_through_customer_service() -> None:
    agent = StubAgent()
    customer_service = FakeCustomerService()

    async def scenario(client: Client) -> None:
        assert await client.post(signed(), text_xml(QUESTION, "9001")) == (200, "success")
        await customer_service.wait_for(1)

    run(scenario, agent, endpoint(customer_service, async_reply=True))
    assert customer_service.sent == [(OPENID, ANSWER)]
    assert agent.asked == [(OPENID, QUESTION, "wechat")]


def test_the_reply_cache_is_bounded_and_expires() -> None:
    cache: TtlCache[str, int] = TtlCache(ttl=60, max_entries=3)
    for number in range(5):
        cache.put(f"msg{number}", number)
    assert len(cache) == 3
    assert [cache.get(f"msg{n}") for n in range(5)] == [None, None, 2, 3, 4]
    short: TtlCache[str, int] = TtlCache(ttl=0.05, max_entries=3)
    short.put("msg", 1)
    assert short.get("msg") == 1
    time.sleep(0.06)
    assert short.get("msg") is None and len(short) == 0


def test_without_customer_service_a_slow_answer_is_waited_for() -> None:
    async def scenario(client: Client) -> None:
        _, body = await client.post(signed(), text_xml("住院报销"))
        assert fields_of(body)["Content"] == SLOW_ANSWER

    run(scenario, StubAgent(delay=0.3), endpoint(None, reply_deadline=0.05))


# ---- replays and the rate limit -------------------------------------------------------------------------------

@pytest.mark.parametrize("age", [301, -301, 10 * 365 * 86400])
def test_a_signed_request_outside_the_time_window_is_403_and_the_bot_is_not_asked(age: int) -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        old = signed(timestamp=int(time.time()) - age)
        assert await client.post(old, text_xml(QUESTION)) == (403, "forbidden")
        assert await client.get(old | {"echostr": "1"}) == (403, "forbidden")
        query, body = encrypted(text_xml(QUESTION, "23983561398109999"))
        timestamp = str(int(time.time()) - age)
        query |= {"timestamp": timestamp, "signature": sha1_sorted(TOKEN, timestamp, query["nonce"]),
                  "msg_signature": sha1_sorted(TOKEN, timestamp, query["nonce"], fields_of(body)["Encrypt"])}
        assert await client.post(query, body) == (403, "forbidden")
        status, _ = await client.post(signed(timestamp=int(time.time()) - 290), text_xml(QUESTION))
        assert status == 200

    run(scenario, agent)
    assert agent.asked == [(OPENID, QUESTION, "wechat")]


def test_the_time_window_is_configurable_and_0_switches_it_off() -> None:
    async def scenario(client: Client) -> None:
        assert (await client.post(signed(timestamp=1_400_000_000), text_xml(QUESTION)))[0] == 200

    run(scenario, channel_endpoint=endpoint(max_age=0))

    async def narrow(client: Client) -> None:
        assert (await client.post(signed(timestamp=int(time.time()) - 20), text_xml(QUESTION)))[0] == 403

    run(narrow, channel_endpoint=endpoint(max_age=10))


def test_an_openid_over_its_rate_limit_gets_a_polite_200_and_others_are_answered() -> None:
    agent = StubAgent()
    other = "oUpF8uOtherUser0000000000000"

    async def scenario(client: Client) -> None:
        for number in range(3):
            status, body = await client.post(signed(), text_xml(f"问题{number}", f"7100{number}"))
            assert status == 200 and fields_of(body)["Content"] == ANSWER
        assert fields_of((await client.post(signed(), text_xml("问题0", "71000")))[1])["Content"] == ANSWER  # retry
        status, body = await client.post(signed(), text_xml("问题3", "71003"))
        assert status == 200 and fields_of(body)["Content"] == SLOW_DOWN
        assert fields_of((await client.post(signed(), text_xml("问题3", "71003")))[1])["Content"] == SLOW_DOWN
        status, body = await client.post(signed(), text_xml("你好", "71004").replace(OPENID, other))
        assert status == 200 and fields_of(body)["Content"] == ANSWER and fields_of(body)["ToUserName"] == other

    run(scenario, agent, endpoint(rate_limit=3))
    assert agent.asked == [(OPENID, "问题0", "wechat"), (OPENID, "问题1", "wechat"), (OPENID, "问题2", "wechat"),
                           (other, "你好", "wechat")]


# ---- hostile and malformed requests --------------------------------------------------------------------------

XXE = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName>"
       "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>")
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10 if n > 1 else "&lol;" * 10}">'
                            for n in range(1, 10))
                  + f"]><xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName>"
                    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol9;</Content></xml>")


def sized_text_xml(size: int) -> str:
    """A text message of exactly `size` bytes."""
    return text_xml("a" * (size - len(text_xml("").encode())))


OVERSIZED = sized_text_xml(MAX_BODY_BYTES + 1)
HOSTILE_BODIES = {
    "malformed": f"<xml><ToUserName>{ACCOUNT}</ToUserName><Content>",
    "not xml": "hello",
    "empty": "",
    "wrong root": f"<message><ToUserName>{ACCOUNT}</ToUserName></message>",
    "missing fields": "<xml><Content>hi</Content></xml>",
    "xxe": XXE,
    "billion laughs": BILLION_LAUGHS,
    "oversized": OVERSIZED,
}


@pytest.mark.parametrize("name", HOSTILE_BODIES)
def test_hostile_or_malformed_body_is_400_without_the_bot(name: str) -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        assert await client.post(signed(), HOSTILE_BODIES[name]) == (400, "bad request")

    run(scenario, agent)
    assert agent.asked == []


def test_hostile_xml_inside_a_safe_mode_message_is_400() -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        for body in (XXE, BILLION_LAUGHS):
            assert await client.post(*encrypted(body)) == (400, "bad request")
        query, envelope = encrypted(text_xml(QUESTION))
        tampered = envelope.replace("<![CDATA[", "<![CDATA[AAAA", 2)
        query["msg_signature"] = sha1_sorted(TOKEN, query["timestamp"], query["nonce"],
                                             fields_of(tampered)["Encrypt"])
        assert await client.post(query, tampered) == (400, "bad request")

    run(scenario, agent)
    assert agent.asked == []


def test_a_body_of_exactly_the_limit_is_accepted() -> None:
    assert len(OVERSIZED.encode()) == MAX_BODY_BYTES + 1

    agent = StubAgent()

    async def scenario(client: Client) -> None:
        status, body = await client.post(signed(), sized_text_xml(MAX_BODY_BYTES))
        # accepted (not 400); a text that long is answered with the note that it is too long, not given to the NLU
        content = fields_of(body)["Content"]
        assert status == 200 and content.startswith("您的消息有") and f"超过了{MAX_MESSAGE_CHARS}字" in content

    run(scenario, agent)
    assert agent.asked == []


def test_a_message_of_the_longest_length_is_asked_and_personal_data_masked() -> None:
    agent = StubAgent()
    longest = "我的手机13812345678，身份证43042119900101123X，" + "医" * (MAX_MESSAGE_CHARS - 40)

    async def scenario(client: Client) -> None:
        assert fields_of((await client.post(signed(), text_xml(longest, "401")))[1])["Content"] == ANSWER
        assert fields_of((await client.post(signed(), text_xml("\x7f\x9f", "402")))[1])["Content"] == EMPTY_REPLY

    run(scenario, agent)
    masked = f"我的手机{PLACEHOLDER}，身份证{PLACEHOLDER}，" + "医" * (MAX_MESSAGE_CHARS - 40)
    assert agent.asked == [(OPENID, masked, "wechat")]


# ---- the reply text: buttons, joining, the limit ------------------------------------------------------------

def test_buttons_become_numbered_options_answered_by_digit() -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        _, body = await client.post(signed(), text_xml("异地备案", "101"))
        assert fields_of(body)["Content"] == f"{REGION_QUESTION}\n1. 衡阳\n2. 长沙\n3. 郴州\n{OPTIONS_HINT}"
        await client.post(signed(), text_xml("3", "102"))
        await client.post(signed(), text_xml("2", "103"))

    run(scenario, agent)
    # "3" picks the third button's payload; the options are then used up, so the next "2" stays "2".
    assert [text for _, text, _ in agent.asked] == ["异地备案", '/inform{"region": "郴州"}', "2"]


def test_options_the_text_already_numbers_are_not_repeated() -> None:
    agent = StubAgent()

    async def scenario(client: Client) -> None:
        _, body = await client.post(signed(), text_xml("城东", "201"))
        assert fields_of(body)["Content"] == NUMBERED_QUESTION
        await client.post(signed(), text_xml("２", "202"))

    run(scenario, agent)
    assert agent.asked[-1][1] == "郴州市城东"


def test_several_bot_messages_are_joined_by_a_blank_line() -> None:
    async def scenario(client: Client) -> None:
        _, body = await client.post(signed(), text_xml("两条"))
        assert fields_of(body)["Content"] == "第一条。\n\n第二条。"

    run(scenario)


def test_a_reply_over_the_limit_is_cut_to_2048_bytes_with_a_note() -> None:
    assert len(LONG_ANSWER.encode()) > 2 * MAX_REPLY_BYTES

    async def scenario(client: Client) -> None:
        for query, body in [(signed(), text_xml("全部材料", "301")), encrypted(text_xml("全部材料", "302"))]:
            _, reply_xml = await client.post(query, body)
            reply = fields_of(reply_xml) if "encrypt_type" not in query else decrypt_reply(reply_xml)
            content = reply["Content"]
            assert len(content.encode("utf-8")) <= MAX_REPLY_BYTES
            assert content.endswith(TRUNCATION_NOTE)
            kept = content.removesuffix(TRUNCATION_NOTE)
            assert LONG_ANSWER.startswith(kept) and len(kept.encode()) > MAX_REPLY_BYTES - 200

    run(scenario)


def test_fit_text_cuts_at_a_character_boundary() -> None:
    text = "😀医" * 400  # 7 bytes a pair, no line breaks
    fitted = fit_text(text)
    kept = fitted.removesuffix(TRUNCATION_NOTE)
    assert len(fitted.encode("utf-8")) <= MAX_REPLY_BYTES
    assert text.startswith(kept) and len(kept.encode()) >= MAX_REPLY_BYTES - len(TRUNCATION_NOTE.encode()) - 4
    assert fit_text("短回答") == "短回答"


def test_fit_text_prefers_a_nearby_line_end() -> None:
    text = "\n".join(f"{n}. 居民身份证或社会保障卡原件" for n in range(1, 200))
    kept = fit_text(text).removesuffix(TRUNCATION_NOTE)
    assert text.startswith(kept + "\n")


# ---- configuration -------------------------------------------------------------------------------------------

def test_config_from_environment_with_credentials_overriding() -> None:
    environ = {"WECHAT_TOKEN": "env-token", "WECHAT_APPID": APP_ID, "WECHAT_AES_KEY": AES_KEY,
               "WECHAT_APPSECRET": "secret", "WECHAT_ASYNC_REPLY": "true", "WECHAT_REPLY_DEADLINE": "3",
               "WECHAT_MAX_AGE": "60", "RATE_LIMIT_WECHAT": "5"}
    assert WeChatConfig.load(None, environ) == WeChatConfig("env-token", APP_ID, AES_KEY, "secret", True, 3.0,
                                                            60.0, 5)
    overridden = WeChatConfig.load({"app_id": "wx-yaml", "async_reply": False, "reply_deadline": 4, "max_age": 0},
                                   environ)
    assert (overridden.token, overridden.app_id, overridden.async_reply, overridden.reply_deadline,
            overridden.max_age) == ("env-token", "wx-yaml", False, 4.0, 0.0)
    assert WeChatConfig.load(None, {}) == WeChatConfig("", "", "", "", False, 4.5, 300.0, 20)
    assert "env-token" not in repr(WeChatConfig.load(None, environ)) and AES_KEY not in repr(overridden)


@pytest.mark.parametrize("key", ["token", "aes_key", "app_secret"])
def test_secrets_in_credentials_yml_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match=f"sets {key} of the WeChat channel: secrets come only from the environment"):
        WeChatConfig.load({key: "in-the-file"}, {})


def test_from_credentials_builds_the_customer_service_client_only_with_a_secret(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHAT_TOKEN", TOKEN)
    monkeypatch.setenv("WECHAT_APPID", APP_ID)
    monkeypatch.delenv("WECHAT_APPSECRET", raising=False)
    monkeypatch.delenv("WECHAT_AES_KEY", raising=False)
    plain = WeChatInput.from_credentials(None)
    assert (WeChatInput.name(), plain.url_prefix()) == ("wechat", "wechat")
    assert plain.endpoint.customer_service is None and plain.endpoint.crypto is None
    monkeypatch.setenv("WECHAT_APPSECRET", "secret")
    monkeypatch.setenv("WECHAT_AES_KEY", AES_KEY)
    with_secret = WeChatInput.from_credentials(None)
    assert isinstance(with_secret.endpoint.customer_service, WeChatCustomerService)
    assert with_secret.endpoint.crypto is not None
