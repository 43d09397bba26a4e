"""Safe by default, against the real servers: the servers of `make run` (trained model, action server, Rasa, web
server, on free ports, with a WeChat token, AES key and API token set) and the deployment of deploy/ (nginx, two
Rasa servers, two web servers, PostgreSQL, Redis), and a real browser (Debian's chromium).

- Rasa's HTTP API answers 401 without the token; nothing but Rasa and the web server listens beyond loopback;
  CORS only for the widget's origin.
- /api/chat: 80 rapid messages of one sender get 429s while another sender is answered; WeChat: an openid over its
  limit gets a polite text with a 200, a replayed (old) signed request a 403.
- The pages send a CSP without inline script, nosniff, Referrer-Policy and frame-ancestors; a message
  <img src=x onerror=alert(1)> through the widget and the console runs nothing; the widget shows the 429's text.
- No secret appears in the servers' logs.
- Through nginx only the channels and the web server answer; the REST channel is limited by nginx (limit_req); the
  limits and WeChat's MsgIds are shared by the processes (Redis).
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import pytest
from conftest import Servers, running_cluster, running_servers
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from test_browser import bot_texts, browser, fresh_demo_page, in_widget, wait  # noqa: F401  (browser: a fixture)
from test_wechat import AES_KEY, APP_ID, SLOW_DOWN, TOKEN, encrypted, fields_of, signed, text_xml

from bench.harness import process_tree
from deploy.cluster import Cluster

pytestmark = pytest.mark.server  # the servers of `make run`; the browser and cluster tests are marked too

XSS = "<img src=x onerror=alert(1)>"
API_TOKEN = "-api-token-" + uuid.uuid4().hex  # a leading "-", as secrets.token_urlsafe makes some
WECHAT_SECRET = "app-secret-" + uuid.uuid4().hex
SECRETS = {"RASA_AUTH_TOKEN": API_TOKEN, "WECHAT_TOKEN": TOKEN, "WECHAT_AES_KEY": AES_KEY, "WECHAT_APPID": APP_ID,
           "WECHAT_APPSECRET": WECHAT_SECRET}
QUESTION = "耒阳 异地安置备案要什么材料"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The servers of `make run` with every secret set, logging at DEBUG into one file (the passive reply waits
    for the bot: no customer-service message, which would call WeChat)."""
    folder = tmp_path_factory.mktemp("security")
    with running_servers(tmp_path_factory, "security-site", web=True, output=folder / "servers.log",
                         env={**SECRETS, "LOG_LEVEL": "DEBUG", "WECHAT_REPLY_DEADLINE": "30"}) as servers:
        yield servers


