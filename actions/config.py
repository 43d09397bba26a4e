"""The one place that reads the environment for the action server."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from knowledge.build import DB_PATH
from knowledge.query import KnowledgeBase

KNOWLEDGE_DB = Path(os.environ.get("KNOWLEDGE_DB", DB_PATH))
# WeChat's passive text reply holds 2048 bytes; every message the assistant sends fits in it.
MAX_REPLY_BYTES = int(os.environ.get("MAX_REPLY_BYTES", "2048"))
# Failed turns in a row before the assistant offers the hotline numbers.
FAILED_TURNS_BEFORE_HANDOFF = 2


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    """The knowledge base, opened once per process (raises KnowledgeBaseError if knowledge.db is unusable)."""
    return KnowledgeBase(KNOWLEDGE_DB)
