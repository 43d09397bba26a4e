"""The web server's JSON API through the real app on a free port with the real knowledge base, and its chat proxy
against a stub HTTP server standing in for Rasa's REST channel."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiohttp import web
from conftest import free_port

from bot.limits import MAX_MESSAGE_CHARS, Limits
from bot.web.server import create_app, serving
from knowledge.query import KnowledgeBase

LEIYANG = "湖南省/衡阳市/耒阳市"


def _stub_rasa(received: list[dict[str, Any]]) -> web.Application:
    """Answers like Rasa's REST channel: a list of messages with recipient_id, text and buttons."""
    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        if body["message"] == "坏了":
            return web.Response(status=500, text="boom")
        if body["message"].startswith("无声"):  # Rasa's answer when its actions failed: no message at all
            return web.json_response([])
        return web.json_response([
            {"recipient_id": body["sender"], "text": f"收到：{body['message']}"},
            {"recipient_id": body["sender"], "text": "请问您在哪个城市参保？",
             "buttons": [{"title": "衡阳", "payload": "衡阳"}, {"title": "长沙", "payload": "/inform{\"region\": \"长沙\"}"}]},
        ])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    return app


@pytest.fixture(scope="module")
def received() -> list[dict[str, Any]]:
    return []


@pytest.fixture(scope="module")
def base(kb: KnowledgeBase, received: list[dict[str, Any]]) -> Iterator[str]:
    with serving(_stub_rasa(received), "127.0.0.1", free_port()) as rasa_url:
        with serving(create_app(kb, rasa_url), "127.0.0.1", free_port()) as url:
            yield url


def call(base: str, path: str, params: dict[str, str] | None = None, body: bytes | None = None,
         method: str | None = None) -> tuple[int, str, Any]:
    """Status, Content-Type and decoded JSON of one request (error statuses included)."""
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"} if body else {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, content_type, raw = response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        status, content_type, raw = error.code, error.headers["Content-Type"], error.read()
    return status, content_type, json.loads(raw.decode("utf-8"))


def get(base: str, path: str, **params: str) -> tuple[int, Any]:
    status, content_type, data = call(base, path, params)
    assert content_type == "application/json; charset=utf-8"
    return status, data


