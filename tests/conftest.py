"""Shared fixtures: the real knowledge.db, built from the repo's data files once per test session."""
from __future__ import annotations

import pytest

from knowledge.build import DB_PATH, build
from knowledge.query import KnowledgeBase


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    if not DB_PATH.exists():
        build()
    return KnowledgeBase(DB_PATH)
