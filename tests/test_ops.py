"""The operations console against the real servers (trained model, action server, Rasa, web server on free ports)
and a real browser: 100 mixed conversations through the REST channel, the widget's /api/chat and WeChat are counted
on the dashboard by kind; no ID or phone number typed by a user is stored; the inbox lists what the assistant could
not place and labelling writes the data files; a 👎 in the widget reaches the dashboard; logins, roles, CSRF and
lock-out; the retention purge."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Servers, post, reply_text, running_servers, say
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select
from test_browser import bot_texts, browser, fresh_demo_page, in_widget, wait  # noqa: F401  (browser: a fixture)
from test_wechat import TOKEN, sha1_sorted

from bot.ops.store import tracker_store_url
from bot.purge import default_db

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "screenshots"
SALT = "test-salt-" + "0123456789abcdef"
ID_NUMBER, PHONE = "430421199001011234", "13812345678"
ADMIN, OPERATOR = ("ada", "admin-password-1"), ("otto", "operator-password-1")
# Conversations with the kind of reply each message gets (actions/turn_record.py, bot/ops/store.py).
SCRIPTS = [
    [("耒阳 异地安置备案要什么材料", "answer")],
    [("生育津贴要多久", "clarify"), ("长沙", "answer")],
    [("你好", "smalltalk"), ("郴州 医保关系转移怎么办", "answer"), ("再见", "smalltalk")],
    [("今天天气怎么样", "out_of_scope")],
    [("转人工", "handoff")],
    [("你好 我有个事情想请教一下您", "fallback")],
    [("长沙", "clarify")],  # the general menu
    [(f"我的手机号{PHONE} 衡阳 门诊慢特病要带什么", "answer")],
    [(f"身份证{ID_NUMBER} 耒阳 异地安置备案要什么材料", "answer")],
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The servers with a WeChat token, no per-address limit (every client here is 127.0.0.1), clarifying
    questions counted as abandoned at once, labels written into a scratch repository; two users."""
    repo = tmp_path_factory.mktemp("ops-repo")
    with running_servers(tmp_path_factory, "ops", web=True, output=repo / "servers.log",
                         env={"OPS_SENDER_SALT": SALT, "WECHAT_TOKEN": TOKEN, "RATE_LIMIT_ADDRESS": "0",
                              "OPS_ABANDON_MINUTES": "0", "OPS_REPO_ROOT": str(repo)}) as servers:
        for (name, password), role in ((ADMIN, "admin"), (OPERATOR, "operator")):
            add = ops_command(servers, "user", "add", name, "--role", role, stdin=password + "\n")
            assert add.returncode == 0 and f"user {name} ({role}) saved" in add.stdout, add.stderr
        servers.repo = repo
        yield servers


def ops_command(servers: Servers, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.ops", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                                      "OPS_DB": servers.env["OPS_DB"],
                                                      "TRACKER_DB": str(servers.tracker_db)})


