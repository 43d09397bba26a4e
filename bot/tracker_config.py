"""What the tools beside Rasa (the operations console, the purge command) need to know of endpoints.yml's tracker
store, without importing Rasa."""
from __future__ import annotations

from typing import Any

SQL_STORE_TYPES = ("SQL", "bot.tracker_store.WindowedSQLTrackerStore")


def is_sql(store: dict[str, Any]) -> bool:
    """The tracker store keeps its events in SQL tables (Rasa's own SQL store, or the windowed one built on it)."""
    return str(store.get("type", "")).upper() in {kind.upper() for kind in SQL_STORE_TYPES}