def request(url: str, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one request, error statuses included."""
    call = urllib.request.Request(url, body, headers or {}, method=method)
    try:
        with urllib.request.urlopen(call, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def chat(base: str, sender: str, message: str) -> tuple[int, dict[str, str], bytes]:
    return request(base + "/api/chat", "POST", json.dumps({"sender": sender, "message": message}).encode(),
                   {"Content-Type": "application/json"})


# ---- Rasa's HTTP API, the listening addresses, CORS ---------------------------------------------------------

API_CALLS = [("GET", "/conversations/{sender}/tracker", None), ("GET", "/conversations/{sender}/story", None),
             ("POST", "/conversations/{sender}/tracker/events",
              {"event": "slot", "name": "region", "value": "湖北省/武汉市"}),
             ("POST", "/conversations/{sender}/messages", {"text": "你好", "sender": "user"}),
             ("PUT", "/model", {"model_file": "/tmp/evil.tar.gz"}), ("DELETE", "/model", None),
             ("GET", "/domain", None), ("GET", "/status", None), ("POST", "/model/parse", {"text": "你好"})]


def test_rasa_http_api_refuses_callers_without_the_token(site: Servers) -> None:
    sender = "sec-" + uuid.uuid4().hex[:12]
    assert request(site.rest_url, "POST", json.dumps({"sender": sender, "message": QUESTION}).encode())[0] == 200
    for method, path, body in API_CALLS:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        for suffix in ("", "?token=wrong"):
            status, _, answer = request(site.rasa_url + path.format(sender=sender) + suffix, method, data,
                                        {"Content-Type": "application/json"})
            assert status == 401 and json.loads(answer)["reason"] == "NotAuthenticated", (method, path, suffix)
    tracker = site.tracker(sender)  # with the token: the conversation, which no refused call changed
    assert tracker["slots"]["region"] == "湖南省/衡阳市/耒阳市"
    assert [event["text"] for event in tracker["events"] if event["event"] == "user"] == [QUESTION]


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    return str(ipaddress.IPv6Address(b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))))


def listening(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket the process (and its children) listens on, from /proc."""
    inodes = set()
    for member in process_tree(pid):
        for fd in Path(f"/proc/{member}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.add((_address(address), int(port, 16)))
    return found


def test_only_rasa_and_the_web_server_listen_beyond_loopback(site: Servers) -> None:
    assert site.actions and site.rasa and site.web
    actions = listening(site.actions.pid)
    assert actions and all(ipaddress.ip_address(address).is_loopback for address, _ in actions), actions
    assert {port for _, port in actions} == {site.actions_port}
    assert {port for _, port in listening(site.rasa.pid)} == {site.rasa_port}  # the channels (and the API, token)
    assert {port for _, port in listening(site.web.pid)} == {site.web_port}


def test_cors_is_allowed_only_for_the_widget_s_origin(site: Servers) -> None:
    own, evil = f"http://localhost:{site.web_port}", "http://evil.example"
    for origin, allowed in ((own, True), (f"http://127.0.0.1:{site.web_port}", True), (evil, False)):
        status, headers, _ = request(site.rest_url, "OPTIONS", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert (headers.get("Access-Control-Allow-Origin") == origin) is allowed, (origin, status, headers)
        status, headers, _ = request(site.rest_url, "POST", json.dumps({"sender": "cors", "message": "你好"}).encode(),
                                     {"Origin": origin, "Content-Type": "application/json"})
        assert status == 200 and (headers.get("Access-Control-Allow-Origin") == origin) is allowed, origin
        assert headers.get("Access-Control-Allow-Origin") != "*"


# ---- rate limits and replays --------------------------------------------------------------------------------

def test_eighty_rapid_messages_of_one_sender_get_429s_while_another_sender_is_answered(site: Servers) -> None:
    fast, calm = "web-" + uuid.uuid4().hex[:24], "web-" + uuid.uuid4().hex[:24]
    started = time.monotonic()
    answers = [chat(site.web_url, fast, "你好") for _ in range(80)]
    statuses = [status for status, _, _ in answers]
    assert statuses == [200] * 20 + [429] * 60, statuses
    assert time.monotonic() - started < 60  # all within the minute of the limit
    _, headers, body = answers[-1]
    problem = json.loads(body)
    assert 1 <= problem["retry_after"] <= 60 and headers["Retry-After"] == str(problem["retry_after"])
    assert "太快" in problem["error"]
    status, _, body = chat(site.web_url, calm, QUESTION)
    assert status == 200 and "常住人口登记卡" in json.loads(body)[0]["text"]
    user_texts = [e["text"] for e in site.tracker(fast)["events"] if e["event"] == "user"]
    assert len(user_texts) == 20  # the refused messages never reached the bot


async def wechat_post(url: str, query: dict[str, str], body: str) -> tuple[int, str]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        async with session.post(url, params=query, data=body.encode(), headers={"Content-Type": "text/xml"}) as reply:
            return reply.status, await reply.text()


def test_wechat_refuses_replays_and_slows_down_a_fast_openid_with_a_200(site: Servers) -> None:
    url = f"{site.rasa_url}/webhooks/wechat/webhook"
    openid = "oSec" + uuid.uuid4().hex[:24]

    def message(text: str, msg_id: str) -> str:
        return text_xml(text, msg_id).replace("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", openid)

    async def scenario() -> None:
        replayed = signed(timestamp=1_400_000_000)  # signed correctly, in 2014
        assert await wechat_post(url, replayed, message(QUESTION, "880001")) == (403, "forbidden")
        query, body = encrypted(message(QUESTION, "880002"))  # safe mode, with the AES key
        status, reply = await wechat_post(url, query, body)
        assert status == 200 and "<Encrypt>" in reply
        for number in range(3, 22):
            status, reply = await wechat_post(url, signed(), message("你好", f"8800{number:02d}"))
            assert status == 200 and fields_of(reply)["Content"] != SLOW_DOWN, number
        status, reply = await wechat_post(url, signed(), message("你好", "880099"))
        assert status == 200 and fields_of(reply)["Content"] == SLOW_DOWN
        status, reply = await wechat_post(url, signed(), text_xml(QUESTION, "880100"))  # another openid
        assert status == 200 and "常住人口登记卡" in fields_of(reply)["Content"]

    asyncio.run(scenario())
    user_texts = [e["text"] for e in site.tracker(openid)["events"] if e["event"] == "user"]
    assert len(user_texts) == 20 and "880099" not in str(user_texts)


# ---- the pages, in a real browser ---------------------------------------------------------------------------

def test_pages_send_a_csp_without_inline_script_nosniff_and_no_framing(site: Servers) -> None:
    for path in ("/", "/agent"):
        status, headers, _ = request(site.web_url + path)
        policy = headers["Content-Security-Policy"]
        assert status == 200 and "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"


def watch_for_scripts(driver: WebDriver) -> None:
    """Record any call of alert() and any CSP violation of the page (the injected markup would cause one)."""
    driver.execute_script("""
        window.__ran = []; window.__violations = [];
        window.alert = (text) => window.__ran.push(String(text));
        document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));
    """)


def nothing_ran(driver: WebDriver) -> None:
    with pytest.raises(TimeoutException):
        WebDriverWait(driver, 1).until(expected_conditions.alert_is_present())
    assert driver.execute_script("return window.__ran") == []
    assert driver.execute_script("return window.__violations") == []


@pytest.mark.browser
def test_a_script_in_a_message_runs_neither_in_the_widget_nor_in_the_console(browser: WebDriver,  # noqa: F811
                                                                             site: Servers) -> None:
    fresh_demo_page(browser, site.web_url)
    watch_for_scripts(browser)
    in_widget(browser, ".bubble")[0].click()
    box, = in_widget(browser, "textarea")
    box.send_keys(XSS, Keys.ENTER)
    wait(browser, lambda d: len(bot_texts(d)) >= 2, 30)
    assert [element.text for element in in_widget(browser, ".msg.user .text")] == [XSS]
    assert not in_widget(browser, ".msg img") and not browser.find_elements(By.CSS_SELECTOR, "img")
    nothing_ran(browser)
    browser.refresh()  # the conversation (and the open panel) come back from localStorage, rendered escaped again
    watch_for_scripts(browser)
    wait(browser, lambda d: [e.get_attribute("textContent") for e in in_widget(d, ".msg.user .text")] == [XSS])
    assert not in_widget(browser, ".msg img")
    nothing_ran(browser)

    browser.get(site.web_url + "/agent")
    watch_for_scripts(browser)
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#city option")) > 10)
    browser.switch_to.active_element.send_keys(f"耒阳 异地安置 {XSS}", Keys.ENTER)
    wait(browser, lambda d: "0734-4269955" in d.find_element(By.ID, "card").text, 30)
    query = browser.find_element(By.ID, "q")
    query.send_keys(Keys.CONTROL, "a")
    query.send_keys(XSS, Keys.ENTER)
    wait(browser, lambda d: "没有找到" in d.find_element(By.ID, "status").text, 30)
    assert not browser.find_elements(By.CSS_SELECTOR, "img")
    nothing_ran(browser)
    # The policy itself is in force: an inline handler added by a script is blocked and reported.
    browser.execute_script("const i = document.createElement('img'); i.setAttribute('onerror', 'alert(2)');"
                           "i.src = 'x'; document.body.append(i);")
    wait(browser, lambda d: d.execute_script("return window.__violations").count("script-src-attr") == 1)
    assert browser.execute_script("return window.__ran") == []


@pytest.mark.browser
def test_the_widget_tells_a_sender_over_the_limit_to_slow_down(browser: WebDriver,  # noqa: F811
                                                                 site: Servers) -> None:
    fresh_demo_page(browser, site.web_url)
    in_widget(browser, ".bubble")[0].click()
    box, = in_widget(browser, "textarea")
    box.send_keys("你好", Keys.ENTER)
    wait(browser, lambda d: len(bot_texts(d)) >= 2, 30)
    sender = browser.execute_script("return JSON.parse(localStorage.getItem('ybzs-widget')).sender")
    assert [chat(site.web_url, sender, "你好")[0] for _ in range(19)] == [200] * 19  # the rest of its minute
    box.send_keys(QUESTION, Keys.ENTER)
    wait(browser, lambda d: "您发消息太快了" in bot_texts(d)[-1], 30)
    assert "连接不上" not in bot_texts(browser)[-1]
    assert in_widget(browser, ".msg.bot.error")  # shown, not kept in the conversation
    browser.refresh()
    wait(browser, lambda d: [e.get_attribute("textContent") for e in in_widget(d, ".msg.user .text")]
         == ["你好", QUESTION])
    assert not any("太快" in e.get_attribute("textContent") for e in in_widget(browser, ".msg"))


# ---- secrets ------------------------------------------------------------------------------------------------

def test_no_secret_is_in_the_logs(site: Servers) -> None:
    """After API calls with a wrong and the right token, a safe-mode WeChat message and a widget message (and
    whatever the tests above did), the servers' DEBUG log holds none of the secrets."""
    sender = "sec-" + uuid.uuid4().hex[:12]
    assert request(f"{site.rasa_url}/conversations/{sender}/tracker?token=wrong")[0] == 401
    assert site.tracker(sender)["sender_id"] == sender
    query, body = encrypted(text_xml(QUESTION, "770001").replace("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", sender))
    assert asyncio.run(wechat_post(f"{site.rasa_url}/webhooks/wechat/webhook", query, body))[0] == 200
    assert chat(site.web_url, "web-" + sender, QUESTION)[0] == 200
    assert site.output is not None
    log = site.output.read_text(encoding="utf-8", errors="replace")
    assert "User is not authenticated" in log and f"'{sender}'" in log  # the servers did log these, at DEBUG
    for name, value in SECRETS.items():
        if name != "WECHAT_APPID":
            assert value not in log, f"{name} is in the log"


# ---- the deployment (deploy/: nginx, two Rasa servers, two web servers, PostgreSQL, Redis) ------------------

@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """The deployment's topology with a low REST limit in nginx (2 r/s) and WeChat's limit at 5 a minute."""
    with running_cluster(request, "test-security-cluster", "deployment test", rasa_servers=2, web_servers=2,
                         rest_rate="2r/s", env={"WECHAT_TOKEN": TOKEN, "RATE_LIMIT_WECHAT": "5"}) as started:
        yield started


@pytest.mark.cluster
def test_through_nginx_only_the_channels_and_the_web_server_answer(cluster: Cluster) -> None:
    web_ports = {str(port) for port in cluster.web_ports}
    for method, path, body in API_CALLS:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        status, headers, _ = request(f"{cluster.url}{path.format(sender='someone')}?token={cluster.token}", method,
                                     data, {"Content-Type": "application/json"})
        assert status in (404, 405) and headers["X-Upstream"].rsplit(":", 1)[1] in web_ports, (method, path)
    status, headers, body = request(cluster.url + "/agent")
    assert status == 200 and "医保热线坐席台" in body.decode() and "Content-Security-Policy" in headers
    assert request(cluster.url + "/webhooks/rest/")[0] == 200
    for server in cluster.rasa_urls:  # on its own address, the API wants the token
        assert request(f"{server}/conversations/someone/tracker")[0] == 401
        assert request(f"{server}/conversations/someone/tracker?token={cluster.token}")[0] == 200
    for process in cluster.processes:  # every server of the cluster listens on loopback only
        for address, _ in listening(process.pid):
            assert ipaddress.ip_address(address).is_loopback, (process.args[:3], address)


@pytest.mark.cluster
def test_nginx_limits_the_rest_channel_per_client_address(cluster: Cluster) -> None:
    url = cluster.url + "/webhooks/rest/webhook"
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: request(url, "POST", b"{}")[0], range(120)))
    # 2 requests a second with bursts of 60 (rest_rate above): about 60 reach the channel (400: an empty body), the
    # rest are refused by nginx before they reach Rasa
    assert 40 <= statuses.count(400) <= 70 and statuses.count(429) >= 40 and set(statuses) == {400, 429}, statuses


@pytest.mark.cluster
def test_the_chat_limit_is_shared_by_the_web_servers(cluster: Cluster) -> None:
    fast, calm = "web-" + uuid.uuid4().hex[:24], "web-" + uuid.uuid4().hex[:24]
    answers = [chat(cluster.url, fast, "你好") for _ in range(30)]
    assert [status for status, _, _ in answers] == [200] * 20 + [429] * 10
    served = {headers["X-Upstream"].rsplit(":", 1)[1] for _, headers, _ in answers}
    assert served == {str(port) for port in cluster.web_ports}  # both web servers, one count
    assert chat(cluster.url, calm, "你好")[0] == 200


@pytest.mark.cluster
def test_wechat_limit_and_msgids_are_shared_by_the_rasa_servers(cluster: Cluster) -> None:
    urls = [f"{server}/webhooks/wechat/webhook" for server in cluster.rasa_urls]
    openid = "oSec" + uuid.uuid4().hex[:24]

    def message(text: str, msg_id: str) -> str:
        return text_xml(text, msg_id).replace("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", openid)

    async def scenario() -> None:
        first = await wechat_post(urls[0], signed(), message(QUESTION, "990001"))
        retry = await wechat_post(urls[1], signed(), message(QUESTION, "990001"))  # the retry reaches the other
        assert first[0] == retry[0] == 200
        assert "常住人口登记卡" in fields_of(first[1])["Content"]
        assert fields_of(retry[1])["Content"] == fields_of(first[1])["Content"]
        for number in range(2, 6):  # five messages a minute, counted over both servers
            status, reply = await wechat_post(urls[number % 2], signed(), message("你好", f"99000{number}"))
            assert status == 200 and fields_of(reply)["Content"] != SLOW_DOWN
        status, reply = await wechat_post(urls[0], signed(), message("你好", "990006"))
        assert status == 200 and fields_of(reply)["Content"] == SLOW_DOWN

    asyncio.run(scenario())
    tracker = request(f"{cluster.rasa_urls[0]}/conversations/{openid}/tracker?token={cluster.token}")[2]
    user_texts = [e["text"] for e in json.loads(tracker)["events"] if e["event"] == "user"]
    assert user_texts == [QUESTION] + ["你好"] * 4  # the retry was not asked again; the sixth not at all
