"""Where the knowledge layer's files are; the one place that reads KNOWLEDGE_DB from the environment."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).parent
SOURCES_DIR = PACKAGE_DIR / "sources"
DATA_DIR = PACKAGE_DIR / "data"
DOCUMENTS_DIR = DATA_DIR / "documents"
DB_PATH = Path(os.environ.get("KNOWLEDGE_DB", PACKAGE_DIR / "knowledge.db"))
