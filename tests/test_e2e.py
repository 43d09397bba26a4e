"""End to end: the real action server and Rasa server with the trained model, talked to through the REST
channel. Includes a test generated from the knowledge base: every item of every document, and every aspect
the document gives it, is reached by a natural question and answered with the document's own facts."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from conftest import Servers, reply_text, say

from knowledge.query import GuideEntry, KnowledgeBase
from knowledge.text import normalize

pytestmark = pytest.mark.server  # the real Rasa and action servers with the trained model

REGIONS = {"hengyang": "耒阳", "chenzhou": "郴州", "changsha": "长沙市本级", "hunan2025": "株洲", "hubei": "武汉"}
QUESTIONS = {
    "materials": "{region} {name}要什么材料", "time_limit": "{region} {name}要多久",
    "office": "{region} {name}在哪里办", "phone": "{region} {name}咨询电话多少",
    "supervision": "{region} {name}监督电话是多少", "process": "{region} {name}办理流程是什么",
    "eligibility": "{region} {name}什么人可以办", "legal_basis": "{region} {name}的设定依据是什么",
    "online": "{region} {name}能在网上办吗", "form": "{region} {name}要填什么表",
}


@pytest.fixture(scope="module")
def rest(servers: Servers) -> str:
    """The REST webhook URL of the real servers (conftest.servers: free ports, the trained model)."""
    return servers.rest_url


def converse(url: str, *messages: str) -> list[str]:
    sender = uuid.uuid4().hex
    return [reply_text(say(url, sender, message)) for message in messages]


def test_a_county_question_and_its_follow_ups(rest: str) -> None:
    materials, time_limit, phone = converse(rest, "来阳的 异地安置备案要什么材料", "那要多久？", "电话呢")
    assert "常住人口登记卡" in materials and "衡阳市异地就医备案登记表" in materials
    assert "来源：《衡阳市医疗保障经办政务服务事项办事指南》" in materials
    assert "即时办结" in time_limit
    assert "0734-4269955" in phone and "0734-8867038" not in phone


def test_clarification_then_region_switch(rest: str) -> None:
    ask, changsha, zhuzhou = converse(rest, "生育津贴要多久", "长沙", "那株洲呢")
    assert "哪个城市" in ask
    assert "不超过20个工作日" in changsha.replace(" ", "")
    assert "不超过10个工作日" in zhuzhou and "2025年版" in zhuzhou


def test_ambiguous_item_options_answered_with_a_digit(rest: str) -> None:
    options, answer = converse(rest, "衡阳 备案要带什么材料", "2")
    assert "1. 以后长期在外地" in options and "2. 只是这一次去外地看病" in options
    assert "转诊（转院）单" in answer and "1. 有转诊单" in answer


def test_buttons_are_returned_for_quick_replies(rest: str) -> None:
    replies = say(rest, uuid.uuid4().hex, "特门要什么材料")
    assert any(reply.get("buttons") for reply in replies)


def test_out_of_scope_and_handoff(rest: str) -> None:
    decline, handoff = converse(rest, "社保卡丢了怎么补办", "我是祁东的 转人工")
    assert "医保" in decline and "工作日" not in decline
    assert "0734-6373655" in handoff


@pytest.mark.parametrize("message", ["", " ", "😀😀", "a" * 10000, "<script>alert(1)</script>", "'; drop table x;--",
                                     "\x00\x07控制字符", "<?xml version='1.0'?><a>&lt;</a>"])
def test_bad_input_gets_an_answer_not_an_error(rest: str, message: str) -> None:
    replies = say(rest, uuid.uuid4().hex, message)
    assert replies and all(reply.get("text") for reply in replies), replies


def _reachability_cases() -> Iterator[tuple[str, str, str, str]]:
    kb = KnowledgeBase()
    for document, region in REGIONS.items():
        rows = kb.connection.execute("select key from items where document = ? order by key", (document,))
        for (key,) in rows.fetchall():
            for aspect in QUESTIONS:
                yield document, region, key, aspect


def _expected(kb: KnowledgeBase, entry: GuideEntry, aspect: str) -> list[str]:
    """Strings one of which a right answer contains: the document's own facts for that aspect, or, where the
    document has none, the words of the assistant saying so."""
    gap_words = ["未写", "未列", "没有", "附件2"]
    if aspect == "materials":
        return [normalize(m.text)[:12] for m in entry.materials[:1]] or gap_words
    if aspect == "time_limit":
        return [normalize(t.text) for t in entry.time_limits[:1]] or gap_words
    if aspect == "office":
        facts = [normalize(o.text)[:10] for o in entry.offices[:1]]
        facts += [normalize(s.text)[:10] for name, s in entry.sections.items() if name in ("办理渠道", "受理单位")]
        return facts or gap_words
    if aspect == "phone":
        return [p.text for p in entry.phones if p.extra["kind"] in ("查询", "办理", "医院")] or gap_words
    if aspect == "supervision":
        return [p.text for p in entry.phones if p.extra["kind"] == "监督"] or gap_words
    if aspect == "process":
        return [normalize(s.text)[:10] for s in entry.process[:1]] + \
            [normalize(s.text)[:10] for n, s in entry.sections.items() if n == "办理环节"] or gap_words
    if aspect == "eligibility":
        return [normalize(s.text)[:10] for n, s in entry.sections.items() if n == "服务对象"] + \
            [normalize(m.text)[:12] for m in entry.materials[:1]] or gap_words
    if aspect == "legal_basis":
        own = [normalize(f.text)[:12] for f in entry.legal_basis[:1]]
        if own:
            return own
        provincial = kb.guide(entry.code, document="hunan2025") if entry.code else None
        basis = [normalize(f.text)[:12] for e in (provincial.entries if provincial else []) for f in e.legal_basis]
        return basis[:1] + gap_words
    if aspect == "online":
        return [normalize(c.text)[:8] for c in entry.online_channels] + gap_words + ["办理渠道"]
    return [normalize(f.text)[:10] for f in entry.forms] + [normalize(m.text)[:10] for m in entry.materials] + \
        gap_words


@pytest.mark.parametrize(("document", "region", "key", "aspect"), list(_reachability_cases()))
def test_every_item_and_aspect_is_reached_by_a_natural_question(rest: str, document: str, region: str, key: str,
                                                                aspect: str) -> None:
    kb = KnowledgeBase()
    guide = kb.guide(key, region)
    entry = next(e for e in guide.entries if e.key == key)
    name = re.sub(r"[《》“”\"]", "", entry.name)
    sender = uuid.uuid4().hex
    answer = reply_text(say(rest, sender, QUESTIONS[aspect].format(region=region, name=name)))
    if "请问您要办理哪一项" in answer:
        number = next(line.split(".")[0] for line in answer.splitlines()
                      if line.endswith(entry.name) and line[:1].isdigit())
        answer = reply_text(say(rest, sender, number))
    reply = normalize(answer)
    assert normalize(entry.name)[:6] in reply, answer
    assert any(normalize(fact) in reply for fact in _expected(kb, entry, aspect)), answer