def post_chat(base: str, body: Any) -> tuple[int, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    status, _, data = call(base, "/api/chat", body=raw)
    return status, data


# Regions ---------------------------------------------------------------------------------------------------

def test_region_tree_goes_down_to_counties(base: str) -> None:
    status, data = get(base, "/api/regions")
    assert status == 200
    provinces = {node["name"]: node for node in data["regions"]}
    cities = {city["name"]: city for city in provinces["湖南省"]["children"]}
    counties = {county["name"]: county for county in cities["衡阳市"]["children"]}
    assert counties["耒阳市"]["id"] == LEIYANG and counties["耒阳市"]["document"] == "hengyang"
    assert "宜章县" in {county["name"] for county in cities["郴州市"]["children"]}
    assert cities["株洲市"]["document"] == "hunan2025"
    assert "醴陵市" in {county["name"] for county in cities["株洲市"]["children"]}
    assert {city["document"] for city in provinces["湖北省"]["children"]} == {"hubei"}
    assert provinces["北京市"]["covered"] is False


# Guides ----------------------------------------------------------------------------------------------------

def test_guide_of_a_county_has_every_field_with_its_source(base: str) -> None:
    status, content_type, guide = call(base, "/api/guide", {"item": "002036004001", "region": "耒阳"})
    assert status == 200 and content_type == "application/json; charset=utf-8"
    assert guide["code"] == "002036004001" and guide["name"] == "异地安置退休人员备案"
    assert guide["region"]["id"] == LEIYANG and guide["document"]["id"] == "hengyang"
    entry, = guide["entries"]
    phones = {(phone["kind"], phone["text"], phone["qualifier"]) for phone in entry["phones"]}
    assert ("查询", "0734-4269955", "职工") in phones and ("查询", "0734-4322176", "居民") in phones
    assert ("监督", "0734-4351615", None) in phones
    assert all(phone["unit"] == "耒阳市" for phone in entry["phones"])
    assert entry["offices"][0]["text"] == "耒阳市西湖南路566号"
    assert any("常住人口登记卡" in material["text"] for material in entry["materials"])
    assert [limit["text"] for limit in entry["time_limits"]] == ["即时办结"]
    assert len(entry["process"]) == 3 and {"湘医保", "智慧人社"} <= {c["name"] for c in entry["online_channels"]}
    form, = entry["forms"]
    assert form["text"] == "衡阳市异地就医备案登记表" and form["number"] == "表17" and len(form["notes"]) == 4
    assert {section["name"] for section in entry["sections"]} >= {"事项名称", "服务对象", "办理渠道"}
    assert entry["source"] == {"document": "hengyang", "first_line": 3468, "last_line": 3718,
                               "citation": "《衡阳市医疗保障经办政务服务事项办事指南》第3468–3718行"}
    assert entry["phones"][0]["source"]["first_line"] == 3557
    assert {conflict["topic"] for conflict in guide["conflicts"]} >= {"异地安置认定材料能否用个人承诺书"}
    assert all(conflict["hunan2025"]["source"]["document"] == "hunan2025" for conflict in guide["conflicts"])
    assert "city-guides-no-legal-basis" in {gap["id"] for gap in guide["gaps"]}


def test_guide_by_region_id_name_alias_and_typo_agree(base: str) -> None:
    guides = [get(base, "/api/guide", item=item, region=region)[1]
              for item, region in (("002036004001", LEIYANG), ("异地安置", "来阳"), ("002036004001", "耒阳市"))]
    assert [guide["region"].pop("typed") for guide in guides] == ["", "来阳", "耒阳市"]
    assert guides[0] == guides[1] == guides[2]


def test_a_chenzhou_county_is_served_by_the_city_guide_with_the_annex_gap(base: str) -> None:
    status, guide = get(base, "/api/guide", item="002036004001", region="宜章")
    assert status == 200
    assert guide["region"]["label"] == "郴州市宜章县" and guide["document"]["id"] == "chenzhou"
    assert guide["entries"][0]["phones"] == [] and guide["entries"][0]["offices"] == []
    gap = next(gap for gap in guide["gaps"] if gap["id"] == "chenzhou-offices-phones")
    assert "附件2" in gap["statement"]


def test_other_hunan_cities_get_the_2025_list_with_its_legal_basis(base: str) -> None:
    status, guide = get(base, "/api/guide", item="002036004001", region="株洲")
    assert status == 200 and guide["document"]["id"] == "hunan2025"
    assert guide["entries"][0]["legal_basis"][0]["source"]["document"] == "hunan2025"


# Search ----------------------------------------------------------------------------------------------------

def test_search_resolves_the_region_from_the_text(base: str) -> None:
    status, data = get(base, "/api/search", q="耒阳 异地安置 电话")
    assert status == 200
    assert data["region"]["id"] == LEIYANG and data["region_from"] == "text" and data["region"]["typed"] == "耒阳"
    assert data["items"][0]["code"] == "002036004001"
    assert data["aspects"] == ["phone"]


def test_search_with_a_region_parameter_uses_it(base: str) -> None:
    status, data = get(base, "/api/search", q="耒阳 异地安置", region="湖南省/长沙市")
    assert status == 200 and data["region"]["name"] == "长沙市" and data["region_from"] == "param"
    assert data["items"][0]["code"] == "002036004001"


def test_search_reports_an_ambiguous_place_and_a_missing_one(base: str) -> None:
    _, ambiguous = get(base, "/api/search", q="高新区 生育津贴")
    assert ambiguous["region"] is None
    assert {region["label"] for region in ambiguous["alternatives"]} == {"长沙市高新区", "衡阳市高新区"}
    _, nowhere = get(base, "/api/search", q="生育津贴")
    assert nowhere["region"] is None and nowhere["region_from"] is None
    assert nowhere["items"][0]["code"] == "002036007004"
    _, only_place = get(base, "/api/search", q="耒阳")
    assert only_place["items"] == [] and only_place["region"]["id"] == LEIYANG


# Errors ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, params", [
    ("/api/guide", {"region": "耒阳"}),
    ("/api/guide", {"item": "002036004001"}),
    ("/api/guide", {"item": "  ", "region": "耒阳"}),
    ("/api/guide", {"item": "002036004001", "region": "高新区"}),
    ("/api/guide", {"item": "002036004001", "region": "耒阳" * 101}),
    ("/api/search", {}),
    ("/api/search", {"q": " "}),
    ("/api/search", {"q": "异" * 201}),
])
def test_bad_or_missing_parameters_are_400(base: str, path: str, params: dict[str, str]) -> None:
    status, data = get(base, path, **params)
    assert status == 400 and data["error"]


