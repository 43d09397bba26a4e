"""The layers of the code: knowledge (documents → SQLite, the query API) at the bottom, actions (rasa_sdk actions
and the Rasa-free understanding and composing they use) above it, bot (channels, web, operations, training) on
top. No module imports from a layer above its own; the query API does not import the builder."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"knowledge": 0, "actions": 1, "bot": 2}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_no_module_imports_from_a_layer_above_its_own(package: str) -> None:
    upward = {(str(path.relative_to(ROOT)), module) for path in (ROOT / package).rglob("*.py")
              for module in imported_modules(path)
              if LAYERS.get(module.split(".")[0], -1) > LAYERS[package]}
    assert upward == set()


def test_the_query_api_does_not_import_the_builder() -> None:
    assert not {m for m in imported_modules(ROOT / "knowledge/query.py") if m.startswith("knowledge.build")}


def test_what_the_channels_use_of_the_actions_layer_needs_no_rasa_sdk() -> None:
    used = {module for path in (ROOT / "bot").rglob("*.py") for module in imported_modules(path)
            if module.startswith("actions.")}
    with_sdk = {module for module in used
                if any(m.startswith("rasa_sdk") for m in imported_modules(ROOT / (module.replace(".", "/") + ".py")))}
    assert used and with_sdk == set()
