"""The manifest of source documents (knowledge/sources/manifest.yml)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from knowledge.datafiles import load_yaml
from knowledge.paths import SOURCES_DIR


@dataclass(frozen=True)
class Document:
    id: str
    file: str
    title: str
    short: str
    issuer: str
    region: str
    year: int | None
    date_note: str
    first_line: int
    last_line: int

    @property
    def citation(self) -> str:
        """How an answer names this document, e.g. 《湖南省医疗保障经办政务服务事项清单（2025年版）》."""
        return f"《{self.title}》"


@lru_cache(maxsize=None)
def documents() -> dict[str, Document]:
    entries = load_yaml(SOURCES_DIR / "manifest.yml")
    return {
        entry["id"]: Document(
            id=entry["id"], file=entry["file"], title=entry["title"], short=entry["short"],
            issuer=entry["issuer"], region=entry["region"], year=entry["year"], date_note=entry["date_note"],
            first_line=entry["lines"][0], last_line=entry["lines"][1],
        )
        for entry in entries
    }