def test_an_ambiguous_region_lists_the_alternatives(base: str) -> None:
    _, data = get(base, "/api/guide", item="002036004001", region="高新区")
    assert [region["id"] for region in data["alternatives"]] == ["湖南省/长沙市/高新区", "湖南省/衡阳市/高新区"]


@pytest.mark.parametrize("path, params", [
    ("/api/guide", {"item": "000000000000", "region": "耒阳"}),
    ("/api/guide", {"item": "你好", "region": "耒阳"}),
    ("/api/guide", {"item": "002036004001", "region": "火星"}),
    ("/api/guide", {"item": "002036004001", "region": "北京"}),
    ("/api/search", {"q": "异地安置", "region": "火星"}),
    ("/api/nothing", {}),
])
def test_unknown_items_regions_and_routes_are_404(base: str, path: str, params: dict[str, str]) -> None:
    status, data = get(base, path, **params)
    assert status == 404 and data["error"]


@pytest.mark.parametrize("value", ["%", "%%%", "'; drop table items; --", "<script>", "\x00", "\u200b", "🙂" * 50,
                                   "湖南省/", "/", "002036004001-9", "0731-999"])
def test_odd_values_never_fail_the_server(base: str, value: str) -> None:
    for path, params in (("/api/search", {"q": value}), ("/api/search", {"q": "生育", "region": value}),
                         ("/api/guide", {"item": value, "region": "耒阳"}),
                         ("/api/guide", {"item": "002036004001", "region": value})):
        status, data = get(base, path, **params)
        assert status in (200, 400, 404), (path, params, data)


def test_wrong_method_is_a_json_405(base: str) -> None:
    status, content_type, data = call(base, "/api/guide", body=b"{}", method="POST")
    assert status == 405 and content_type == "application/json; charset=utf-8" and data["error"]


# Chat proxy ------------------------------------------------------------------------------------------------

def test_chat_is_forwarded_to_rasa_and_answered_with_text_and_buttons(
        base: str, received: list[dict[str, Any]]) -> None:
    status, replies = post_chat(base, {"sender": "web-abc123", "message": "耒阳 异地安置备案要什么材料"})
    assert status == 200
    assert received[-1] == {"sender": "web-abc123", "message": "耒阳 异地安置备案要什么材料",
                            "metadata": {"channel": "widget"}}
    assert replies == [
        {"text": "收到：耒阳 异地安置备案要什么材料"},
        {"text": "请问您在哪个城市参保？",
         "buttons": [{"title": "衡阳", "payload": "衡阳"}, {"title": "长沙", "payload": "/inform{\"region\": \"长沙\"}"}]},
    ]


@pytest.mark.parametrize("body", [
    b"not json", b"[1, 2]", {"message": "你好"}, {"sender": "", "message": "你好"},
    {"sender": "a b<c>", "message": "你好"}, {"sender": "u1"}, {"sender": "u1", "message": "   "},
    {"sender": "u1", "message": 42}, {"sender": "u1", "message": "长" * 1001},
])
def test_bad_chat_requests_are_400_and_never_reach_rasa(
        base: str, received: list[dict[str, Any]], body: Any) -> None:
    before = len(received)
    status, data = post_chat(base, body)
    assert status == 400 and data["error"]
    assert len(received) == before


def test_an_oversized_chat_body_is_413(base: str) -> None:
    status, data = post_chat(base, {"sender": "u1", "message": "长" * 30000})
    assert status == 413 and data["error"]


def test_an_empty_answer_from_rasa_becomes_the_hotline_reply(base: str) -> None:
    status, replies = post_chat(base, {"sender": "u1", "message": "无声 耒阳 异地安置备案电话"})
    assert status == 200 and len(replies) == 1
    text = replies[0]["text"]
    assert text.startswith("抱歉，我现在暂时查不了办事指南")
    assert "衡阳市耒阳市" in text and "0734-4269955" in text and "《衡阳市医疗保障经办政务服务事项办事指南》" in text


def test_a_failing_or_absent_rasa_is_a_502(base: str, kb: KnowledgeBase) -> None:
    status, data = post_chat(base, {"sender": "u1", "message": "坏了"})
    assert status == 502 and data["error"]
    with serving(create_app(kb, f"http://127.0.0.1:{free_port()}"), "127.0.0.1", free_port()) as lonely:
        status, data = post_chat(lonely, {"sender": "u1", "message": "你好"})
    assert status == 502 and data["error"] == "无法连接助手服务"