class Client:
    """A browser-like HTTP client of the console: a cookie jar, the CSRF token after login."""

    def __init__(self, base: str) -> None:
        self.base, self.csrf = base, ""
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()),
                                                  NoRedirect())

    def request(self, method: str, path: str, body: Any = None, csrf: bool = True,
                headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        sent = {"Content-Type": "application/json", **(headers or {})}
        if csrf and self.csrf:
            sent["X-CSRF-Token"] = self.csrf
        request = urllib.request.Request(self.base + path, data, sent, method=method)
        try:
            with self.opener.open(request, timeout=60) as response:
                status, raw, got = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, raw, got = error.code, error.read(), dict(error.headers)
        try:
            return status, json.loads(raw), got
        except ValueError:
            return status, raw.decode("utf-8", "replace"), got

    def login(self, name: str, password: str) -> int:
        status, body, _ = self.request("POST", "/ops/api/login", {"name": name, "password": password})
        if status == 200:
            self.csrf = body["csrf"]
        return status


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def logged_in(servers: Servers, user: tuple[str, str]) -> Client:
    client = Client(servers.web_url)
    assert client.login(*user) == 200
    return client


def wechat(servers: Servers, openid: str, text: str, msg_id: int) -> str:
    """A plaintext WeChat push from `openid`, signed as WeChat signs it; the reply's text."""
    timestamp, nonce = str(int(time.time())), str(msg_id)
    query = urllib.parse.urlencode({"signature": sha1_sorted(TOKEN, timestamp, nonce), "timestamp": timestamp,
                                    "nonce": nonce, "openid": openid})
    body = (f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    request = urllib.request.Request(f"{servers.rasa_url}/webhooks/wechat/webhook?{query}", body.encode(),
                                     {"Content-Type": "text/xml"})
    with urllib.request.urlopen(request, timeout=60) as response:
        xml = response.read().decode()
    return xml.split("<Content><![CDATA[", 1)[1].split("]]></Content>", 1)[0]


@pytest.fixture(scope="module")
def traffic(site: Servers) -> dict[str, Any]:
    """100 conversations: 60 through REST, 30 through the widget's /api/chat, 10 through WeChat (which then says
    没用 to its answer); one REST user gives 👍 through /api/feedback."""
    kinds: Counter[str] = Counter()
    messages = 0
    for number in range(100):
        script = SCRIPTS[number % len(SCRIPTS)]
        channel = "rest" if number % 10 < 6 else "widget" if number % 10 < 9 else "wechat"
        sender = {"rest": f"rest-{number}", "widget": f"web-{number:024x}", "wechat": f"oOps{number:024d}"}[channel]
        for step, (text, kind) in enumerate(script):
            if channel == "rest":
                reply = reply_text(say(site.rest_url, sender, text))
            elif channel == "widget":
                status, replies = post(f"{site.web_url}/api/chat", {"sender": sender, "message": text})
                assert status == 200, replies
                reply = reply_text(replies)
            else:
                reply = wechat(site, sender, text, 7000000 + number * 10 + step)
            assert reply and "暂时查不了" not in reply, (text, reply)
            kinds[kind] += 1
            messages += 1
    thanks = wechat(site, "oOps" + f"{9:024d}", "没用", 7999999)  # conversation 9: one answer
    assert thanks.startswith("谢谢您的反馈")
    assert post(f"{site.web_url}/api/feedback", {"sender": "rest-0", "rating": "up"})[0] == 201
    return {"kinds": kinds, "messages": messages}


@pytest.mark.server
def test_anonymous_visitors_get_the_login_page_and_no_data(site: Servers) -> None:
    anonymous = Client(site.web_url)
    for page in ("/ops", "/ops/inbox"):
        status, _, headers = anonymous.request("GET", page)
        assert status == 303 and headers["Location"] == "/ops/login"
    status, body, headers = anonymous.request("GET", "/ops/login")
    assert status == 200 and "运营后台" in body and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    for path in ("/ops/api/stats", "/ops/api/inbox", "/ops/api/export.csv", "/ops/api/users", "/ops/api/try?q=a"):
        assert anonymous.request("GET", path)[0] == 401, path
    assert anonymous.request("POST", "/ops/api/label", {"turn_ids": [1], "decision": "out_of_scope"})[0] == 401
    status, _, _ = Client(site.web_url).request("GET", "/agent")
    assert status == 200  # the agent console stays open


@pytest.mark.server
def test_login_sets_a_strict_httponly_cookie_and_wrong_roles_are_refused(site: Servers) -> None:
    client = Client(site.web_url)
    status, body, headers = client.request("POST", "/ops/api/login", {"name": OPERATOR[0], "password": OPERATOR[1]})
    assert status == 200 and body["role"] == "operator"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/ops" in cookie
    client.csrf = body["csrf"]
    assert client.request("GET", "/ops/api/stats")[0] == 200
    assert client.request("GET", "/ops/api/export.csv")[0] == 403
    assert client.request("GET", "/ops/api/users")[0] == 403
    assert client.request("POST", "/ops/api/users", {"name": "eve", "role": "admin",
                                                     "password": "a-long-password"})[0] == 403
    admin = logged_in(site, ADMIN)
    assert admin.request("GET", "/ops/api/export.csv")[0] == 200
    assert [user["name"] for user in admin.request("GET", "/ops/api/users")[1]["users"]] == ["ada", "otto"]


@pytest.mark.server
def test_writes_without_the_csrf_token_or_from_another_origin_are_refused(site: Servers) -> None:
    client = logged_in(site, OPERATOR)
    label = {"turn_ids": [1], "decision": "out_of_scope"}
    status, body, _ = client.request("POST", "/ops/api/label", label, csrf=False)
    assert status == 403 and "CSRF" in body["error"]
    assert client.request("POST", "/ops/api/label", label, csrf=False, headers={"X-CSRF-Token": "forged"})[0] == 403
    assert client.request("POST", "/ops/api/label", label, headers={"Origin": "http://evil.example"})[0] == 403
    assert client.request("POST", "/ops/api/logout", {}, csrf=False)[0] == 403
    assert Client(site.web_url).request("POST", "/ops/api/login", {"name": ADMIN[0], "password": ADMIN[1]},
                                        headers={"Origin": "http://evil.example"})[0] == 403


@pytest.mark.server
def test_repeated_failures_lock_the_account_and_every_login_is_audited(site: Servers) -> None:
    add = ops_command(site, "user", "add", "lou", "--role", "operator", stdin="lou-password-1\n")
    assert add.returncode == 0
    for _ in range(5):
        assert Client(site.web_url).login("lou", "wrong-password") == 401
    client = Client(site.web_url)
    status, body, _ = client.request("POST", "/ops/api/login", {"name": "lou", "password": "lou-password-1"})
    assert status == 401 and "锁定" in body["error"]
    audit = logged_in(site, ADMIN).request("GET", "/ops/api/audit")[1]["audit"]
    actions = [(row["user"], row["action"]) for row in audit]
    assert actions.count(("lou", "login_failed")) == 6 and ("ada", "login") in actions
    assert ops_command(site, "user", "list").stdout.splitlines()[1:] == ["lou\toperator\tlocked", "otto\toperator"]


@pytest.mark.server
def test_feedback_endpoint_checks_its_input(site: Servers) -> None:
    url = f"{site.web_url}/api/feedback"
    for bad in ([], {"rating": "up"}, {"sender": "web-1", "rating": "meh"}, {"sender": "a b", "rating": "up"},
                {"sender": "web-1", "rating": "down", "comment": "x" * 201}, {"sender": "web-1", "rating": "up",
                                                                               "comment": 3}):
        assert post(url, bad)[0] == 400, bad
    assert post(url, b"not json")[0] == 400
    assert post(url, {"sender": "web-never-asked", "rating": "down"})[0] == 404


@pytest.mark.server
def test_the_dashboard_counts_100_conversations_by_kind(site: Servers, traffic: dict[str, Any]) -> None:
    stats = logged_in(site, OPERATOR).request("GET", "/ops/api/stats")[1]
    total = stats["total"]
    assert total["messages"] == traffic["messages"]
    assert total["conversations"] == 100
    assert {kind: count for kind, count in total["kinds"].items() if count} == dict(traffic["kinds"])
    assert total["down"] == 1 and total["up"] == 1
    assert sum(day["messages"] for day in stats["days"]) == traffic["messages"] and sum(stats["hours"]) == \
        traffic["messages"]
    assert stats["latency"]["count"] == traffic["messages"] and 0 < stats["latency"]["median_ms"] <= \
        stats["latency"]["p95_ms"]
    assert stats["top_items"][0]["code"] == "002036004001"  # 异地安置退休人员备案, asked in 2 of 9 scripts
    assert {region["region"] for region in stats["top_regions"]} >= {"衡阳市耒阳市", "长沙市", "郴州市"}
    wechat = logged_in(site, OPERATOR).request("GET", "/ops/api/stats?channel=wechat")[1]["total"]
    assert wechat["conversations"] == 10 and wechat["down"] == 1


@pytest.mark.server
def test_no_typed_id_or_phone_number_is_stored(site: Servers, traffic: dict[str, Any]) -> None:
    csv = logged_in(site, ADMIN).request("GET", "/ops/api/export.csv")[1]
    assert csv.count("\n") == traffic["messages"] + 1 and "[已隐去] 衡阳 门诊慢特病要带什么" in csv
    senders = {line.split(",")[3] for line in csv.splitlines()[1:]}
    assert len(senders) == 100 and not any(sender.startswith(("rest-", "web-", "oOps")) for sender in senders)
    stored = [Path(site.env["OPS_DB"]), site.tracker_db, site.repo / "servers.log"]
    stored += list(Path(site.env["OPS_DB"]).parent.glob("ops.db-*"))
    for path in stored:
        raw = path.read_bytes()
        for number in (ID_NUMBER, PHONE):
            assert number.encode() not in raw, (path, number)
    assert csv.count(ID_NUMBER) == csv.count(PHONE) == 0


def group_items(driver: WebDriver) -> list[Any]:
    return driver.find_elements(By.CSS_SELECTOR, "#groups > li.group")


def browser_login(driver: WebDriver, site: Servers, user: tuple[str, str]) -> None:
    driver.delete_all_cookies()
    driver.get(site.web_url + "/ops")
    wait(driver, lambda d: d.current_url.endswith("/ops/login"))
    driver.find_element(By.ID, "name").send_keys(user[0])
    driver.find_element(By.ID, "password").send_keys(user[1], Keys.ENTER)
    wait(driver, lambda d: d.current_url.endswith("/ops") and d.find_element(By.ID, "who").text)


@pytest.mark.server
@pytest.mark.browser
def test_a_thumbs_down_in_the_widget_appears_on_the_dashboard(
        site: Servers, traffic: dict[str, Any], browser: WebDriver) -> None:
    before = logged_in(site, ADMIN).request("GET", "/ops/api/stats")[1]["total"]["down"]
    fresh_demo_page(browser, site.web_url)
    in_widget(browser, ".bubble")[0].click()
    in_widget(browser, "textarea")[0].send_keys("长沙 生育津贴要多久", Keys.ENTER)
    wait(browser, lambda d: any("生育津贴" in text for text in bot_texts(d)) and in_widget(d, ".feedback button"),
         30)
    thumbs_up, thumbs_down = in_widget(browser, ".feedback button")
    assert (thumbs_up.get_attribute("aria-label"), thumbs_down.get_attribute("aria-label")) == ("有用", "没用")
    thumbs_down.click()
    reason = wait(browser, lambda d: in_widget(d, ".feedback input"))[0]
    reason.send_keys("时限不是我想问的", Keys.ENTER)
    wait(browser, lambda d: in_widget(d, ".feedback")[0].text == "谢谢您的反馈！")

    browser_login(browser, site, ADMIN)
    card = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, '.card[data-name="👎"] .value'))
    wait(browser, lambda d: card.text == str(before + 1))
    wait(browser, lambda d: d.execute_script("return Object.keys(Chart.instances).length") == 3)
    rows = browser.find_elements(By.CSS_SELECTOR, "#days-table tbody tr")
    assert rows[-1].find_elements(By.TAG_NAME, "td")[-1].text == str(before + 1)
    browser.find_element(By.ID, "try-text").send_keys("耒阳 异地安置备案要什么材料", Keys.ENTER)
    wait(browser, lambda d: "异地安置退休人员备案" in d.find_element(By.ID, "try-result").text)
    assert "模型意图：ask_materials" in browser.find_element(By.ID, "try-result").text
    DOCS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(1280, 1500)
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(DOCS / "ops-dashboard.png"))
    browser.set_window_size(1280, 900)
    comment = [turn for turn in logged_in(site, OPERATOR).request("GET", "/ops/api/inbox")[1]["groups"]
               if turn["turn"]["comment"] == "时限不是我想问的"]
    assert comment and "down" in comment[0]["reasons"]


