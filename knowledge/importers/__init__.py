"""Importers: one parser per source document, producing the draft of its data file.

`python -m knowledge.importers <doc>` writes `knowledge/data/documents/<doc>.yml` from the source text. The
files in the repo are the reviewed truth; `knowledge/data/corrections/<doc>.yml` records every deliberate difference
between a reviewed file and its importer's output, and a test checks that there are no others.
"""
from __future__ import annotations

import importlib
from typing import Any

DOCUMENTS = ("hengyang", "chenzhou", "changsha", "hunan2025", "hubei")


def parse(document: str) -> dict[str, Any]:
    """Run the importer of one document and return its data (the schema of knowledge/SCHEMA.md)."""
    if document not in DOCUMENTS:
        raise ValueError(f"unknown document {document!r}; one of {', '.join(DOCUMENTS)}")
    module = importlib.import_module(f"knowledge.importers.{document}")
    return module.parse()
