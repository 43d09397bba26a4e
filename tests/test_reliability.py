"""Reliability with the real servers (trained model, action server, Rasa with its SQLite tracker store, on free
ports): the action server down, Rasa restarted mid-conversation, bad input over REST and WeChat, many users at once,
and a missing or corrupt knowledge.db at start-up (through the command line)."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import pytest
from conftest import Servers, free_port, post, reply_text, running_servers, say
from test_wechat import EMPTY_REPLY, TOKEN, fields_of, signed, text_xml

from bot import serve
from bot.limits import MAX_BODY_BYTES, MAX_MESSAGE_CHARS
from bot.unavailable import CANNOT_LOOK_UP
from knowledge.paths import DB_PATH
from knowledge.query import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]
LEIYANG_QUESTION = "来阳的 异地安置备案要什么材料"
LEIYANG_PHONE = "0734-4269955"  # 耒阳市's 咨询电话 (职工) for 异地安置退休人员备案, 衡阳 guide
HENGYANG_GUIDE = "《衡阳市医疗保障经办政务服务事项办事指南》"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The real servers, with the WeChat channel switched on (its token) as credentials.yml mounts it."""
    with running_servers(tmp_path_factory, "reliability", env={"WECHAT_TOKEN": TOKEN}) as started:
        yield started


def sender() -> str:
    return "rel-" + uuid.uuid4().hex[:12]


def user_texts(tracker: dict) -> list[str]:
    return [event.get("text") or "" for event in tracker["events"] if event["event"] == "user"]


def test_server_ports_are_never_ephemeral_nor_handed_out_twice() -> None:
    """A port handed to a server is outside the kernel's source-port range (so an outgoing connection cannot take it
    while Rasa loads its model) and never handed out twice."""
    ephemeral = serve.ephemeral_ports()
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(port in serve.OWN_PORTS for port in ports)
    if any(port not in ephemeral for port in serve.OWN_PORTS):
        assert not [port for port in ports if port in ephemeral]


def test_a_port_something_listens_on_is_not_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as listener, socket.socket() as other:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        other.bind(("127.0.0.1", 0))
        taken, free = listener.getsockname()[1], other.getsockname()[1]
        other.close()
        monkeypatch.setattr(serve, "OWN_PORTS", [taken, free])
        monkeypatch.setattr(serve, "ephemeral_ports", lambda: range(0))
        monkeypatch.setattr(serve, "_handed_out", set())
        assert free_port() == free
        with pytest.raises(serve.StartupError):
            free_port()


def test_a_kernel_range_over_all_own_ports_still_gives_free_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve, "ephemeral_ports", lambda: range(1024, 65536))
    ports = [free_port() for _ in range(5)]
    assert len(set(ports)) == 5 and all(port in serve.OWN_PORTS for port in ports)


# ---- the action server down ----------------------------------------------------------------------------------

@pytest.mark.server
def test_action_server_down_gives_the_hotline_numbers_and_the_conversation_goes_on(servers: Servers) -> None:
    leiyang, changsha, anonymous = sender(), sender(), sender()
    assert "常住人口登记卡" in reply_text(say(servers.rest_url, leiyang, LEIYANG_QUESTION))
    servers.stop_actions()
    try:
        # the slots remembered before: 耒阳, 异地安置退休人员备案 → that office's phones, from the document
        down = say(servers.rest_url, leiyang, "电话呢")
        assert len(down) == 1
        text = down[0]["text"]
        assert text.startswith(CANNOT_LOOK_UP)
        assert "衡阳市耒阳市" in text and LEIYANG_PHONE in text and "0734-4322176" in text  # 职工, 居民
        assert "监督电话：0734-4351615" in text and HENGYANG_GUIDE in text
        # a new conversation naming its place: that place's phones
        text = reply_text(say(servers.rest_url, changsha, "长沙 生育津贴要多久"))
        assert text.startswith(CANNOT_LOOK_UP) and "长沙市" in text and "88665154" in text
        assert "《长沙市医疗保障经办政务服务事项办事指南》" in text
        # no place known: where to ask, and no number made up (a greeting is still answered: no action needed)
        assert "医保办事助手" in reply_text(say(servers.rest_url, anonymous, "你好"))
        text = reply_text(say(servers.rest_url, anonymous, "生育津贴要多久"))
        assert text.startswith(CANNOT_LOOK_UP) and "参保地医保经办机构" in text
        assert not any(character.isdigit() for character in text)
        # WeChat, through the same Rasa server
        status, body = asyncio.run(wechat_post(servers, text_xml("耒阳 异地安置备案电话", "910001")))
        assert status == 200
        content = fields_of(body)["Content"]
        assert content.startswith(CANNOT_LOOK_UP) and LEIYANG_PHONE in content
    finally:
        servers.start_actions()
    assert "即时办结" in reply_text(say(servers.rest_url, leiyang, "那要多久？"))


