"""Real-browser tests: headless Chromium (Debian's chromium and chromium-driver, tests/install_browser.sh) driven by
selenium. The help widget talks through the web server's chat proxy to a stub answering like Rasa's REST channel
(to check its rendering exactly), and to the real assistant (model, actions, Rasa); the agent console uses the real
knowledge base. Screenshots go to results/screenshots/."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from conftest import free_port, running_servers
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from bot.web.server import create_app, serving
from knowledge.query import KnowledgeBase

pytestmark = pytest.mark.browser  # Debian's chromium and chromedriver

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "results" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--window-size=1280,900", "--lang=zh-CN")
QUESTION = "耒阳 异地安置备案要什么材料"
ANSWER = ("【异地安置退休人员备案｜衡阳市耒阳市】\n办理材料：\n1. 医保电子凭证或有效身份证件或社保卡\n"
          "2. 《衡阳市异地就医备案登记表》（现场办理时填写）\n"
          "3. 异地安置认定材料（“户口薄本人页面”和本人“常住人口登记卡”）\n"
          "网上办理：https://healthcare.hnybj.com.cn/hallunit/#/login。\n"
          "来源：《衡阳市医疗保障经办政务服务事项办事指南》")
NOT_UNDERSTOOD = "抱歉，我没有听懂<img src=x onerror=alert(1)>，请换个说法。"
ASK_CITY = "生育津贴要多久"
CHANGSHA = '/inform{"region": "长沙"}'


def _stub_rasa(received: list[dict[str, str]]) -> web.Application:
    """Answers like Rasa's REST channel: a text reply, a reply with two quick-reply buttons, a button's answer."""
    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        await asyncio.sleep(0.8)  # long enough to see the typing indicator
        sender, message = body["sender"], body["message"]
        if message == QUESTION:
            replies = [{"recipient_id": sender, "text": ANSWER}]
        elif message == ASK_CITY:
            replies = [{"recipient_id": sender, "text": "请问您在哪个城市参保？",
                        "buttons": [{"title": "衡阳", "payload": "衡阳"}, {"title": "长沙", "payload": CHANGSHA}]}]
        elif message == CHANGSHA:
            replies = [{"recipient_id": sender, "text": "长沙市 生育津贴支付：不超过20个工作日。"}]
        else:
            replies = [{"recipient_id": sender, "text": NOT_UNDERSTOOD}]
        return web.json_response(replies)

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    return app


@pytest.fixture(scope="module")
def received() -> list[dict[str, str]]:
    return []


@pytest.fixture(scope="module")
def base(kb: KnowledgeBase, received: list[dict[str, str]]) -> Iterator[str]:
    with serving(_stub_rasa(received), "127.0.0.1", free_port()) as rasa_url:
        with serving(create_app(kb, rasa_url), "127.0.0.1", free_port()) as url:
            yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(f"the browser tests need Debian's chromium and chromium-driver, but {', '.join(missing)} "
                    "is missing: run tests/install_browser.sh (apt-get install chromium chromium-driver)",
                    pytrace=False)
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: WebDriver, condition: Callable[[WebDriver], Any], timeout: float = 10) -> Any:
    """Wait for a condition; an element the page re-renders while it is read is read again."""
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


# The help widget -------------------------------------------------------------------------------------------

def fresh_demo_page(driver: WebDriver, base: str) -> None:
    driver.get(base + "/")
    driver.execute_script("localStorage.clear()")
    driver.refresh()


def widget(driver: WebDriver) -> Any:
    """The widget's shadow root (its DOM is isolated from the host page's styles)."""
    return wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".ybzs-host")).shadow_root


def in_widget(driver: WebDriver, selector: str) -> list[WebElement]:
    return widget(driver).find_elements(By.CSS_SELECTOR, selector)


def focused_in_widget(driver: WebDriver) -> str:
    return driver.execute_script(
        "const a = document.querySelector('.ybzs-host').shadowRoot.activeElement;"
        "return a ? (a.id || a.className) : '';")


def bot_texts(driver: WebDriver) -> list[str]:
    return [element.text for element in in_widget(driver, ".msg.bot .text")]


def test_widget_answers_offers_quick_replies_and_keeps_the_conversation(
        browser: WebDriver, base: str, received: list[dict[str, str]]) -> None:
    fresh_demo_page(browser, base)
    bubble, = in_widget(browser, ".bubble")
    panel, = in_widget(browser, ".panel")
    assert not panel.is_displayed() and bubble.get_attribute("aria-expanded") == "false"
    assert bubble.get_attribute("aria-label") == "打开医保办事助手"

    bubble.click()
    assert panel.is_displayed() and bubble.get_attribute("aria-expanded") == "true"
    assert focused_in_widget(browser) == "ybzs-input"
    log, = in_widget(browser, ".log")
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
    assert "医保办事助手" in bot_texts(browser)[0]

    box, = in_widget(browser, "textarea")
    box.send_keys(QUESTION, Keys.ENTER)
    typing, = in_widget(browser, ".typing")
    wait(browser, lambda d: "助手正在输入" in typing.text, 3)
    wait(browser, lambda d: any("常住人口登记卡" in text for text in bot_texts(d)))
    assert typing.text == "" and box.get_attribute("value") == ""
    assert [m.text for m in in_widget(browser, ".msg.user .text")] == [QUESTION]
    reply = in_widget(browser, ".msg.bot .text")[-1]
    link, = reply.find_elements(By.CSS_SELECTOR, "a")
    assert link.get_attribute("href") == "https://healthcare.hnybj.com.cn/hallunit/#/login"
    assert link.get_attribute("target") == "_blank" and link.text == "https://healthcare.hnybj.com.cn/hallunit/#/login"
    assert len(reply.find_elements(By.CSS_SELECTOR, "br")) == 6 and reply.text == ANSWER
    browser.save_screenshot(str(SCREENSHOTS / "widget-reply.png"))

    box.send_keys(ASK_CITY, Keys.ENTER)
    wait(browser, lambda d: len(in_widget(d, ".quick button")) == 2)
    buttons = in_widget(browser, ".quick button")
    assert [button.text for button in buttons] == ["衡阳", "长沙"]
    assert widget(browser).find_element(By.CSS_SELECTOR, ".quick").get_attribute("aria-label") == "快捷回复"
    browser.save_screenshot(str(SCREENSHOTS / "widget-quick-replies.png"))
    buttons[1].click()
    wait(browser, lambda d: any("不超过20个工作日" in text for text in bot_texts(d)))
    assert in_widget(browser, ".msg.user .text")[-1].text == "长沙"
    assert received[-1]["message"] == CHANGSHA and not in_widget(browser, ".quick")
    assert focused_in_widget(browser) == "ybzs-input"

    box.send_keys(Keys.ESCAPE)
    assert not panel.is_displayed() and focused_in_widget(browser) == "bubble"
    conversation = [element.get_attribute("textContent") for element in in_widget(browser, ".msg")]
    assert len(conversation) == 7

    browser.refresh()
    in_widget(browser, ".bubble")[0].click()
    assert [element.get_attribute("textContent") for element in in_widget(browser, ".msg")] == conversation
    in_widget(browser, "textarea")[0].send_keys("谢谢", Keys.ENTER)
    wait(browser, lambda d: bot_texts(d)[-1] == NOT_UNDERSTOOD)
    assert not widget(browser).find_elements(By.CSS_SELECTOR, ".msg img")
    senders = {message["sender"] for message in received[-4:]}
    assert len(senders) == 1 and senders.pop().startswith("web-")


def test_widget_fits_a_phone_width_screen(browser: WebDriver, base: str) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True})
    try:
        fresh_demo_page(browser, base)
        assert browser.execute_script("return window.innerWidth") == 360
        in_widget(browser, ".bubble")[0].click()
        in_widget(browser, "textarea")[0].send_keys(QUESTION, Keys.ENTER)
        wait(browser, lambda d: any("常住人口登记卡" in text for text in bot_texts(d)))
        for selector in (".panel", "textarea", ".composer button", ".close", ".msg.bot"):
            box = browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()",
                                         in_widget(browser, selector)[-1])
            assert box["left"] >= 0 and box["right"] <= 360 and box["top"] >= 0 and box["bottom"] <= 740, selector
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
        browser.save_screenshot(str(SCREENSHOTS / "widget-phone.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# The agent console -----------------------------------------------------------------------------------------

def card_text(driver: WebDriver) -> str:
    return driver.find_element(By.ID, "card").text


def focused_id(driver: WebDriver) -> str:
    return driver.execute_script("const a = document.activeElement; return a.id || a.dataset.code || a.className;")


def test_console_search_region_picker_card_and_copy(browser: WebDriver, base: str, kb: KnowledgeBase) -> None:
    browser.get(base + "/agent")
    browser.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#city option")) > 10)
    assert focused_id(browser) == "q"

    browser.switch_to.active_element.send_keys("耒阳 异地安置 电话", Keys.ENTER)
    wait(browser, lambda d: "0734-4269955" in card_text(d))
    text = card_text(browser)
    for fact in ("0734-4322176", "职工", "居民", "监督电话", "0734-4351615", "耒阳市西湖南路566号", "常住人口登记卡",
                 "即时办结", "衡阳市异地就医备案登记表", "湘医保", "与湖南省2025年版清单不一致", "资料说明",
                 "来源：《衡阳市医疗保障经办政务服务事项办事指南》第3468–3718行"):
        assert fact in text, fact
    assert Select(browser.find_element(By.ID, "city")).first_selected_option.get_attribute("value") == "湖南省/衡阳市"
    assert Select(browser.find_element(By.ID, "county")).first_selected_option.text == "耒阳市"
    assert "衡阳市耒阳市（从搜索词“耒阳”识别）" in browser.find_element(By.ID, "region-note").text
    asked, = browser.find_elements(By.CSS_SELECTOR, ".block.asked")
    assert asked.get_attribute("data-block") == "phones"
    browser.save_screenshot(str(SCREENSHOTS / "agent-console.png"))

    copy = browser.find_element(By.CSS_SELECTOR, "button[aria-label='复制电话 0734-4269955']")
    copy.click()
    wait(browser, lambda d: d.find_element(By.ID, "status").text == "已复制电话 0734-4269955。")
    assert browser.execute_async_script("navigator.clipboard.readText().then(arguments[0])") == "0734-4269955"
    browser.find_element(By.CSS_SELECTOR, "button[aria-label='复制材料清单']").click()
    wait(browser, lambda d: d.find_element(By.ID, "status").text == "已复制材料清单。")
    materials = browser.execute_async_script("navigator.clipboard.readText().then(arguments[0])")
    assert materials.startswith("异地安置退休人员备案（衡阳市耒阳市）办理材料：\n1. 医保电子凭证")
    assert "常住人口登记卡" in materials

    changning = kb.guide("002036004001", "常宁").entries[0].phones[0].text
    Select(browser.find_element(By.ID, "county")).select_by_visible_text("常宁市")
    wait(browser, lambda d: changning in card_text(d) and "0734-4269955" not in card_text(d))
    Select(browser.find_element(By.ID, "county")).select_by_visible_text("耒阳市")
    wait(browser, lambda d: "0734-4269955" in card_text(d) and "0734-4322176" in card_text(d))


def test_console_is_keyboard_first(browser: WebDriver, base: str, kb: KnowledgeBase) -> None:
    browser.get(base + "/agent")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#city option")) > 10)
    first, second = (match.name for match in kb.find_items("生育", limit=2))
    browser.switch_to.active_element.send_keys("耒阳 生育", Keys.ENTER)
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#card h2").text == first)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#results button")) >= 2

    active = browser.switch_to.active_element
    active.send_keys(Keys.ARROW_DOWN)
    assert browser.switch_to.active_element.text.startswith(first)
    browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert browser.switch_to.active_element.text.startswith(second)
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#card h2").text == second)
    assert browser.switch_to.active_element.get_attribute("aria-current") == "true"
    assert "衡阳市耒阳市" in card_text(browser)

    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert focused_id(browser) == "q"
    browser.find_element(By.TAG_NAME, "h1").click()
    browser.switch_to.active_element.send_keys("/")
    assert focused_id(browser) == "q"

    query = browser.switch_to.active_element
    query.send_keys(Keys.CONTROL, "a")
    query.send_keys("高新区 生育津贴", Keys.ENTER)
    wait(browser, lambda d: "请选择" in d.find_element(By.ID, "region-note").text)
    browser.find_element(By.XPATH, "//div[@id='region-note']/button[text()='衡阳市高新区']").click()
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#card h2").text == "生育津贴支付"
         and "衡阳市高新区" in card_text(d))


@pytest.fixture(scope="module")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole assistant as `make run` serves it (trained model, action server, Rasa, web server), on free ports."""
    with running_servers(tmp_path_factory, "real-site", web=True) as servers:
        yield servers.web_url


