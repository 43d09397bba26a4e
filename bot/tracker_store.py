"""The SQL tracker store of `make run` (endpoints.yml): Rasa's SQLTrackerStore, every event kept in the database
as before, but each message costs the same however long its conversation is.

Rasa's SQLTrackerStore reads every event of the conversation's session on every message (SQL, ORM objects, JSON,
Event objects, replayed into a new tracker), counts them again to save, and the policies and the action server
then work through the whole history: a message at the 60th turn cost 2–3 × the first (README, "Where the time
goes"). Here:

- **The window**: the tracker Rasa gets holds the conversation's state (its slots and active loop, set by a few
  events at its start) and the events of its last `turns` user turns, which is all the dialogue needs: the rules
  look back one or two turns and the actions read the slots and the latest message. The slots are those of the
  whole conversation. The database still gets every event; the HTTP API's full tracker (`retrieve_full_tracker`)
  and every other reader see all of them.
- **The cache**: each conversation's window is kept in memory (the `cache_size` most recent conversations) and
  checked against the database by one indexed query (the conversation's latest event id) on every message, so
  a conversation that another Rasa process (a cluster) or a restart wrote to is read again from the database.
- **Saving** inserts the events added to the window since it was handed out, without counting the stored ones.
- **SQLite** (the embedded default) runs in write-ahead-log mode with `synchronous=NORMAL`: a commit no longer
  waits for the disk, and a crash of the process loses nothing (a power cut may lose the last commits); readers
  (the ops console, `bot.purge`) do not block the writer. Connections are kept open instead of one per query.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY


DEFAULT_TURNS = 3
DEFAULT_CACHE_SIZE = 2000
DRIVER_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # positional parameter markers (sqlite3, psycopg2)


class Window:
    """A conversation's window as handed out last: its events and the id of the latest stored event."""

    def __init__(self, events: list[Event], last_id: int) -> None:
        self.events = events
        self.last_id = last_id


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class WindowedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with the window, the cache and the SQLite settings of this module's docstring.

    endpoints.yml: `tracker_store: {type: bot.tracker_store.WindowedSQLTrackerStore, dialect: …, db: …,
    turns: 3, cache_size: 2000}` and any other key of Rasa's SQL tracker store."""

    def __init__(self, domain: Domain | None = None, turns: int = DEFAULT_TURNS,
                 cache_size: int = DEFAULT_CACHE_SIZE, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        if turns < 2:
            raise ValueError(f"turns must be at least 2 (the rules look back a turn), not {turns}")
        self.turns = int(turns)
        self.cache_size = int(cache_size)
        self.windows: OrderedDict[str, Window] = OrderedDict()
        if self.engine.dialect.name == "sqlite":
            self.engine = sa.create_engine(self.engine.url, poolclass=sa.pool.QueuePool, pool_size=1,
                                           connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.events_table = self.SQLEvent.__table__

    def _latest_id(self, connection: sa.engine.Connection, sender_id: str) -> int | None:
        """The id of the conversation's latest stored event: asked twice a message, so given to the database driver
        as written where its parameter style allows (0.02 ms, against 0.2 ms for the statement built by SQLAlchemy)."""
        table = self.events_table
        marker = DRIVER_MARKERS.get(self.engine.dialect.paramstyle)
        if marker is None:
            return connection.execute(sa.select(sa.func.max(table.c.id)).where(table.c.sender_id == sender_id)).scalar()
        sql = f"select max(id) from {table.name} where sender_id = {marker}"
        return connection.exec_driver_sql(sql, (sender_id,)).scalar()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's window as a tracker (None if the conversation has no events)."""
        with self.engine.connect() as connection:
            latest = self._latest_id(connection, sender_id)
        if latest is None:
            self.windows.pop(sender_id, None)
            return None
        window = self.windows.get(sender_id)
        if window is None or window.last_id != latest:
            full = await super().retrieve(sender_id)
            if full is None:
                return None
            window = Window(self._window_of(sender_id, list(full.events)), latest)
            self._remember(sender_id, window)
        else:
            self.windows.move_to_end(sender_id)
        return DialogueStateTracker.from_events(sender_id, window.events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Insert the events the tracker got since its window was handed out (every event not stored yet, for a
        tracker that did not come from `retrieve`: all of them for a conversation with none stored), then remember
        its new window."""
        await self.stream_events(tracker)
        events = list(tracker.events)
        window = self.windows.get(tracker.sender_id)
        handed_out = window is not None and len(events) >= len(window.events) and all(
            mine is theirs for mine, theirs in zip(window.events, events))
        if handed_out:
            new = events[len(window.events):]
        else:
            with self.session_scope() as session:
                if self._latest_id(session.connection(), tracker.sender_id) is None:
                    new = events  # a new conversation: Rasa's count of the stored events would cost ~1 ms of ORM for 0
                else:
                    new = list(self._additional_events(session, tracker))
        with self.engine.begin() as connection:
            if new:
                self._insert(connection, [self._row(tracker.sender_id, event) for event in new])
            latest = self._latest_id(connection, tracker.sender_id)
        if latest is not None:  # a tracker not handed out holds every event of its session, as Rasa's save assumes
            self._remember(tracker.sender_id, Window(self._window_of(tracker.sender_id, events), latest))

    def _insert(self, connection: sa.engine.Connection, rows: list[dict[str, Any]]) -> None:
        """The rows into the events table, given to the database driver as written where its parameter style allows
        (the ORM session and the statement built by SQLAlchemy took half of a save's time)."""
        marker = DRIVER_MARKERS.get(self.engine.dialect.paramstyle)
        if marker is None:
            connection.execute(self.events_table.insert(), rows)
            return
        columns = list(rows[0])
        sql = (f"insert into {self.events_table.name} ({', '.join(columns)}) "
               f"values ({', '.join([marker] * len(columns))})")
        connection.exec_driver_sql(sql, [tuple(row[column] for column in columns) for row in rows])

    @staticmethod
    def _row(sender_id: str, event: Event) -> dict[str, Any]:
        """The events table's row of an event, as Rasa's SQLTrackerStore writes it."""
        data = event.as_dict()
        return {"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                "action_name": data.get("name"), "data": json.dumps(data)}

    def _remember(self, sender_id: str, window: Window) -> None:
        self.windows[sender_id] = window
        self.windows.move_to_end(sender_id)
        while len(self.windows) > self.cache_size:
            self.windows.popitem(last=False)

    def _window_of(self, sender_id: str, events: list[Event]) -> list[Event]:
        """The events of the latest session; if they hold more than `turns` user turns, the state before the
        `turns`-th last user message (as a few events) and the events from there on."""
        starts = [index for index, event in enumerate(events) if isinstance(event, SessionStarted)]
        if starts:
            start = starts[-1]
            if start > 0 and isinstance(events[start - 1], ActionExecuted) and \
                    events[start - 1].action_name == ACTION_SESSION_START_NAME:
                start -= 1
            events = events[start:]
        users = [index for index, event in enumerate(events) if isinstance(event, UserUttered)]
        if len(users) <= self.turns:
            return events
        cut = users[-self.turns]
        before = DialogueStateTracker.from_events(sender_id, events[:cut], self.domain.slots)
        return self._state_events(before) + events[cut:]

    def _state_events(self, tracker: DialogueStateTracker) -> list[Event]:
        """Events that give a new tracker the state of `tracker`: a session start, its slots that differ from
        their initial values, its active loop, and listening."""
        state: list[Event] = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted()]
        state += [SlotSet(name, slot.value) for name, slot in tracker.slots.items()
                  if slot.value != slot.initial_value]
        if tracker.active_loop_name:
            state.append(ActiveLoop(tracker.active_loop_name))
        state.append(ActionExecuted(ACTION_LISTEN_NAME))
        return state
