"""bot.tracker_store.WindowedSQLTrackerStore on a SQLite file: every event stored, the window handed to Rasa holds
the last turns and the whole conversation's slots, the cache notices another writer, and the full tracker stays."""
from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import WindowedSQLTrackerStore

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def store(path: Path) -> WindowedSQLTrackerStore:
    return WindowedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path), turns=3)


def turn(tracker: DialogueStateTracker, number: int) -> None:
    """One user turn as the assistant's dialogue makes it: the message, the action setting slots, its reply."""
    tracker.update(UserUttered(f"问题 {number}", {"name": "ask_phone", "confidence": 0.9}))
    tracker.update(ActionExecuted("action_answer"))
    tracker.update(BotUttered(f"回答 {number}"))
    if number == 1:
        tracker.update(SlotSet("region", "衡阳市本级"))  # set once, long before the window
    tracker.update(SlotSet("item", f"item-{number}"))
    tracker.update(ActionExecuted("action_listen"))


def talk(tracker_store: WindowedSQLTrackerStore, sender: str, numbers: range) -> None:
    async def run() -> None:
        for number in numbers:
            tracker = await tracker_store.get_or_create_tracker(sender)
            turn(tracker, number)
            await tracker_store.save(tracker)
    asyncio.run(run())


def stored_events(path: Path, sender: str) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("select count(*) from events where sender_id = ?", (sender,)).fetchone()[0]


def test_the_window_holds_the_last_turns_and_every_slot(tmp_path: Path) -> None:
    path = tmp_path / "trackers.db"
    tracker_store = store(path)
    talk(tracker_store, "u1", range(1, 11))
    window = asyncio.run(tracker_store.retrieve("u1"))
    users = [event.text for event in window.events if isinstance(event, UserUttered)]
    assert users == ["问题 8", "问题 9", "问题 10"]
    assert window.get_slot("region") == "衡阳市本级" and window.get_slot("item") == "item-10"
    assert window.latest_message.text == "问题 10" and window.latest_action_name == "action_listen"
    assert stored_events(path, "u1") == 2 + 10 * 5  # the first action_listen and the region, then 5 events a turn
    full = asyncio.run(tracker_store.retrieve_full_tracker("u1"))
    assert len([event for event in full.events if isinstance(event, UserUttered)]) == 10
    assert full.current_slot_values() == window.current_slot_values()


def test_a_conversation_written_elsewhere_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "trackers.db"
    first, second = store(path), store(path)  # two Rasa processes on one database
    talk(first, "u2", range(1, 5))
    talk(second, "u2", range(5, 7))
    window = asyncio.run(first.retrieve("u2"))
    assert window.get_slot("item") == "item-6" and window.latest_message.text == "问题 6"
    talk(first, "u2", range(7, 8))
    assert stored_events(path, "u2") == 2 + 7 * 5


def test_a_new_store_reads_the_conversation_from_the_database(tmp_path: Path) -> None:
    path = tmp_path / "trackers.db"
    talk(store(path), "u3", range(1, 6))
    restarted = store(path)
    window = asyncio.run(restarted.retrieve("u3"))
    assert window.get_slot("region") == "衡阳市本级" and window.get_slot("item") == "item-5"
    assert asyncio.run(restarted.retrieve("nobody")) is None


def test_sqlite_runs_in_write_ahead_log_mode(tmp_path: Path) -> None:
    path = tmp_path / "trackers.db"
    talk(store(path), "u4", range(1, 2))
    with sqlite3.connect(path) as connection:
        assert connection.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_a_tracker_not_handed_out_is_stored_once(tmp_path: Path) -> None:
    """As Rasa makes a new conversation (an empty tracker saved, then its first turn), and as a tracker built
    elsewhere holding the stored events and new ones: each event stored once."""
    path = tmp_path / "trackers.db"
    tracker = DialogueStateTracker("u5", DOMAIN.slots)
    asyncio.run(store(path).save(tracker))
    assert stored_events(path, "u5") == 0
    creator = store(path)
    asyncio.run(creator.save(tracker))
    turn(tracker, 1)
    asyncio.run(creator.save(tracker))
    assert stored_events(path, "u5") == 6
    elsewhere = DialogueStateTracker.from_events("u5", list(tracker.events), DOMAIN.slots)
    turn(elsewhere, 2)
    asyncio.run(store(path).save(elsewhere))
    assert stored_events(path, "u5") == 6 + 5
    window = asyncio.run(store(path).retrieve("u5"))
    assert [event.text for event in window.events if isinstance(event, UserUttered)] == ["问题 1", "问题 2"]
