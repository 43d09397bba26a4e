"""The action server's limits and its start-up check of the knowledge base (KNOWLEDGE_DB is read by knowledge/paths.py)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from knowledge.paths import DB_PATH
from knowledge.query import KnowledgeBase, KnowledgeBaseError, open_knowledge_base

# WeChat's passive text reply holds 2048 bytes; every message the assistant sends fits in it (the channels and
# bot/unavailable.py use this limit too).
MAX_REPLY_BYTES = 2048
# Failed turns in a row before the assistant offers the hotline numbers.
FAILED_TURNS_BEFORE_HANDOFF = 2


def knowledge_base() -> KnowledgeBase:
    """The knowledge base, opened once per process (raises KnowledgeBaseError if knowledge.db is unusable)."""
    return open_knowledge_base()


def knowledge_base_problem(path: Path = DB_PATH) -> str | None:
    """Why the knowledge base at `path` cannot serve, in one line naming the file and how to build it; None if it
    can (it opens, has its tables and rows, and SQLite's quick_check passes)."""
    build = "build it with `make knowledge` (python -m knowledge build), or point KNOWLEDGE_DB at a built file"
    if not path.exists():
        return f"knowledge base {path} does not exist: {build}"
    if path.is_file() and path.stat().st_size == 0:
        return f"knowledge base {path} is empty: {build}"
    try:
        kb = KnowledgeBase(path)
        check = kb.connection.execute("pragma quick_check").fetchone()[0]
        if check != "ok":
            raise KnowledgeBaseError(f"quick_check: {check}")
        for table in ("items", "regions"):
            if not kb.connection.execute(f"select count(*) from {table}").fetchone()[0]:
                raise KnowledgeBaseError(f"no {table}")
    except (KnowledgeBaseError, sqlite3.Error) as error:
        reason = str(error.__cause__ or error).replace(str(path), "").removesuffix(": rebuild it").strip(" :")
        return f"knowledge base {path} is not usable ({reason}): {build}"
    return None


def startup_problem() -> str | None:
    """The one line the action server and `python -m bot.serve` refuse to start with when the knowledge base
    cannot serve (not a traceback, not a server that fails on the first question); None when it can."""
    problem = knowledge_base_problem()
    return f"cannot start: {problem}" if problem else None