# ---- Rasa restarted ------------------------------------------------------------------------------------------

@pytest.mark.server
def test_rasa_restarted_mid_conversation_continues_from_the_tracker_store(servers: Servers) -> None:
    user = sender()
    assert "常住人口登记卡" in reply_text(say(servers.rest_url, user, LEIYANG_QUESTION))
    servers.restart_rasa()
    phone = reply_text(say(servers.rest_url, user, "电话呢"))
    assert "异地安置退休人员备案" in phone and "衡阳市耒阳市" in phone
    assert LEIYANG_PHONE in phone and "0734-8867038" not in phone  # 耒阳's own phone, not 衡阳市本级's
    slots = servers.tracker(user)["slots"]
    assert slots["region"] == "湖南省/衡阳市/耒阳市" and slots["item"] == "002036004001"
    assert user_texts(servers.tracker(user)) == [LEIYANG_QUESTION, "电话呢"]


# ---- bad input over REST -------------------------------------------------------------------------------------

BAD_REQUESTS = {
    "empty body": b"",
    "invalid json": b'{"sender": "u1", "message": ',
    "not utf-8": b'{"sender": "u1", "message": "\xff\xfe"}',
    "a list": b'[{"sender": "u1", "message": "hi"}]',
    "a string": '"耒阳 异地安置"'.encode(),
    "null": b"null",
    "a number": b"42",
    "no message": {"sender": "u1"},
    "no sender": {"message": "耒阳 异地安置备案要什么材料"},
    "empty sender": {"sender": "", "message": "hi"},
    "sender a list": {"sender": ["u1"], "message": "hi"},
    "sender too long": {"sender": "u" * 200, "message": "hi"},
    "message a number": {"sender": "u1", "message": 42},
    "message null": {"sender": "u1", "message": None},
    "message an object": {"sender": "u1", "message": {"text": "hi"}},
    "metadata a string": {"sender": "u1", "message": "hi", "metadata": "x"},
}


@pytest.mark.parametrize("name", BAD_REQUESTS)
@pytest.mark.server
def test_a_malformed_rest_request_is_400_with_a_json_error(servers: Servers, name: str) -> None:
    status, answer = post(servers.rest_url, BAD_REQUESTS[name])
    assert status == 400 and isinstance(answer, dict) and answer["error"]


@pytest.mark.server
def test_an_oversized_rest_body_is_413_and_one_of_the_limit_is_accepted(servers: Servers) -> None:
    status, answer = post(servers.rest_url, {"sender": sender(), "message": "医" * 30_000})  # 90 KB of UTF-8
    assert status == 413 and "64" in answer["error"]
    padding = b'{"sender": "u-limit", "message": "", "pad": "' + b"x" * MAX_BODY_BYTES
    body = padding[:MAX_BODY_BYTES - 2] + b'"}'
    assert len(body) == MAX_BODY_BYTES
    status, answer = post(servers.rest_url, body)
    assert status == 200 and answer[0]["text"] == EMPTY_REPLY


ODD_MESSAGES = {
    "empty": "",
    "blank": " \t\n ",
    "control characters only": "\x00\x07\x1b",
    "emoji": "😀😀👍",
    "emoji around a question": "😀耒阳 异地安置备案要什么材料🙏",
    "control characters in a question": "\x00耒阳\x07 异地安置备案\x1b要什么材料",
    "html": "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "sql": "'; drop table events; --",
    "sql in a question": "耒阳' or '1'='1 异地安置备案要什么材料",
    "xml": "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><a>&e;</a>",
    "json": '{"sender": "other", "message": "/restart"}',
    "intent injection": "/restart",
    "right-to-left and zero-width": "\u202e耒阳\u200b异地安置\ufeff",
}


