"""Hand corrections: the recorded, deliberate differences between an importer's draft and the reviewed file.

`data/corrections/<doc>.yml` is a list of `{key, path, reviewed, reason}`: in the item with that key, the value at
`path` (e.g. `materials[2].text`, `phones[5]`, or `""` for the whole item, which adds it if the draft lacks it)
is replaced by `reviewed`.
"""
from __future__ import annotations

import copy
import re
from typing import Any

from knowledge.datafiles import load_yaml
from knowledge.paths import DATA_DIR

CORRECTIONS_DIR = DATA_DIR / "corrections"
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def load_corrections(document: str) -> list[dict[str, Any]]:
    path = CORRECTIONS_DIR / f"{document}.yml"
    if not path.exists():
        return []
    corrections = load_yaml(path) or []
    for correction in corrections:
        missing = {"key", "path", "reviewed", "reason"} - set(correction)
        if missing:
            raise ValueError(f"{path.name}: correction {correction!r} lacks {sorted(missing)}")
    return corrections


def _steps(path: str) -> list[str | int]:
    return [name if name else int(index) for name, index in _STEP.findall(path)]


def _get(container: Any, steps: list[str | int]) -> Any:
    for step in steps:
        container = container[step]
    return container


def apply_corrections(draft: dict[str, Any], corrections: list[dict[str, Any]]) -> dict[str, Any]:
    """The draft with every correction applied; raises if a correction no longer changes anything."""
    reviewed = copy.deepcopy(draft)
    items = {item["key"]: item for item in reviewed["items"]}
    for correction in corrections:
        key, steps, value = correction["key"], _steps(correction["path"]), correction["reviewed"]
        if not steps:
            if key in items and items[key] == value:
                raise ValueError(f"correction of {key} is stale: the importer already gives that item")
            if key in items:
                reviewed["items"][reviewed["items"].index(items[key])] = value
            else:
                reviewed["items"].append(value)
            items[key] = value
            continue
        parent = _get(items[key], steps[:-1])
        if _get(parent, steps[-1:]) == value:
            raise ValueError(f"correction {key} {correction['path']} is stale: the importer already gives it")
        parent[steps[-1]] = value
    return reviewed
