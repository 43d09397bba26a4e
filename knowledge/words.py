"""The reviewed word lists of knowledge/data/words.yml: what a message asks (aspects) and who asks it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from knowledge.datafiles import load_yaml
from knowledge.paths import DATA_DIR


@dataclass(frozen=True)
class Words:
    aspects: dict[str, tuple[str, ...]]
    weak_eligibility: frozenset[str]
    can_question: str
    how: tuple[str, ...]
    which_words: tuple[str, ...]
    full_list: tuple[str, ...]
    scope_words: tuple[str, ...]
    place_follow_up: tuple[str, ...]
    other_topics: tuple[str, ...]
    filler: tuple[str, ...]
    plain_words: dict[str, str]
    sounds_alike: dict[str, dict[str, str]]
    english_words: dict[str, str]
    question_hints: dict[str, str]
    negations: tuple[str, ...]
    negation_links: tuple[str, ...]
    destination_before: tuple[str, ...]
    insured_after: tuple[str, ...]
    origin_after: tuple[str, ...]
    origin_before: tuple[str, ...]
    persons: dict[str, tuple[str, ...]]
    person_like_aliases: frozenset[str]
    material_situations: dict[str, tuple[str, ...]]
    situations_of_any_entry: frozenset[str]
    same_words: dict[str, tuple[str, ...]]
    place_suffixes: tuple[str, ...]
    possessive: tuple[str, ...]
    insured_schemes: tuple[str, ...]
    away: str
    generic_verbs: tuple[str, ...]
    consult_words: tuple[str, ...]
    correction_words: tuple[str, ...]
    yes_starts: tuple[str, ...]
    no_starts: tuple[str, ...]
    stop_starts: tuple[str, ...]
    stop_anywhere: tuple[str, ...]
    restart_words: tuple[str, ...]
    dont_know_words: tuple[str, ...]
    human_words: tuple[str, ...]
    person_text: tuple[str, ...]
    filler_bigrams: frozenset[str]
    sentence_kinds: dict[str, str]
    online_marks: tuple[str, ...]
    form_marks: tuple[str, ...]
    seal_words: tuple[str, ...]
    payment_note_word: str
    payment_words: tuple[str, ...]
    proxy: str


@lru_cache(maxsize=1)
def _negation_before() -> re.Pattern[str]:
    """A negation at the end of a text, maybe with one linking character after it (没|没在|不能)$."""
    return re.compile(f"({'|'.join(map(re.escape, words().negations))})({'|'.join(words().negation_links)})?$")


def negated(text: str, start: int) -> bool:
    """The word at `start` of `text` is negated by what stands just before it (没有转诊单, 没在医院结算)."""
    return bool(_negation_before().search(text[max(0, start - 3) : start]))


def _frozen(value: object) -> object:
    """A YAML value as an immutable one: lists → tuples, mappings of lists → mappings of tuples."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


@lru_cache(maxsize=1)
def words() -> Words:
    """words.yml, read once; every key of the file is a field of Words (a missing or unknown key fails here)."""
    data = {key: _frozen(value) for key, value in load_yaml(DATA_DIR / "words.yml").items()}
    for key in ("weak_eligibility", "person_like_aliases", "situations_of_any_entry", "filler_bigrams"):
        data[key] = frozenset(data[key])
    return Words(**data)


def alternatives(words_: tuple[str, ...]) -> str:
    """A regular expression group of any of `words_`, each a regular expression as written (市|县|区, 人(?!社))."""
    return f"({'|'.join(words_)})"


@lru_cache(maxsize=None)
def sentence_kind(kind: str) -> re.Pattern[str]:
    """The compiled expression of words.yml's sentence_kinds[kind] (deadline, condition …)."""
    return re.compile(words().sentence_kinds[kind])
