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
    role: str  # city_guide | provincial_list | province_guide
    county_offices: bool  # lists an office for each county and district

    @property
    def is_city_guide(self) -> bool:
        return self.role == "city_guide"

    @property
    def is_provincial_list(self) -> bool:
        return self.role == "provincial_list"

    @property
    def is_province_guide(self) -> bool:
        return self.role == "province_guide"

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
            first_line=entry["lines"][0], last_line=entry["lines"][1], role=entry["role"],
            county_offices=entry["county_offices"],
        )
        for entry in entries
    }


def provincial_list() -> Document:
    """The Hunan 2025 list, the document whose rules the Hunan city guides are held against."""
    return next(document for document in documents().values() if document.is_provincial_list)
