"""Privacy: ID-card and phone numbers typed by users are masked before Rasa stores or logs them (bot/privacy.py,
used by every channel), never echoed back, the knowledge base's own numbers are left alone; old conversations can
be purged (bot/purge.py). The end-to-end part runs the real servers with debug logging into a file and reads the
tracker through Rasa's HTTP API and straight from the SQLite file."""
from __future__ import annotations

import io
import json
import logging
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Servers, reply_text, running_servers, say

from bot.channels.turns import Turns, TurnSettings
from bot.privacy import PLACEHOLDER, Masker, MaskingFilter
from bot.purge import purge
from knowledge.query import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]
ID_NUMBER = "430421199001011234"
MOBILE = "13812345678"


@pytest.fixture(scope="module")
def masker(kb: KnowledgeBase) -> Masker:
    return Masker(kb.phone_numbers())


@pytest.mark.parametrize(("text", "masked"), [
    (f"我的身份证号是{ID_NUMBER} 能办吗", f"我的身份证号是{PLACEHOLDER} 能办吗"),
    ("身份证43042119900101123X", f"身份证{PLACEHOLDER}"),
    ("身份证43042119900101123x。", f"身份证{PLACEHOLDER}。"),
    ("430421 19900101 1234", PLACEHOLDER),
    ("老身份证430421900101123", f"老身份证{PLACEHOLDER}"),
    ("４３０４２１１９９００１０１１２３４", PLACEHOLDER),  # full-width digits
    (f"手机{MOBILE}", f"手机{PLACEHOLDER}"),
    ("打138-1234-5678或138 1234 5678", f"打{PLACEHOLDER}或{PLACEHOLDER}"),
    ("+86 13812345678，8613812345678", f"{PLACEHOLDER}，{PLACEHOLDER}"),
    ("家里电话0731-88776655", f"家里电话{PLACEHOLDER}"),
    ("（0734）8123456 找我", f"{PLACEHOLDER} 找我"),
    ("座机：85551234", f"座机：{PLACEHOLDER}"),
    ("我的联系电话是 85551234", f"我的联系电话是 {PLACEHOLDER}"),
])
def test_id_and_phone_numbers_are_masked(masker: Masker, text: str, masked: str) -> None:
    assert masker.mask(text) == masked


@pytest.mark.parametrize("text", [
    "0734-4269955 是耒阳的医保电话吗",          # 耒阳市's 咨询电话, from the 衡阳 guide
    "84907806是哪个单位",                      # 长沙's 监督电话
    "电话84907806打不通",
    "0731-84907806 是市医保吗",                 # the same number with its area code
    "15973453086 是哪个医院",                   # a hospital's mobile number in the 衡阳 guide
    "事项编码002036004001和00203600400Y",       # item codes
    "2024年1月1日 20240101 报销了12345.67元",    # dates and amounts
    "12393 和 12345 热线",                     # hotlines
    "耒阳 异地安置备案要什么材料",
])
def test_published_numbers_codes_and_dates_are_not_masked(masker: Masker, text: str) -> None:
    assert masker.mask(text) == text


def test_log_records_are_masked_message_arguments_and_tracebacks(masker: Masker) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskingFilter(masker))
    logger = logging.getLogger("test_privacy.masking")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("message from %s: %r", "u1", f"我的手机{MOBILE}")
        try:
            raise ValueError(f"bad id {ID_NUMBER}")
        except ValueError:
            logger.exception("failed on 电话 0734-4269955")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert MOBILE not in written and ID_NUMBER not in written
    assert f"message from u1: '我的手机{PLACEHOLDER}'" in written
    assert f"ValueError: bad id {PLACEHOLDER}" in written and "0734-4269955" in written


def test_masking_is_on_by_default_and_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MASK_PERSONAL_DATA", raising=False)
    assert TurnSettings.load(None).mask_personal_data
    assert TurnSettings.load({"mask_personal_data": True}).mask_personal_data
    assert not TurnSettings.load({"mask_personal_data": False}).mask_personal_data
    assert not TurnSettings.load(None, {"MASK_PERSONAL_DATA": "0"}).mask_personal_data
    assert TurnSettings.load({"mask_personal_data": "true"}, {"MASK_PERSONAL_DATA": "0"}).mask_personal_data
    assert Turns(TurnSettings(mask_personal_data=False)).clean(f"手机{MOBILE}") == f"手机{MOBILE}"
    assert Turns().clean(f"手机{MOBILE}\x00") == f"手机{PLACEHOLDER}"


# ---- end to end ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The real servers with debug logging (Rasa logs every message it receives) written to one file."""
    folder = tmp_path_factory.mktemp("privacy-logs")
    with running_servers(tmp_path_factory, "privacy", env={"LOG_LEVEL": "DEBUG"},
                         output=folder / "servers.log") as started:
        yield started


