"""Delete the conversations whose last event is older than N days from the SQLite tracker store, then VACUUM so the
deleted text does not linger in the file's free pages.

Usage: python -m bot.purge --days 30 [--db build/trackers.db]   (default: the `db` of endpoints.yml's SQL
tracker store). A conversation is deleted whole (all its events), never cut, so what remains stays a valid tracker.
Prints one line: how many conversations and events were deleted.
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

import yaml

from bot.tracker_config import is_sql

ROOT = Path(__file__).resolve().parents[1]

PURGE_SQL = """
delete from events where sender_id in (
    select sender_id from events group by sender_id having max(timestamp) < ?)
"""


def default_db(endpoints: Path = ROOT / "endpoints.yml") -> Path:
    store = (yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}).get("tracker_store") or {}
    if not is_sql(store) or store.get("dialect", "sqlite") != "sqlite":
        raise SystemExit(f"{endpoints}: the tracker store is not SQLite; pass --db or run the SQL of the README")
    db = Path(store.get("db", "rasa.db"))
    return db if db.is_absolute() else ROOT / db


def purge(db: Path, days: float, now: float | None = None) -> tuple[int, int]:
    """Delete conversations idle for more than `days`; (conversations, events) deleted."""
    cutoff = (time.time() if now is None else now) - days * 86400
    connection = sqlite3.connect(db)
    try:
        conversations = connection.execute(
            "select count(*) from (select sender_id from events group by sender_id having max(timestamp) < ?)",
            (cutoff,)).fetchone()[0]
        with connection:
            events = connection.execute(PURGE_SQL, (cutoff,)).rowcount
        connection.execute("vacuum")
    finally:
        connection.close()
    return conversations, events


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.purge", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, required=True, help="keep conversations active within this many days")
    parser.add_argument("--db", type=Path, help="the SQLite tracker store (default: endpoints.yml's)")
    args = parser.parse_args(argv)
    db = args.db or default_db()
    if not db.is_file():
        print(f"{db} does not exist: nothing to purge", file=sys.stderr)
        return 1
    conversations, events = purge(db, args.days)
    print(f"{db}: deleted {conversations} conversations ({events} events) idle for more than {args.days:g} days")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
