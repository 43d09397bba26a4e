"""The reviewed word lists of knowledge/data/words.yml: what a message asks (aspects) and who asks it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from knowledge.datafiles import load_yaml
from knowledge.paths import DATA_DIR


@dataclass(frozen=True)
class Negation:
    """Whether a word is negated by what stands just before it (negated())."""
    negations: tuple[str, ...]
    negation_links: tuple[str, ...]


@dataclass(frozen=True)
class Places:
    """The words around a place in a message, as regular expressions where they are matched as such: a follow-up
    that asks nothing new, a destination, the place of insurance, a place of origin (actions/understanding.py)."""
    place_follow_up: tuple[str, ...]
    destination_before: tuple[str, ...]
    insured_after: tuple[str, ...]
    origin_after: tuple[str, ...]
    origin_before: tuple[str, ...]
    place_suffixes: tuple[str, ...]
    possessive: tuple[str, ...]
    insured_schemes: tuple[str, ...]
    away: str


@dataclass(frozen=True)
class Answers:
    """Answers to a yes/no question of an eligibility dialog: a correction, the starts of a yes and of a no."""
    correction_words: tuple[str, ...]
    yes_starts: tuple[str, ...]
    no_starts: tuple[str, ...]


@dataclass(frozen=True)
class Steering:
    """Words that steer a conversation rather than answer it: stop or restart an eligibility dialog, ask what its
    options mean (actions/eligibility.py), ask for a person (actions/fallback_handoff.py)."""
    stop_starts: tuple[str, ...]
    stop_anywhere: tuple[str, ...]
    restart_words: tuple[str, ...]
    dont_know_words: tuple[str, ...]
    human_words: tuple[str, ...]


@dataclass(frozen=True)
class ItemSentences:
    """Words for reading an item's own sentences: which answer a question, and what each says (actions/compose.py)."""
    question_hints: dict[str, str]
    person_text: tuple[str, ...]
    filler_bigrams: frozenset[str]
    sentence_kinds: dict[str, str]
    online_marks: tuple[str, ...]
    form_marks: tuple[str, ...]
    seal_words: tuple[str, ...]
    payment_note_word: str
    payment_words: tuple[str, ...]
    proxy: str


@dataclass(frozen=True)
class Words:
    """What a message asks and who asks it, as actions/understanding.py reads every message, and the groups of
    words that serve one purpose."""
    aspects: dict[str, tuple[str, ...]]
    weak_eligibility: frozenset[str]
    can_question: str
    which_words: tuple[str, ...]
    how: tuple[str, ...]
    full_list: tuple[str, ...]
    scope_words: tuple[str, ...]
    other_topics: tuple[str, ...]
    plain_words: dict[str, str]
    sounds_alike: dict[str, dict[str, str]]
    english_words: dict[str, str]
    filler: tuple[str, ...]
    persons: dict[str, tuple[str, ...]]
    negation: Negation
    places: Places
    person_like_aliases: frozenset[str]
    situations_of_any_entry: frozenset[str]
    material_situations: dict[str, tuple[str, ...]]
    same_words: dict[str, tuple[str, ...]]
    generic_verbs: tuple[str, ...]
    consult_words: tuple[str, ...]
    answers: Answers
    steering: Steering
    item_sentences: ItemSentences


# The sections of words.yml read as a group of their own, and the lists read as sets.
GROUPS = {"negation": Negation, "places": Places, "answers": Answers, "steering": Steering,
          "item_sentences": ItemSentences}
SETS = {"weak_eligibility", "person_like_aliases", "situations_of_any_entry", "filler_bigrams"}


@lru_cache(maxsize=1)
def _negation_before() -> re.Pattern[str]:
    """A negation at the end of a text, maybe with one linking character after it (没|没在|不能)$."""
    negation = words().negation
    return re.compile(f"({'|'.join(map(re.escape, negation.negations))})({'|'.join(negation.negation_links)})?$")


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


def _read(data: dict[str, Any]) -> dict[str, Any]:
    """A section of words.yml as immutable values: a group's section as its group, a set's list as a frozenset."""
    return {key: GROUPS[key](**_read(value)) if key in GROUPS else frozenset(value) if key in SETS else _frozen(value)
            for key, value in data.items()}


@lru_cache(maxsize=1)
def words() -> Words:
    """words.yml, read once; every key of the file is a field of Words or of its group (a missing or unknown key fails
    here)."""
    return Words(**_read(load_yaml(DATA_DIR / "words.yml")))


def alternatives(words_: tuple[str, ...]) -> str:
    """A regular expression group of any of `words_`, each a regular expression as written (市|县|区, 人(?!社))."""
    return f"({'|'.join(words_)})"


@lru_cache(maxsize=None)
def sentence_kind(kind: str) -> re.Pattern[str]:
    """The compiled expression of words.yml's item_sentences.sentence_kinds[kind] (deadline, condition …)."""
    return re.compile(words().item_sentences.sentence_kinds[kind])
