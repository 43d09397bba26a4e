"""Loading and writing the YAML data files under knowledge/data/."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from knowledge.paths import DOCUMENTS_DIR


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=4096, default_flow_style=False)


def load_document(document: str) -> dict[str, Any]:
    return load_yaml(DOCUMENTS_DIR / f"{document}.yml")
