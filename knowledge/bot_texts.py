"""The assistant's own words (knowledge/data/texts.yml): every sentence, label and button it says that is not
quoted from a document, read once. Code asks for a text by its key, `say("section.name", value=…)`."""
from __future__ import annotations

from functools import lru_cache
from string import Formatter

from knowledge.datafiles import load_yaml
from knowledge.paths import DATA_DIR

TEXTS_FILE = DATA_DIR / "texts.yml"


@lru_cache(maxsize=1)
def texts() -> dict[str, str | list[str]]:
    """Every text of texts.yml by its key "section.name" (a list for a list of buttons or words)."""
    return {f"{section}.{name}": text for section, entries in load_yaml(TEXTS_FILE).items()
            for name, text in entries.items()}


def placeholders(text: str) -> set[str]:
    """The {names} a text has to be given."""
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def say(key: str, **values: object) -> str:
    """The text `key` with its {placeholders} filled; a missing key or value fails loudly."""
    text = texts()[key]
    if not isinstance(text, str):
        raise TypeError(f"{key} is a list; use choices()")
    return text.format(**values)


def section_texts(name: str) -> dict[str, str]:
    """Every text of one section by its name (the titles of the aspects)."""
    prefix = f"{name}."
    return {key[len(prefix):]: text for key, text in texts().items() if key.startswith(prefix) and isinstance(text, str)}


def choices(key: str) -> list[str]:
    """A list of texts (buttons, example places)."""
    value = texts()[key]
    if not isinstance(value, list):
        raise TypeError(f"{key} is one text; use say()")
    return list(value)
