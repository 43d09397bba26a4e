"""The reviewed word lists of knowledge/data/words.yml: what a message asks (aspects) and who asks it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from knowledge.datafiles import DATA_DIR, load_yaml


@dataclass(frozen=True)
class Words:
    aspects: dict[str, tuple[str, ...]]
    weak_eligibility: frozenset[str]
    can_question: str
    how: tuple[str, ...]
    which_words: tuple[str, ...]
    full_list: tuple[str, ...]
    other_topics: tuple[str, ...]
    filler: tuple[str, ...]
    plain_words: dict[str, str]
    question_hints: dict[str, str]
    negations: tuple[str, ...]
    negation_links: tuple[str, ...]
    destination_before: tuple[str, ...]
    insured_after: tuple[str, ...]
    origin_after: tuple[str, ...]
    persons: dict[str, tuple[str, ...]]
    person_like_aliases: frozenset[str]
    material_situations: dict[str, tuple[str, ...]]
    situations_of_any_entry: frozenset[str]


@lru_cache(maxsize=1)
def _negation_before() -> re.Pattern[str]:
    """A negation at the end of a text, maybe with one linking character after it (没|没在|不能)$."""
    return re.compile(f"({'|'.join(map(re.escape, words().negations))})({'|'.join(words().negation_links)})?$")


def negated(text: str, start: int) -> bool:
    """The word at `start` of `text` is negated by what stands just before it (没有转诊单, 没在医院结算)."""
    return bool(_negation_before().search(text[max(0, start - 3) : start]))


@lru_cache(maxsize=1)
def words() -> Words:
    data = load_yaml(DATA_DIR / "words.yml")
    return Words(aspects={k: tuple(v) for k, v in data["aspects"].items()}, how=tuple(data["how"]), which_words=tuple(data["which_words"]),
                 weak_eligibility=frozenset(data["weak_eligibility"]), can_question=data["can_question"],
                 full_list=tuple(data["full_list"]), other_topics=tuple(data["other_topics"]),
                 filler=tuple(data["filler"]), plain_words=dict(data["plain_words"]),
                 question_hints=dict(data["question_hints"]),
                 negations=tuple(data["negations"]), negation_links=tuple(data["negation_links"]), destination_before=tuple(data["destination_before"]),
                 insured_after=tuple(data["insured_after"]), origin_after=tuple(data["origin_after"]), persons={k: tuple(v) for k, v in data["persons"].items()},
                 person_like_aliases=frozenset(data["person_like_aliases"]),
                 material_situations={k: tuple(v) for k, v in data["material_situations"].items()},
                 situations_of_any_entry=frozenset(data["situations_of_any_entry"]))