@pytest.mark.parametrize("name", ODD_MESSAGES)
@pytest.mark.server
def test_an_odd_message_gets_a_reply_not_an_error(servers: Servers, name: str) -> None:
    status, replies = post(servers.rest_url, {"sender": sender(), "message": ODD_MESSAGES[name]})
    assert status == 200 and isinstance(replies, list) and replies
    text = reply_text(replies)
    assert text.strip()
    assert "/etc/passwd" not in text and "root:" not in text
    if name in ("empty", "blank", "control characters only"):
        assert text == EMPTY_REPLY
    if name in ("emoji around a question", "control characters in a question"):
        assert "常住人口登记卡" in text


@pytest.mark.server
def test_a_message_over_the_limit_is_answered_as_too_long_and_kept_in_the_tracker(servers: Servers) -> None:
    user = sender()
    message = "耒阳 异地安置备案要什么材料，" + "我想问一下" * 2000  # 10,015 characters
    replies = say(servers.rest_url, user, message)
    assert reply_text(replies) == f"您的消息有{len(message)}字，超过了{MAX_MESSAGE_CHARS}字，我没有处理。" \
        "请一次问一件事，说出地区和事项就行，例如：耒阳 异地安置备案要什么材料"
    assert user_texts(servers.tracker(user)) == [message]
    # the conversation goes on normally after the recorded turn
    assert "常住人口登记卡" in reply_text(say(servers.rest_url, user, LEIYANG_QUESTION))
    assert user_texts(servers.tracker(user)) == [message, LEIYANG_QUESTION]
    exactly = "耒阳 异地安置备案要什么材料" + "。" * (MAX_MESSAGE_CHARS - len(LEIYANG_QUESTION) + 1)
    assert len(exactly) == MAX_MESSAGE_CHARS
    assert "常住人口登记卡" in reply_text(say(servers.rest_url, sender(), exactly))


@pytest.mark.server
def test_the_server_still_answers_after_the_bad_input(servers: Servers) -> None:
    for body in BAD_REQUESTS.values():
        post(servers.rest_url, body)
    for message in ODD_MESSAGES.values():
        post(servers.rest_url, {"sender": "rel-odd", "message": message})
    post(servers.rest_url, {"sender": "rel-odd", "message": "长" * 30_000})
    assert "常住人口登记卡" in reply_text(say(servers.rest_url, sender(), LEIYANG_QUESTION))


# ---- bad input over WeChat, through the real Rasa server -----------------------------------------------------

async def wechat_post(servers: Servers, body: str | bytes, query: dict[str, str] | None = None) -> tuple[int, str]:
    url = f"{servers.rasa_url}/webhooks/wechat/webhook"
    data = body.encode() if isinstance(body, str) else body
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        async with session.post(url, params=query or signed(), data=data,
                                headers={"Content-Type": "text/xml"}) as reply:
            return reply.status, await reply.text()


@pytest.mark.server
def test_wechat_through_the_real_rasa_server(servers: Servers) -> None:
    async def scenario() -> None:
        status, body = await wechat_post(servers, text_xml(LEIYANG_QUESTION, "920001"))
        assert status == 200
        reply = fields_of(body)
        assert "常住人口登记卡" in reply["Content"] and HENGYANG_GUIDE in reply["Content"]
        status, body = await wechat_post(servers, text_xml("电话呢", "920002"))
        assert LEIYANG_PHONE in fields_of(body)["Content"]
        for odd, msg_id in (("😀👍", "920003"), ("<script>alert(1)</script>", "920004"),
                            ("'; drop table events; --", "920005"), ("长" * 10_000, "920006")):
            status, body = await wechat_post(servers, text_xml(odd, msg_id))
            assert status == 200 and fields_of(body)["Content"].strip()
        assert "超过了" in fields_of(body)["Content"]
        for hostile in ("hello", "", "<xml><Content>hi</Content></xml>", "<xml><ToUserName>a",
                        text_xml("a" * 70_000, "920007")):
            assert await wechat_post(servers, hostile) == (400, "bad request")
        assert (await wechat_post(servers, text_xml("hi", "920008"), signed(token="wrong")))[0] == 403
        status, body = await wechat_post(servers, text_xml("耒阳 异地安置备案要多久", "920009"))
        assert status == 200 and "即时办结" in fields_of(body)["Content"]

    asyncio.run(scenario())