@pytest.mark.server
@pytest.mark.browser
def test_the_inbox_lists_what_was_not_placed_and_labelling_writes_the_data(
        site: Servers, traffic: dict[str, Any], browser: WebDriver) -> None:
    say(site.rest_url, "rest-blue", "衡阳 我要办那个蓝本本 要带什么材料")
    browser_login(browser, site, OPERATOR)
    browser.get(site.web_url + "/ops/inbox")
    wait(browser, lambda d: len(group_items(d)) >= 4)
    titles = [group.find_element(By.TAG_NAME, "h3").text for group in group_items(browser)]
    assert titles[0] == "衡阳 我要办那个蓝本本 要带什么材料"  # newest first
    assert {"你好 我有个事情想请教一下您", "今天天气怎么样", "长沙"} <= set(titles)
    fallback = next(g for g in group_items(browser)
                    if g.find_element(By.TAG_NAME, "h3").text == "你好 我有个事情想请教一下您")
    assert fallback.find_element(By.CSS_SELECTOR, ".meta").text.startswith("11 条 · 没听懂")
    assert not any(title.startswith("郴州") or title == "你好" for title in titles)  # answered ones are not there
    rated = next(g for g in group_items(browser) if g.find_element(By.TAG_NAME, "h3").text.startswith("耒阳"))
    assert rated.find_element(By.CSS_SELECTOR, ".meta").text.startswith("1 条 · 用户点了👎 · wechat")  # 没用

    blue = group_items(browser)[0]
    blue.find_element(By.TAG_NAME, "summary").click()
    assert "方面：材料" in blue.find_element(By.CSS_SELECTOR, ".reading").text
    chip = blue.find_elements(By.CSS_SELECTOR, 'input[value="00203600500Y"]')
    if chip:  # click 1: the right item, among the ranked ones or from the list of all items
        chip[0].click()
    else:
        Select(blue.find_element(By.CSS_SELECTOR, "select")).select_by_value("00203600500Y")
    blue.find_element(By.CSS_SELECTOR, 'input[name$="-phrase"]').send_keys("蓝本本")
    browser.save_screenshot(str(DOCS / "ops-inbox.png"))
    blue.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()  # click 2
    wait(browser, lambda d: group_items(d)[0].text.startswith("已保存"))

    nlu = yaml.safe_load((site.repo / "data" / "nlu" / "reviewed.yml").read_text(encoding="utf-8"))
    example, = [e for block in nlu["nlu"] if block["intent"] == "ask_materials" for e in block["examples"]]
    assert example["text"] == "[衡阳](region) 我要办那个蓝本本 要带什么材料"
    assert example["metadata"]["reviewed_by"] == "otto" and example["metadata"]["item"] == "00203600500Y"
    knowledge = yaml.safe_load((site.repo / "knowledge" / "data" / "reviewed.yml").read_text(encoding="utf-8"))
    situation, = knowledge["situations"]
    assert situation["item"] == "00203600500Y" and situation["pattern"] == "蓝本本"
    assert situation["reviewed_by"] == "otto" and situation["reviewed_at"][:4] >= "2025"
    browser.refresh()
    wait(browser, lambda d: len(group_items(d)) >= 3)
    assert "衡阳 我要办那个蓝本本 要带什么材料" not in [g.find_element(By.TAG_NAME, "h3").text
                                                     for g in group_items(browser)]
    audit = logged_in(site, ADMIN).request("GET", "/ops/api/audit")[1]["audit"]
    assert any(row["user"] == "otto" and row["action"] == "label" and "蓝本本" in row["detail"] for row in audit)