def stored(servers: Servers) -> bytes:
    """Everything the SQLite tracker store file holds, as bytes."""
    return servers.tracker_db.read_bytes()


@pytest.mark.server
def test_an_id_number_is_never_echoed_stored_or_logged(servers: Servers) -> None:
    user = "priv-" + uuid.uuid4().hex[:12]
    message = f"我的身份证号是{ID_NUMBER} 能办吗"
    first = reply_text(say(servers.rest_url, user, message))
    second = reply_text(say(servers.rest_url, user, f"耒阳 异地安置备案要什么材料 我手机{MOBILE} 身份证{ID_NUMBER}"))
    assert first.strip() and "常住人口登记卡" in second
    for reply in (first, second):
        assert ID_NUMBER not in reply and MOBILE not in reply and "1990" not in reply
    tracker = servers.tracker(user)
    texts = [event.get("text") for event in tracker["events"] if event["event"] == "user"]
    assert texts == [f"我的身份证号是{PLACEHOLDER} 能办吗",
                     f"耒阳 异地安置备案要什么材料 我手机{PLACEHOLDER} 身份证{PLACEHOLDER}"]
    assert ID_NUMBER not in str(tracker) and MOBILE not in str(tracker)
    with sqlite3.connect(servers.tracker_db) as connection:
        rows = connection.execute("select data from events where sender_id = ?", (user,)).fetchall()
    stored_texts = [json.loads(data).get("text") for (data,) in rows if json.loads(data)["event"] == "user"]
    assert stored_texts == texts
    assert ID_NUMBER.encode() not in stored(servers) and MOBILE.encode() not in stored(servers)
    log = servers.output.read_text(encoding="utf-8", errors="replace")
    assert json.dumps(PLACEHOLDER)[1:-1] in log  # Rasa logged the messages (its JSON lines escape CJK) — masked
    assert ID_NUMBER not in log and MOBILE not in log


@pytest.mark.server
def test_a_long_message_is_kept_masked(servers: Servers) -> None:
    user = "priv-" + uuid.uuid4().hex[:12]
    message = f"身份证{ID_NUMBER}，" + "我想问一下" * 2000
    assert "超过了" in reply_text(say(servers.rest_url, user, message))
    texts = [event.get("text") for event in servers.tracker(user)["events"] if event["event"] == "user"]
    assert texts == [message.replace(ID_NUMBER, PLACEHOLDER)]
    assert ID_NUMBER.encode() not in stored(servers)


@pytest.mark.server
def test_a_published_office_number_typed_by_a_user_is_kept(servers: Servers) -> None:
    user = "priv-" + uuid.uuid4().hex[:12]
    say(servers.rest_url, user, "0734-4269955 是耒阳的电话吗")
    texts = [event.get("text") for event in servers.tracker(user)["events"] if event["event"] == "user"]
    assert texts == ["0734-4269955 是耒阳的电话吗"]


# ---- purging old conversations -------------------------------------------------------------------------------

@pytest.mark.server
def test_purge_deletes_conversations_idle_for_more_than_n_days(servers: Servers, tmp_path: Path) -> None:
    old, recent = "priv-old-" + uuid.uuid4().hex[:8], "priv-new-" + uuid.uuid4().hex[:8]
    say(servers.rest_url, old, f"耒阳 异地安置备案要什么材料 我手机{MOBILE}")
    say(servers.rest_url, recent, "长沙 生育津贴要多久")
    copy = tmp_path / "trackers.db"
    with sqlite3.connect(servers.tracker_db) as live, sqlite3.connect(copy) as target:
        live.backup(target)  # the store runs in WAL mode: its latest events may not be in the main file yet
    with sqlite3.connect(copy) as connection:
        connection.execute("update events set timestamp = timestamp - 40 * 86400 where sender_id != ?", (recent,))
        before = dict(connection.execute("select sender_id, count(*) from events group by sender_id").fetchall())
    assert before[old] > 0 and before[recent] > 0
    result = subprocess.run([sys.executable, "-m", "bot.purge", "--days", "30", "--db", str(copy)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    deleted = len(before) - 1
    assert result.stdout.strip() == (f"{copy}: deleted {deleted} conversations ({sum(before.values()) - before[recent]}"
                                     " events) idle for more than 30 days")
    with sqlite3.connect(copy) as connection:
        assert connection.execute("select distinct sender_id from events").fetchall() == [(recent,)]
    assert old.encode() not in copy.read_bytes()  # vacuumed: not left in free pages either
    assert purge(copy, 30, now=time.time()) == (0, 0)
