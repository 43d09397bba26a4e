"""The operations database: turns read from Rasa's tracker store, feedback, reviews, users, sessions and the audit log.

SQLite by default (`build/ops.db`, OPS_DB), any SQLAlchemy URL otherwise (PostgreSQL in a cluster). The turns come
from the tracker store's own `events` table (the tracker store of endpoints.yml, or TRACKER_DB): each user message
with the bot's messages and actions after it is one turn. Nothing is written on the message path: `ingest()` reads
the events added since the last call (the web server calls it before every read).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection, Engine

from actions.understanding import items_by_text, understand
from bot.privacy import Masker
from bot.tracker_config import is_sql
from knowledge.query import KnowledgeBase

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OPS_DB = ROOT / "build" / "ops.db"
RETENTION_DAYS = 180
RANKED_KEPT = 5
REPLY_KEPT = 600  # characters of the bot's reply kept with a turn
# Re-read this many tracker events before the mark on a server database, where ids may commit out of order.
SERVER_WINDOW = 2000
FEEDBACK_KINDS = ("answer", "verdict")  # the replies 👍/👎 are about
# Reply kinds of actions that attach no metadata (actions/turn_record.py attaches it to ours).
ACTION_KINDS = {"action_ask_eligibility_leaf": "clarify", "action_eligibility_result": "verdict"}

metadata = sa.MetaData()
turns = sa.Table(
    "turns", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_id", sa.Integer, nullable=False, unique=True),  # the user event's id in the tracker store
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("sender", sa.String(64), nullable=False, index=True),  # salted hash of the sender id
    sa.Column("conversation", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),  # masked
    sa.Column("intent", sa.String(64)),
    sa.Column("confidence", sa.Float),
    sa.Column("aspects", sa.Text, nullable=False),  # JSON list
    sa.Column("ranked", sa.Text, nullable=False),  # JSON list of {code, name, score, kind}
    sa.Column("region", sa.String(128)),
    sa.Column("region_label", sa.String(128)),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("menu", sa.Boolean, nullable=False, default=False),
    sa.Column("answered", sa.Text, nullable=False),  # JSON list of item codes
    sa.Column("document", sa.String(32)),
    sa.Column("reply", sa.Text, nullable=False),
    sa.Column("latency_ms", sa.Integer),
    sa.Column("rating", sa.String(8)),
    sa.Column("comment", sa.Text),
    sa.Column("reviewed", sa.Boolean, nullable=False, default=False),
)
state = sa.Table("state", metadata, sa.Column("key", sa.String(64), primary_key=True),
                 sa.Column("value", sa.Text, nullable=False))
users = sa.Table(
    "users", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.Float, nullable=False, default=0),
)
sessions = sa.Table(
    "sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user", sa.String(64), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
)
audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("user", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
)
tracker_events = sa.Table(  # Rasa's SQLTrackerStore table, read only
    "events", sa.MetaData(),
    sa.Column("id", sa.Integer), sa.Column("sender_id", sa.String(255)), sa.Column("type_name", sa.String(255)),
    sa.Column("timestamp", sa.Float), sa.Column("data", sa.Text),
)


def database_url(value: str | Path) -> str:
    """An SQLAlchemy URL, or a path taken as a SQLite file."""
    text = str(value)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


def tracker_store_url(endpoints: Path = ROOT / "endpoints.yml") -> str:
    """The SQL tracker store of an endpoints file as an SQLAlchemy URL (its password from the environment)."""
    store = (yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}).get("tracker_store") or {}
    if not is_sql(store):
        raise SystemExit(f"{endpoints}: the tracker store is not SQL; the operations console reads an SQL one")
    dialect = store.get("dialect", "sqlite")
    db = str(store.get("db", "rasa.db"))
    if dialect == "sqlite":
        path = Path(db)
        return database_url(path if path.is_absolute() else ROOT / path)
    password = os.path.expandvars(str(store.get("password", "")))
    user = os.path.expandvars(str(store.get("username", "")))
    host = os.path.expandvars(str(store.get("url", "localhost")))
    port = store.get("port")
    return str(sa.engine.URL.create(dialect, user or None, password or None, host, int(port) if port else None,
                                    os.path.expandvars(db)))


def hash_sender(salt: str, sender: str) -> str:
    return hashlib.sha256(f"{salt}\x00{sender}".encode("utf-8")).hexdigest()[:32]


@dataclass
class OpenTurn:
    """A user message being read, with what followed it."""
    source_id: int
    at: float
    channel: str
    text: str
    parse: dict[str, Any]
    conversation: str
    replies: list[str]
    reply_meta: dict[str, Any] | None = None
    action_kind: str | None = None
    last_bot_at: float | None = None


class OpsStore:
    """The operations database and the tracker store it reads."""

    def __init__(self, url: str, tracker_url: str, kb: KnowledgeBase, salt: str,
                 masker: Masker | None = None) -> None:
        self.engine: Engine = sa.create_engine(url, future=True)
        self.tracker: Engine = sa.create_engine(tracker_url, future=True)
        self.kb, self.salt = kb, salt
        self.masker = masker or Masker(kb.phone_numbers())
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as connection:
                connection.exec_driver_sql("pragma journal_mode=wal")
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # the web servers of a cluster start together
                connection.execute(sa.text("select pg_advisory_xact_lock(20261204)"))
            metadata.create_all(connection)

    @classmethod
    def from_environment(cls, kb: KnowledgeBase, environ: Mapping[str, str] = os.environ) -> OpsStore:
        """OPS_DB (default build/ops.db), TRACKER_DB (default endpoints.yml's), OPS_SENDER_SALT (required)."""
        salt = environ.get("OPS_SENDER_SALT", "")
        if len(salt) < 16:
            raise SystemExit("OPS_SENDER_SALT must be set (16 characters or more): the salt of the senders' hashes")
        tracker = environ.get("TRACKER_DB")
        return cls(database_url(environ.get("OPS_DB") or DEFAULT_OPS_DB),
                   database_url(tracker) if tracker else tracker_store_url(), kb, salt)

    # Reading the tracker store ---------------------------------------------------------------------------

    def ingest(self) -> int:
        """Record the turns added to the tracker store since the last call; the number of turns recorded."""
        with self.engine.begin() as ops:
            mark = int(ops.execute(sa.select(state.c.value).where(state.c.key == "mark")).scalar() or 0)
            with self.tracker.connect() as source:
                if not sa.inspect(source).has_table("events"):
                    return 0
                top = source.execute(sa.select(sa.func.max(tracker_events.c.id))).scalar() or 0
                if top < mark:  # the tracker store was emptied and its ids start again
                    mark = 0
                window = 0 if self.tracker.dialect.name == "sqlite" else SERVER_WINDOW
                rows = source.execute(sa.select(tracker_events).where(tracker_events.c.id > mark - window)
                                      .order_by(tracker_events.c.id)).all()
            recorded = self._record(ops, rows)
            value = str(max([mark] + [row.id for row in rows]))
            if ops.execute(sa.update(state).where(state.c.key == "mark").values(value=value)).rowcount == 0:
                ops.execute(sa.insert(state).values(key="mark", value=value))
        return recorded

    def _record(self, ops: Connection, rows: list[Any]) -> int:
        known = {source_id for (source_id,) in ops.execute(
            sa.select(turns.c.source_id).where(turns.c.source_id >= (rows[0].id if rows else 0)))}
        open_turns: dict[str, OpenTurn | None] = {}
        conversations: dict[str, str] = {}
        recorded = 0
        for row in rows:
            event = json.loads(row.data)
            sender = row.sender_id
            if row.type_name == "session_started":
                conversations[sender] = self._conversation(sender, row.timestamp)
            elif row.type_name == "user":
                recorded += self._close(ops, sender, open_turns.pop(sender, None))
                user_meta = event.get("metadata") or {}
                if user_meta.get("feedback") in ("up", "down"):
                    if row.id not in known:
                        self._rate(ops, hash_sender(self.salt, sender), user_meta["feedback"], None)
                    open_turns[sender] = None
                    continue
                if row.id in known:
                    open_turns[sender] = None
                    continue
                if sender not in conversations:
                    conversations[sender] = self._last_conversation(ops, sender) or \
                        self._conversation(sender, row.timestamp)
                open_turns[sender] = OpenTurn(
                    row.id, row.timestamp, str(user_meta.get("channel") or event.get("input_channel") or "rest"),
                    self.masker.mask(event.get("text") or ""), event.get("parse_data") or {},
                    conversations[sender], [])
            elif open_turns.get(sender) is not None:
                self._follow(open_turns[sender], row.type_name, event)
        for sender, turn in open_turns.items():
            recorded += self._close(ops, sender, turn)
        return recorded

    @staticmethod
    def _follow(turn: OpenTurn, type_name: str, event: dict[str, Any]) -> None:
        """Take a bot message or an action that followed the user message."""
        if type_name == "bot":
            turn.replies.append(event.get("text") or "")
            turn.last_bot_at = event.get("timestamp")
            meta = event.get("metadata") or {}
            if isinstance(meta.get("reply"), dict):
                turn.reply_meta = meta["reply"]
            elif meta.get("not_processed"):
                turn.reply_meta = {"kind": "fallback"}
        elif type_name == "action":
            name = event.get("name") or ""
            if name.startswith("utter_"):
                turn.action_kind = "smalltalk"
            elif name in ACTION_KINDS or name.endswith("_form"):
                turn.action_kind = ACTION_KINDS.get(name, "clarify")

    def _conversation(self, sender: str, started: float) -> str:
        return hash_sender(self.salt, f"{sender}\x00{started:.6f}")

    def _last_conversation(self, ops: Connection, sender: str) -> str | None:
        return ops.execute(sa.select(turns.c.conversation).where(turns.c.sender == hash_sender(self.salt, sender))
                           .order_by(turns.c.at.desc()).limit(1)).scalar()

    def _close(self, ops: Connection, sender: str, turn: OpenTurn | None) -> int:
        """Insert a turn, with how the assistant read its text; 1 if inserted."""
        if turn is None:
            return 0
        intent = turn.parse.get("intent") or {}
        reading = understand(self.kb, {"text": turn.text, "intent": intent, "entities": turn.parse.get("entities")
                                       or []})
        document = reading.region.document if reading.region is not None and reading.region.covered else None
        ranked = reading.items or items_by_text(self.kb, turn.text, document, reading.person_type)
        meta = turn.reply_meta or {}
        if not turn.replies:
            kind = "unavailable"
        else:
            kind = meta.get("kind") or turn.action_kind or "answer"
        ops.execute(sa.insert(turns).values(
            source_id=turn.source_id, at=turn.at, channel=turn.channel, sender=hash_sender(self.salt, sender),
            conversation=turn.conversation, text=turn.text, intent=intent.get("name"),
            confidence=intent.get("confidence"), aspects=json.dumps(reading.aspects, ensure_ascii=False),
            ranked=json.dumps([{"code": m.code, "name": m.name, "score": round(m.score, 2), "kind": m.kind}
                               for m in ranked[:RANKED_KEPT]], ensure_ascii=False),
            region=reading.region.id if reading.region else None,
            region_label=reading.region.label if reading.region else None,
            kind=kind, menu=bool(meta.get("menu")), answered=json.dumps(meta.get("items") or []),
            document=meta.get("document"), reply=self.masker.mask("\n\n".join(turn.replies))[:REPLY_KEPT],
            latency_ms=round((turn.last_bot_at - turn.at) * 1000) if turn.last_bot_at else None))
        return 1

    # Feedback --------------------------------------------------------------------------------------------

    def _rate(self, ops: Connection, sender_hash: str, rating: str, comment: str | None) -> int | None:
        """Rate the sender's latest answer; its turn id, or None when the sender has no answer yet."""
        turn_id = ops.execute(sa.select(turns.c.id).where(turns.c.sender == sender_hash,
                                                          turns.c.kind.in_(FEEDBACK_KINDS))
                              .order_by(turns.c.at.desc()).limit(1)).scalar()
        if turn_id is not None:
            ops.execute(sa.update(turns).where(turns.c.id == turn_id).values(
                rating=rating, comment=self.masker.mask(comment) if comment else None))
        return turn_id

    def feedback(self, sender: str, rating: str, comment: str | None) -> int | None:
        """Record 👍/👎 (and a comment) for the sender's latest answer; its turn id, None if it has none."""
        self.ingest()
        with self.engine.begin() as ops:
            return self._rate(ops, hash_sender(self.salt, sender), rating, comment)

    # Retention -------------------------------------------------------------------------------------------

    def purge(self, days: float, now: float | None = None) -> int:
        """Delete the turns older than `days`; how many."""
        cutoff = (time.time() if now is None else now) - days * 86400
        with self.engine.begin() as ops:
            deleted = ops.execute(sa.delete(turns).where(turns.c.at < cutoff)).rowcount
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as connection:
                connection.exec_driver_sql("vacuum")
        return deleted

    # Reading ---------------------------------------------------------------------------------------------

    def turns_between(self, start: float, end: float, **filters: str) -> Iterator[dict[str, Any]]:
        """The turns from `start` to `end` (epoch seconds), oldest first, optionally of one channel or region."""
        query = sa.select(turns).where(turns.c.at >= start, turns.c.at < end).order_by(turns.c.at)
        if filters.get("channel"):
            query = query.where(turns.c.channel == filters["channel"])
        if filters.get("region"):
            query = query.where(turns.c.region.startswith(filters["region"]))
        with self.engine.connect() as ops:
            for row in ops.execute(query):
                yield turn_json(row)

    def turn(self, turn_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as ops:
            row = ops.execute(sa.select(turns).where(turns.c.id == turn_id)).first()
        return turn_json(row) if row is not None else None

    def mark_reviewed(self, turn_ids: list[int]) -> None:
        with self.engine.begin() as ops:
            ops.execute(sa.update(turns).where(turns.c.id.in_(turn_ids)).values(reviewed=True))

    def later_turn_senders(self, after: float) -> dict[str, float]:
        """The latest turn time of every sender with a turn after `after` (to see which questions were left)."""
        with self.engine.connect() as ops:
            return {sender: at for sender, at in ops.execute(
                sa.select(turns.c.sender, sa.func.max(turns.c.at)).where(turns.c.at >= after)
                .group_by(turns.c.sender))}

    def log(self, user: str, action: str, detail: str, address: str) -> None:
        """One line of the audit log."""
        with self.engine.begin() as ops:
            ops.execute(sa.insert(audit).values(at=time.time(), user=user, action=action, detail=detail,
                                                address=address))

    def audit_log(self, limit: int = 200) -> list[dict[str, Any]]:
        with self.engine.connect() as ops:
            return [dict(row._mapping) for row in ops.execute(
                sa.select(audit).order_by(audit.c.id.desc()).limit(limit))]


def turn_json(row: Any) -> dict[str, Any]:
    record = dict(row._mapping)
    for key in ("aspects", "ranked", "answered"):
        record[key] = json.loads(record[key])
    record["menu"], record["reviewed"] = bool(record["menu"]), bool(record["reviewed"])
    del record["source_id"]
    return record