@pytest.mark.server
def test_a_label_the_data_cannot_take_is_refused(site: Servers, traffic: dict[str, Any]) -> None:
    client = logged_in(site, OPERATOR)
    group = client.request("GET", "/ops/api/inbox")[1]["groups"][0]
    for bad in ({"decision": "item", "item": "nonsense", "aspect": "materials"},
                {"decision": "item", "item": "00203600500Y", "aspect": "weather"},
                {"decision": "item", "item": "00203600500Y", "aspect": "materials", "phrase": "不在原句里"},
                {"decision": "maybe"}):
        assert client.request("POST", "/ops/api/label", {"turn_ids": group["turn_ids"], **bad})[0] == 400, bad


@pytest.mark.server
def test_the_purge_command_deletes_turns_past_the_retention(site: Servers, traffic: dict[str, Any]) -> None:
    kept = ops_command(site, "purge")
    assert kept.returncode == 0 and kept.stdout.strip() == "deleted 0 turns older than 180 days"
    purged = ops_command(site, "purge", "--days", "0")
    assert purged.returncode == 0 and purged.stdout.startswith(f"deleted {traffic['messages'] + 2} turns")
    assert logged_in(site, OPERATOR).request("GET", "/ops/api/stats")[1]["total"]["messages"] == 0


def test_the_repositorys_own_tracker_store_is_read_by_the_console_and_the_purge() -> None:
    """make run's endpoints.yml (the windowed SQL store) is one the console and the purge command can read."""
    assert tracker_store_url().endswith("/build/trackers.db")
    assert default_db().name == "trackers.db"