@pytest.mark.server
def test_widget_with_the_real_assistant(browser: WebDriver, real_site: str) -> None:
    fresh_demo_page(browser, real_site)
    in_widget(browser, ".bubble")[0].click()
    box, = in_widget(browser, "textarea")
    box.send_keys("来阳的 异地安置备案要什么材料", Keys.ENTER)
    wait(browser, lambda d: any("常住人口登记卡" in text for text in bot_texts(d)), 30)
    answer = bot_texts(browser)[-1]
    assert "衡阳市异地就医备案登记表" in answer and "来源：《衡阳市医疗保障经办政务服务事项办事指南》" in answer
    box.send_keys("衡阳 备案要带什么材料", Keys.ENTER)  # the 备案 eligibility dialog, answered by its quick replies
    for option in ("以后长期在外地（定居、居住或工作）", "还没退休（在职或灵活就业）", "不是（自己在外地打工、居住）"):
        wait(browser, lambda d: option in [button.text for button in in_widget(d, ".quick button")], 30)
        next(button for button in in_widget(browser, ".quick button") if button.text == option).click()
    wait(browser, lambda d: any("长期居住认定材料（居住证）" in text for text in bot_texts(d)), 30)
    assert "异地长期居住人员备案" in bot_texts(browser)[-1] and "判断：" in bot_texts(browser)[-1]
    browser.save_screenshot(str(SCREENSHOTS / "widget-real-assistant.png"))
    conversation = [element.get_attribute("textContent") for element in in_widget(browser, ".msg")]
    browser.refresh()
    in_widget(browser, ".bubble")[0].click()
    assert [element.get_attribute("textContent") for element in in_widget(browser, ".msg")] == conversation
