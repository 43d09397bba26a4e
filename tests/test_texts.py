"""The assistant's own words live once, in knowledge/data/texts.yml: no Chinese text in the Python of actions/ and
bot/, every key the code asks for is there with the {names} the code fills, every text there is used, and the
buttons name real items and places."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from knowledge.bot_texts import choices, placeholders, say, texts

ROOT = Path(__file__).resolve().parents[1]
CODE = sorted(path for package in ("actions", "bot", "knowledge") for path in (ROOT / package).rglob("*.py"))
CHINESE = re.compile(r"[\u3400-\u9fff]")


def docstrings(tree: ast.AST) -> set[int]:
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def text_calls(tree: ast.AST) -> list[tuple[str, str | None, set[str]]]:
    """(function, literal key or the constant prefix of an f-string key, keyword names) of every say/choices call."""
    calls = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("say", "choices", "section_texts")
                and node.args):
            continue
        key = node.args[0]
        if isinstance(key, ast.Constant):
            literal = key.value + ".*" if node.func.id == "section_texts" else key.value
        elif isinstance(key, ast.JoinedStr) and key.values and isinstance(key.values[0], ast.Constant):
            literal = key.values[0].value + "*"
        else:
            literal = None
        calls.append((node.func.id, literal, {k.arg for k in node.keywords if k.arg}))
    return calls


CALLS = [(path, call) for path in CODE for call in text_calls(ast.parse(path.read_text(encoding="utf-8")))]


@pytest.mark.parametrize("package", ["actions", "bot"])
def test_no_chinese_text_in_the_python_of(package: str) -> None:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = docstrings(tree)
        found += [f"{path.relative_to(ROOT)}:{node.lineno} {node.value[:30]}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
                  and CHINESE.search(node.value)]
    assert found == []


def test_every_key_the_code_asks_for_is_there_with_the_names_it_fills() -> None:
    problems = []
    for path, (function, key, names) in CALLS:
        where = path.relative_to(ROOT)
        if key is None:
            problems.append(f"{where}: a key that is neither a literal nor a literal prefix")
        elif key.endswith("*"):
            if not any(k.startswith(key[:-1]) for k in texts()):
                problems.append(f"{where}: no text starts with {key[:-1]}")
        elif key not in texts():
            problems.append(f"{where}: no text {key}")
        elif function == "say" and placeholders(texts()[key]) != names:
            problems.append(f"{where}: {key} has {sorted(placeholders(texts()[key]))}, the code fills {sorted(names)}")
    assert problems == []


def test_every_text_is_used() -> None:
    literal = {key for _, (_, key, _) in CALLS if key and not key.endswith("*")}
    prefixes = tuple(key[:-1] for _, (_, key, _) in CALLS if key and key.endswith("*"))
    assert sorted(key for key in texts() if key not in literal and not key.startswith(prefixes)) == []


def test_a_text_is_filled_and_a_missing_value_fails() -> None:
    text = say("answer_dialogue.not_covered", place="海南")
    assert "“海南”不在我的资料范围内" in text
    with pytest.raises(KeyError):
        say("answer_dialogue.not_covered")
    with pytest.raises(KeyError):
        say("answer_dialogue.no_such_text")


def test_the_menu_buttons_name_items_and_places_the_knowledge_base_knows(kb) -> None:
    unknown_items = [name for name in choices("answer_dialogue.item_buttons") if not kb.find_items(name, search=False)]
    uncovered = [place for place in choices("answer_dialogue.region_buttons")
                 if not (kb.resolve_region(place).region and kb.resolve_region(place).region.covered)]
    assert (unknown_items, uncovered) == ([], [])
