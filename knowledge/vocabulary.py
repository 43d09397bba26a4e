"""The names of regions and items, for the NLU lookup tables, synonyms and the jieba dictionary."""
from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.codes import catalogue_code, main_of
from knowledge.datafiles import load_document, load_yaml
from knowledge.paths import DATA_DIR
from knowledge.importers import DOCUMENTS
from knowledge.regions import ambiguous_names, load_regions

_BRACKETS = re.compile(r"[《》“”\"]")


@dataclass(frozen=True)
class Name:
    text: str
    value: str | None  # the canonical value (region id, item code or local key); None when ambiguous
    kind: str  # name | alias


def region_names() -> list[Name]:
    """Every name of every region; ambiguous names (高新区) carry no value."""
    regions = load_regions()
    ambiguous = ambiguous_names(regions)
    return sorted(
        (Name(name, None if name in ambiguous else region.id, "name" if name == region.name else "alias")
         for region in regions for name in region.names if name not in ambiguous or region.id == ambiguous[name][0]),
        key=lambda n: n.text)


def item_names() -> list[Name]:
    """Catalogue names and aliases (→ code), and the documents' own item names (→ code or local key).

    A name that several codes share maps to the code of their common 主项 when there is one, else to nothing.
    """
    catalogue = load_yaml(DATA_DIR / "items.yml")
    owners: dict[str, set[str]] = {}
    kinds: dict[str, str] = {}
    for entry in catalogue["main_items"] + catalogue["sub_items"]:
        for text, kind in [(n, "name") for n in entry["names"]] + [(a, "alias") for a in entry["aliases"]]:
            text = _BRACKETS.sub("", text)
            owners.setdefault(text, set()).add(entry["code"])
            kinds.setdefault(text, kind)
    for document in DOCUMENTS:
        for item in load_document(document)["items"]:
            text = _BRACKETS.sub("", item["name"])
            value = item["local_code"] or item["code"] or item["key"]
            owners.setdefault(text, set()).add(value)
            kinds.setdefault(text, "name")
    names = []
    for text, values in owners.items():
        if len(values) == 1:
            value: str | None = next(iter(values))
        else:
            parents = {main_of(v) for v in values if v.startswith("002036")}
            value = next(iter(parents)) if len(parents) == 1 and all(v.startswith("002036") for v in values) else None
            if value is None and len({catalogue_code(v) for v in values}) == 1:
                value = catalogue_code(next(iter(values)))
        names.append(Name(text, value, kinds[text]))
    return sorted(names, key=lambda n: n.text)
