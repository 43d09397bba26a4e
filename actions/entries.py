"""Which entries of a guide a message is about: cue words and the rarer bigrams of their names."""
from __future__ import annotations

from actions.understanding import WORDS, mentions, person_fit, places_as_away, situations_in
from knowledge.query import Guide, GuideEntry, KnowledgeBase
from knowledge.text import normalize


# Pairs of the words every question shares (医保, 办理 …) and of the person words (居民, 职工: the person bonus below
# weighs those): in an entry's name they point to nothing.
FILLER_PAIRS = {word[i : i + 2] for word in WORDS.filler + tuple(WORDS.persons)
                for i in range(len(word) - 1)}


def entry_scores(kb: KnowledgeBase, entries: list[GuideEntry], text: str, person_type: str | None,
                  distinctive: bool = False, cues_only: bool = False) -> list[float]:
    """How strongly a message points to each entry: its cue words, and the rarer bigrams of its name.

    With `distinctive`, only what sets an entry apart counts: bigrams no other entry's name has, and cues; with
    `cues_only`, only the cue words.
    """
    situations = situations_in(text)
    normalized = normalize(text) + "".join(situations)
    names = [normalize(entry.name) for entry in entries]
    grams = [{name[i : i + 2] for i in range(len(name) - 1)} - FILLER_PAIRS for name in names]
    frequency: dict[str, int] = {}
    for entry_grams in grams:
        for gram in entry_grams:
            frequency[gram] = frequency.get(gram, 0) + 1
    cue_sets = [set(kb.cues(entry.code or "")) for entry in entries]
    # 职工 chooses the 职工 form of an entry only where another entry is another person's form (居民), not the
    # 职工生育 entry beside a base entry that names no person.
    person_forms = any(person_fit(entry.name, person_type) < 1 for entry in entries)
    scores = []
    for entry, entry_grams, cues in zip(entries, grams, cue_sets):
        points = 0.0 if cues_only else sum(2.0 / frequency[gram] for gram in entry_grams
                                           if mentions(normalized, gram) and (not distinctive or frequency[gram] == 1))
        shared_by_all = set.intersection(*cue_sets) if distinctive else set()
        points += sum(3.0 for cue in cues - shared_by_all if mentions(normalized, cue))
        if person_forms and person_fit(entry.name, person_type) > 1:
            points += 3.0  # 职工 for the 职工 form of an entry, not for 特门居民职工医保转换
        conditions = " ".join(m.condition or "" for m in entry.materials)
        points += sum(3.0 for key in situations - WORDS.situations_of_any_entry  # 去世 → the entry for 死亡
                      if key in conditions)
        scores.append(points)
    return scores


def choose_entries(kb: KnowledgeBase, guide: Guide, text: str, person_type: str | None) -> list[GuideEntry]:
    """The entries of a guide the message is about: those its distinctive words point to; among entries of one
    code, the base entry (长沙's 本地特殊门诊待遇申报 among its -n sub-items) or the one bearing the item's own name
    (城乡居民参保登记 among its 减少登记 rows); else the best-pointed ones; else all (and the assistant asks)."""
    entries = guide.entries
    if len(entries) <= 1:
        return entries
    away = places_as_away(text, kb.find_regions(text), guide.region)
    described = [e for e in entries if kb.described_anywhere(e.key, away)]
    if described:  # a situation of an entry's own, however long the message between its parts
        entries = described
    if len(entries) == 1:
        return entries
    distinct = entry_scores(kb, entries, text, person_type, distinctive=True)
    if max(distinct) > 0:
        entries = [e for e, points in zip(entries, distinct) if points >= max(distinct) - 0.01]
    if len(entries) == 1:
        return entries
    if len({e.code for e in entries}) == 1:
        base = [e for e in entries if e.key == e.code and e.local_code is None]
        own_name = [e for e in entries if e.name == kb.item_name(e.code or "")
                    or ((named := e.section("name")) is not None and named.text == e.name)]
        for preferred in (base, own_name):
            if len(preferred) == 1:
                return preferred
    scores = entry_scores(kb, entries, text, person_type)
    chosen = [e for e, points in zip(entries, scores) if points >= max(scores) - 0.01]
    return chosen if max(scores) > 0 else entries


def choose_by_cues(kb: KnowledgeBase, entries: list[GuideEntry], text: str) -> list[GuideEntry]:
    """The entries a message's cue words point to most (急诊 → 异地急诊人员备案); all if none."""
    scores = entry_scores(kb, entries, text, None, distinctive=True, cues_only=True)
    return [e for e, points in zip(entries, scores) if points >= max(scores) - 0.01] if max(scores, default=0) > 0 \
        else entries