def test_pages_and_widget_are_served_as_utf8(base: str) -> None:
    for path, content_type, marker in (("/", "text/html", '<script src="/widget.js" data-rasa="/api/chat">'),
                                       ("/agent", "text/html", "医保热线坐席台"),
                                       ("/widget.js", "text/javascript", "attachShadow"),
                                       ("/widget.css", "text/css", ".bubble")):
        with urllib.request.urlopen(base + path, timeout=10) as response:
            assert response.headers["Content-Type"] == f"{content_type}; charset=utf-8"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert marker in response.read().decode("utf-8")


def test_the_widget_lets_a_user_type_what_the_server_accepts(base: str) -> None:
    with urllib.request.urlopen(base + "/widget.js", timeout=10) as response:
        assert f'maxlength="{MAX_MESSAGE_CHARS}"' in response.read().decode("utf-8")


def test_every_response_forbids_sniffing_framing_and_referrers(base: str) -> None:
    for path in ("/", "/agent", "/widget.js", "/api/regions", "/api/nothing", "/nothing"):
        try:
            response = urllib.request.urlopen(base + path, timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Frame-Options"] == "DENY", path
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy, path
        assert policy.startswith("default-src 'self'" if path in ("/", "/agent") else "default-src 'none'"), path


@contextmanager
def limited_chat(kb: KnowledgeBase, received: list[dict[str, Any]], **options: Any) -> Iterator[str]:
    """The web app with the given limits before the stub Rasa."""
    with serving(_stub_rasa(received), "127.0.0.1", free_port()) as rasa_url:
        with serving(create_app(kb, rasa_url, **options), "127.0.0.1", free_port()) as url:
            yield url


def chat_with_headers(base: str, sender: str, headers: dict[str, str] | None = None) -> tuple[int, Any, str | None]:
    body = json.dumps({"sender": sender, "message": "你好"}).encode()
    request = urllib.request.Request(base + "/api/chat", body, {"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response), response.headers["Retry-After"]
    except urllib.error.HTTPError as error:
        return error.code, json.load(error), error.headers["Retry-After"]


def test_chat_is_limited_per_sender_with_a_429_that_says_to_slow_down(kb: KnowledgeBase) -> None:
    received: list[dict[str, Any]] = []
    with limited_chat(kb, received, limits=Limits(sender=3, address=100)) as base:
        assert [chat_with_headers(base, "web-fast")[0] for _ in range(5)] == [200, 200, 200, 429, 429]
        status, data, retry_after = chat_with_headers(base, "web-fast")
        assert status == 429 and 1 <= data["retry_after"] <= 60 and retry_after == str(data["retry_after"])
        assert data["error"] == f"您发消息太快了，请稍等 {data['retry_after']} 秒再发。"
        assert chat_with_headers(base, "web-calm")[0] == 200
    assert [body["sender"] for body in received] == ["web-fast"] * 3 + ["web-calm"]


def test_chat_is_limited_per_client_address_and_trusts_x_real_ip_only_behind_a_proxy(kb: KnowledgeBase) -> None:
    received: list[dict[str, Any]] = []
    with limited_chat(kb, received, limits=Limits(sender=100, address=2)) as base:
        statuses = [chat_with_headers(base, f"web-{n}", {"X-Real-IP": f"10.0.0.{n}"})[0] for n in range(3)]
        assert statuses == [200, 200, 429]  # one address (the peer's): the header is not believed
    with limited_chat(kb, received, limits=Limits(sender=100, address=2), behind_proxy=True) as base:
        assert [chat_with_headers(base, f"web-{n}", {"X-Real-IP": "10.0.0.1"})[0] for n in range(3)] == [200, 200, 429]
        assert chat_with_headers(base, "web-9", {"X-Real-IP": "10.0.0.2"})[0] == 200


def test_limits_come_from_the_environment_and_0_switches_one_off() -> None:
    assert Limits.load({}) == Limits(sender=20, address=300, wechat=20)
    assert Limits.load({"RATE_LIMIT_SENDER": "0", "RATE_LIMIT_ADDRESS": "50", "RATE_LIMIT_WECHAT": "7"}) == \
        Limits(sender=0, address=50, wechat=7)
    with pytest.raises(ValueError, match="RATE_LIMIT_SENDER must be 0"):
        Limits.load({"RATE_LIMIT_SENDER": "-1"})
