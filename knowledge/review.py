"""Comparing a reviewed document file with its importer's output, and recording hand edits as corrections."""
from __future__ import annotations

from typing import Any, Iterator

from knowledge.corrections import CORRECTIONS_DIR, apply_corrections, load_corrections
from knowledge.datafiles import dump_yaml, load_document
from knowledge.importers import parse


def _differences(draft: Any, reviewed: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(draft, dict) and isinstance(reviewed, dict) and draft.keys() == reviewed.keys():
        for key in draft:
            yield from _differences(draft[key], reviewed[key], f"{path}.{key}" if path else key)
    elif isinstance(draft, list) and isinstance(reviewed, list) and len(draft) == len(reviewed):
        for index, (old, new) in enumerate(zip(draft, reviewed)):
            yield from _differences(old, new, f"{path}[{index}]")
    elif draft != reviewed:
        yield path, draft, reviewed


def unrecorded_differences(document: str) -> list[dict[str, Any]]:
    """Differences between the reviewed file and importer + recorded corrections, as correction entries."""
    expected = apply_corrections(parse(document), load_corrections(document))
    reviewed = load_document(document)
    expected_items = {item["key"]: item for item in expected["items"]}
    entries = []
    for item in reviewed["items"]:
        if item["key"] not in expected_items:
            entries.append({"key": item["key"], "path": "", "parsed": None, "reviewed": item})
            continue
        for path, old, new in _differences(expected_items[item["key"]], item, ""):
            entries.append({"key": item["key"], "path": path, "parsed": old, "reviewed": new})
    reviewed_keys = {item["key"] for item in reviewed["items"]}
    entries += [{"key": key, "path": "", "parsed": item, "reviewed": None}
                for key, item in expected_items.items() if key not in reviewed_keys]
    if {k: v for k, v in expected.items() if k != "items"} != {k: v for k, v in reviewed.items() if k != "items"}:
        entries.append({"key": None, "path": "(document-level keys)", "parsed": None, "reviewed": None})
    return entries


def record_corrections(document: str, reason: str) -> list[dict[str, Any]]:
    """Append every unrecorded hand edit of the document file to its corrections file."""
    entries = [{"key": e["key"], "path": e["path"], "reviewed": e["reviewed"], "reason": reason}
               for e in unrecorded_differences(document) if e["key"] is not None and e["reviewed"] is not None]
    if entries:
        path = CORRECTIONS_DIR / f"{document}.yml"
        CORRECTIONS_DIR.mkdir(parents=True, exist_ok=True)
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        path.write_text(existing + dump_yaml(entries), encoding="utf-8")
    return entries