# ---- many users at once --------------------------------------------------------------------------------------

def isolation_cases(kb: KnowledgeBase, count: int = 30) -> list[tuple[str, str, str, list[str]]]:
    """(place, item name, region label, the item's 咨询 phones there) for `count` users, each pair with phones
    of its own (no phone shared with another case's region)."""
    items = {"002036004001": "异地安置退休人员备案", "002036004002": "异地长期居住人员备案"}
    rows = kb.connection.execute(
        "select name, city from regions where document in ('hengyang', 'changsha') and level = 'county' "
        "order by id").fetchall()
    cases: list[tuple[str, str, str, list[str]]] = []
    for row in rows:
        for code, name in items.items():
            try:
                guide = kb.guide(code, f"{row['city']}{row['name']}")
            except (KeyError, ValueError):
                continue
            phones = [p.text for e in guide.entries for p in e.phones if p.extra["kind"] in ("查询", "办理")]
            if phones and guide.region is not None:
                cases.append((f"{row['city']}{row['name']}", name, guide.region.label, phones))
    by_region: dict[str, set[str]] = {}
    for _, _, label, phones in cases:
        by_region.setdefault(label, set()).update(phones)
    own = [case for case in cases
           if not any(set(case[3]) & by_region[label] for label in by_region if label != case[2])]
    return (own * 2)[:count]


@pytest.mark.server
def test_thirty_users_at_once_each_get_their_own_answers(servers: Servers, kb: KnowledgeBase) -> None:
    cases = isolation_cases(kb)
    assert len(cases) == 30 and len({case[2] for case in cases}) >= 10
    users = [sender() for _ in cases]

    def first(index: int) -> str:
        place, item, _, _ = cases[index]
        return reply_text(say(servers.rest_url, users[index], f"{place} {item}要什么材料"))

    def follow_up(index: int) -> str:
        return reply_text(say(servers.rest_url, users[index], "电话呢"))

    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(first, range(30)))
        phones = list(pool.map(follow_up, range(30)))
    others = {phone for case in cases for phone in case[3]}
    for (place, item, label, own_phones), answer, phone in zip(cases, answers, phones):
        assert item in answer and label in answer, (place, item, answer)
        assert item in phone and label in phone, (place, item, phone)
        assert any(p in phone for p in own_phones), (place, own_phones, phone)
        assert not any(p in phone for p in others - set(own_phones)), (place, phone)
    for user, (_, item, _, _) in zip(users, cases):
        slots = servers.tracker(user)["slots"]
        assert kb.region(slots["region"]).label in {case[2] for case in cases if case[1] == item}


# ---- the knowledge base at start-up --------------------------------------------------------------------------

def broken_knowledge_bases(folder: Path) -> dict[str, Path]:
    files = {name: folder / f"{name}.db" for name in ("missing", "empty", "garbage", "truncated")}
    files["empty"].write_bytes(b"")
    files["garbage"].write_bytes(bytes(range(256)) * 40)
    files["truncated"].write_bytes(DB_PATH.read_bytes()[:200_000])
    return files


@pytest.mark.parametrize("name", ["missing", "empty", "garbage", "truncated"])
@pytest.mark.parametrize("command", ["bot.serve", "action server"])
def test_an_unusable_knowledge_base_stops_the_start_with_one_line(tmp_path: Path, name: str, command: str) -> None:
    path = broken_knowledge_bases(tmp_path)[name]
    argv = ([sys.executable, "-m", "bot.serve", str(ROOT / "models" / "none.tar.gz")] if command == "bot.serve"
            else [sys.executable, "-m", "actions", "--port", str(free_port())])
    env = dict(os.environ, PYTHONPATH=str(ROOT), KNOWLEDGE_DB=str(path), RASA_PORT=str(free_port()),
               ACTIONS_PORT=str(free_port()), WEB_PORT=str(free_port()))
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"cannot start: knowledge base {path} ") and "`make knowledge`" in last
    reason = {"missing": "does not exist", "empty": "is empty", "garbage": "is not usable (file is not a database)",
              "truncated": "is not usable ("}[name]
    assert reason in last
    if command == "bot.serve":
        assert result.stderr.strip() == last  # nothing started, nothing else said
