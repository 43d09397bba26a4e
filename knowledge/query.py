"""The query API over knowledge.db, used by the actions, the agent console and the CLI."""
from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from knowledge.codes import catalogue_code, main_of
from knowledge.manifest import Document, documents, provincial_list
from knowledge.paths import DB_PATH
from knowledge.sounds import is_chinese, sounds_like, spoken
from knowledge.text import bigrams, normalize, parts_match, pattern_parts, substrings, variants
from knowledge.trees import Tree, parse_tree

LIST_TABLES = ("process", "materials", "time_limits", "notes", "legal_basis", "online_channels")
PHONE_LIKE = re.compile(r"\d{7,}")


class KnowledgeBaseError(Exception):
    """knowledge.db is missing or unusable."""


@dataclass(frozen=True)
class Source:
    document: str
    first_line: int
    last_line: int

    @property
    def citation(self) -> str:
        return f"{documents()[self.document].citation}第{self.first_line}–{self.last_line}行" \
            if self.first_line != self.last_line else f"{documents()[self.document].citation}第{self.first_line}行"


@dataclass
class Fact:
    """One sourced record: a material, a time limit, a step, a note, an office, a phone …"""
    text: str
    source: Source
    condition: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Region:
    id: str
    name: str
    level: str  # province | city | county
    province: str
    city: str | None
    document: str | None  # None: not covered by the documents
    unit: str | None
    typed: str = ""  # what the user typed

    @property
    def covered(self) -> bool:
        return self.document is not None

    @property
    def label(self) -> str:
        return self.name if self.level != "county" else f"{self.city}{self.name}"


@dataclass
class RegionResolution:
    region: Region | None
    alternatives: list[Region] = field(default_factory=list)  # when the name is ambiguous (高新区)
    start: int = -1  # where the name stands in the normalised text
    typed: str = ""


@dataclass
class ItemMatch:
    code: str
    name: str
    level: str  # main | sub
    matched: str  # the alias or words that matched
    score: float
    kind: str = "name"  # name (a name or alias), situation (described), entity (DIET's), text (ranked by its text)


@dataclass
class Passage:
    """One sentence of an item's own text that matches a question, with the item it is from."""
    text: str
    item_key: str
    item_name: str
    source: Source
    hits: int


@dataclass
class Unanswered:
    """A question the documents do not answer (card password, balance …), and what to say instead."""
    id: str
    refuse: bool
    statement: str
    nearest: list[str]
    answered_in: list[str]  # items of some documents that do answer it
    matched: str


# The document headings of the sections an answer reads by name (the importers keep each section under its heading).
SECTION_HEADINGS = {"channel": "办理渠道", "accepting_unit": "受理单位", "served": "服务对象", "steps": "办理环节",
                    "name": "事项名称"}
CONDITION_HEADING = "条件"  # in the heading of every section on conditions (申请条件, 享受条件)
# The kinds of phone a document lists: to consult, to complain (监督), and the hospitals that take an application.
CONSULT_PHONE_KINDS = ("查询", "办理")
SUPERVISION_PHONE_KIND = "监督"
HOSPITAL_PHONE_KIND = "医院"


@dataclass
class GuideEntry:
    """One entry of a guide (Guide.entries): everything one document says about one of its items, restricted to the
    region's office."""
    document: Document
    key: str
    code: str | None
    local_code: str | None
    row: int | None
    name: str
    source: Source
    sections: dict[str, Fact]
    process: list[Fact]
    materials: list[Fact]
    time_limits: list[Fact]
    notes: list[Fact]
    legal_basis: list[Fact]
    online_channels: list[Fact]
    forms: list[Fact]
    offices: list[Fact]
    phones: list[Fact]

    def section(self, field: str) -> Fact | None:
        """The section of SECTION_HEADINGS[field] (channel, accepting_unit, served, steps, name), if written."""
        return self.sections.get(SECTION_HEADINGS[field])

    def condition_sections(self) -> list[Fact]:
        return [fact for heading, fact in self.sections.items() if CONDITION_HEADING in heading]


@dataclass
class Conflict:
    id: str
    code: str
    aspect: str
    topic: str
    statements: list[Fact]
    hunan2025: Fact | None
    note: str | None


@dataclass
class Gap:
    id: str
    aspects: list[str]
    statement: str
    offer: list[str]
    evidence: list[Fact]


@dataclass
class Guide:
    code: str
    region: Region | None
    document: Document
    entries: list[GuideEntry]
    conflicts: list[Conflict]
    gaps: list[Gap]
    merged_note: Fact | None = None  # the 2025 list folds this item into the entries given (with its words)

    @property
    def absent(self) -> bool:
        """The serving document has no such item."""
        return not self.entries


class KnowledgeBase:
    def __init__(self, path: Path | str = DB_PATH):
        path = Path(path)
        if not path.exists():
            raise KnowledgeBaseError(f"{path} does not exist: run `python -m knowledge build` (or `make run`)")
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.connection.row_factory = sqlite3.Row
        self._entries_read: dict[tuple[str, str, str | None], tuple[str, tuple[GuideEntry, ...], Fact | None]] = {}
        try:
            tables = {row[0] for row in self.connection.execute("select name from sqlite_master")}
        except sqlite3.DatabaseError as error:
            raise KnowledgeBaseError(f"{path} is not a usable knowledge base: {error}") from error
        missing = {"items", "regions", "region_names", "catalogue", "aliases", "search", "situations",
                   "unanswered"} - tables
        if missing:
            raise KnowledgeBaseError(f"{path} lacks tables {sorted(missing)}: rebuild it")

    def _rows(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        return self.connection.execute(sql, params).fetchall()

    # Regions -------------------------------------------------------------------------------------------

    @cached_property
    def _regions(self) -> dict[str, Region]:
        return {row["id"]: Region(**dict(row)) for row in self._rows("select * from regions")}

    @cached_property
    def _region_name_order(self) -> dict[str, int]:
        return {name: place for place, name in enumerate(self._region_names)}

    @cached_property
    def _region_name_lengths(self) -> set[int]:
        return {len(name) for name in self._region_names}

    @cached_property
    def _region_names(self) -> dict[str, list[str]]:
        """normalised name → region ids, longest names first."""
        names: dict[str, list[str]] = {}
        for row in self._rows("select normalized, region_id from region_names"):
            names.setdefault(row["normalized"], []).append(row["region_id"])
        return dict(sorted(names.items(), key=lambda pair: -len(pair[0])))

    @cached_property
    def _region_names_by_last(self) -> dict[str, list[tuple[str, list[str]]]]:
        """The Chinese region names of two characters or more by their last character, longest first."""
        by_last: dict[str, list[tuple[str, list[str]]]] = {}
        for name, ids in self._region_names.items():
            if len(name) >= 2 and spoken(name):
                by_last.setdefault(name[-1], []).append((name, ids))
        return by_last

    def region(self, region_id: str) -> Region:
        return self._regions[region_id]

    def find_regions(self, text: str) -> list[RegionResolution]:
        """Every place named in a text, in order, longest names first (耒阳市 before 阳)."""
        haystack = normalize(text).lower()
        taken = [False] * len(haystack)
        found: list[tuple[int, str, list[str]]] = []
        named = substrings(haystack, self._region_name_lengths) & self._region_names.keys()
        for name in sorted(named, key=self._region_name_order.__getitem__):
            ids = self._region_names[name]
            start = haystack.find(name)
            while start != -1:
                if not any(taken[start : start + len(name)]):
                    taken[start : start + len(name)] = [True] * len(name)
                    found.append((start, name, ids))
                start = haystack.find(name, start + 1)
        for end, last in enumerate(haystack):  # 横阳, 隋州, 开富区: a name typed with homophones, its last character kept
            for name, ids in self._region_names_by_last.get(last, []):
                start = end - len(name) + 1
                if start >= 0 and not any(taken[start : end + 1]) and sounds_like(haystack[start : end + 1], name):
                    taken[start : end + 1] = [True] * len(name)
                    found.append((start, haystack[start : end + 1], ids))
        found.sort()
        cities = {self._regions[ids[0]].city for _, _, ids in found if len(ids) == 1}
        resolutions = []
        for start, name, ids in found:
            candidates = [self._regions[region_id] for region_id in ids]
            preferred = [region for region in candidates if region.city in cities] if len(ids) > 1 else candidates
            chosen = preferred[0] if len(preferred) == 1 else None
            if chosen is not None:
                chosen = Region(**{**chosen.__dict__, "typed": name})
            resolutions.append(RegionResolution(chosen, [] if chosen else candidates, start, name))
        return resolutions

    def resolve_region(self, text: str) -> RegionResolution:
        """The most specific place named in a text (a county over its city), or an empty resolution."""
        resolutions = self.find_regions(text)
        if not resolutions:
            return RegionResolution(None)
        levels = {"county": 0, "city": 1, "province": 2}
        return min(resolutions, key=lambda r: levels[r.region.level] if r.region else -1)

    # Items ---------------------------------------------------------------------------------------------

    @cached_property
    def _aliases(self) -> dict[str, set[str]]:
        aliases: dict[str, set[str]] = {}
        for row in self._rows("select alias, code from aliases"):
            aliases.setdefault(normalize(row["alias"]).lower(), set()).add(row["code"])
        return dict(sorted(aliases.items(), key=lambda pair: -len(pair[0])))

    HEARD_NAME_LENGTH = 8  # characters: longer names are typed in their shorter forms too, which are heard

    @cached_property
    def _names_one_open(self) -> dict[str, list[str]]:
        """Item names and aliases of three Chinese characters or more under each of their forms with one character
        left open (生育?贴, ?育津贴 …): where a name typed with one homophone is looked up."""
        forms: dict[str, list[str]] = {}
        for alias in self._aliases:
            if 3 <= len(alias) <= self.HEARD_NAME_LENGTH and spoken(alias):
                for at in range(len(alias)):
                    forms.setdefault(alias[:at] + "?" + alias[at + 1 :], []).append(alias)
        return forms

    @cached_property
    def _heard_name_starts(self) -> dict[int, tuple[set[str], set[str]]]:
        """For each length of those names, their first characters and their second ones: a window of a message
        that has neither where a name of its length has it cannot be that name with one character heard."""
        starts: dict[int, tuple[set[str], set[str]]] = {}
        for names in self._names_one_open.values():
            for name in names:
                firsts, seconds = starts.setdefault(len(name), (set(), set()))
                firsts.add(name[0])
                seconds.add(name[1])
        return starts

    def with_names_heard(self, text: str) -> str:
        """A message with the item names typed with one homophone written as the names (生育经贴 → 生育津贴,
        计化生育 → 计划生育): longest names first, never over a name typed right."""
        characters = list(text)
        fixed = [False] * len(text)
        for size in range(min(self.HEARD_NAME_LENGTH, len(text)), 2, -1):
            firsts, seconds = self._heard_name_starts.get(size, (set(), set()))
            for start in range(len(text) - size + 1):
                if characters[start] not in firsts and characters[start + 1] not in seconds:
                    continue
                window = "".join(characters[start : start + size])
                if any(fixed[start : start + size]) or window in self._aliases or not is_chinese(window):
                    continue
                heard = next((alias for at in range(size)
                              for alias in self._names_one_open.get(window[:at] + "?" + window[at + 1 :], [])
                              if sounds_like(window, alias)), None)
                if heard is not None:
                    characters[start : start + size] = list(heard)
                    fixed[start : start + size] = [True] * size
        return "".join(characters)

    def continues_another_name(self, text: str, match: ItemMatch) -> bool:
        """The alias matched is only the start of another item's longer name, typed on (职工参保 in 职工参保信息变根)."""
        start = text.find(match.matched.lower())
        longer = text[start : start + len(match.matched) + 2]
        return len(longer) > len(match.matched) and any(
            match.code not in codes for codes in self._aliases_by_start.get(longer, ()))

    @cached_property
    def _aliases_by_start(self) -> dict[str, list[set[str]]]:
        """Each start of two characters or more of an alias → the codes of every alias that starts so."""
        starts: dict[str, list[set[str]]] = {}
        for alias, codes in self._aliases.items():
            for end in range(2, len(alias) + 1):
                starts.setdefault(alias[:end], []).append(codes)
        return starts

    @cached_property
    def _names(self) -> set[str]:
        return {normalize(row["alias"]).lower() for row in self._rows(
            "select alias from aliases where kind in ('name', 'document')")}

    def is_item_name(self, text: str) -> bool:
        """`text` is an item's own name in the catalogue or a document (not an alias people use)."""
        return normalize(text).lower() in self._names

    @cached_property
    def catalogue(self) -> dict[str, sqlite3.Row]:
        return {row["code"]: row for row in self._rows("select * from catalogue")}

    def find_items(self, text: str, limit: int = 5, search: bool = True) -> list[ItemMatch]:
        """Items a free text is about: every name and alias in it (longest first), else (if `search`)
        full-text search."""
        haystack = normalize(text).lower()
        matches: dict[str, ItemMatch] = {}
        for alias, codes in self._aliases.items():
            if alias not in haystack:
                continue
            for code in codes:
                if code not in matches:
                    level = self.catalogue[code]["level"] if code in self.catalogue else "local"
                    matches[code] = ItemMatch(code, self.item_name(code), level, alias, float(len(alias)))
        if matches or not search:
            return sorted(matches.values(), key=lambda m: (-m.score, m.code))[:limit]
        return self.search(text, limit)

    @cached_property
    def _situations(self) -> list[tuple[str, tuple[str, ...], str]]:
        """(pattern, its parts, item code) of every situation: split once, matched against every message."""
        return [(row["pattern"], pattern_parts(row["pattern"]), row["code"])
                for row in self._rows("select pattern, code from situations")]

    def described_anywhere(self, key: str, text: str) -> bool:
        """One of the situations of item `key` is described in a message, its parts as far apart as the message
        allows (调到深圳上班了 … 账户里的钱 for 个人账户“异地转移”转出提现): for choosing among one item's entries.
        Patterns of one part name rather than describe, and do not count."""
        haystack = normalize(text).lower()
        return any(parts_match(haystack, parts, span=len(haystack)) for _, parts, code in self._situations
                   if code == key and len(parts) > 1)

    @cached_property
    def _situation_words(self) -> list[tuple[tuple[str, ...], ...]]:
        """Each situation's parts, each with its other wordings (same_words), in the order of `_situations`."""
        return [tuple(variants(part) for part in parts) for _, parts, _ in self._situations]

    @cached_property
    def _situations_by_first_word(self) -> dict[str, list[int]]:
        """Each way of saying a situation's first part → the situations (their places in `_situations`) it begins."""
        index: dict[str, list[int]] = {}
        for place, words_ in enumerate(self._situation_words):
            for variant in words_[0]:
                index.setdefault(variant, []).append(place)
        return index

    @cached_property
    def _situation_word_lengths(self) -> set[int]:
        return {len(variant) for words_ in self._situation_words for part in words_ for variant in part}

    def find_situations(self, text: str) -> list[ItemMatch]:
        """Items a message describes by a situation (公司+改名 → 单位参保信息变更登记), best covered first. Only
        the situations whose every part the message holds somewhere are matched part after part."""
        haystack = normalize(text).lower()
        present = substrings(haystack, self._situation_word_lengths)
        index = self._situations_by_first_word
        places = sorted({place for word in present & index.keys() for place in index[word]})
        best: dict[str, ItemMatch] = {}
        for place in places:
            if not all(any(variant in present for variant in part) for part in self._situation_words[place][1:]):
                continue
            pattern, parts, code = self._situations[place]
            covered = parts_match(haystack, parts)
            if covered and (code not in best or covered > best[code].score):
                level = self.catalogue[code]["level"] if code in self.catalogue else "local"
                best[code] = ItemMatch(code, self.item_name(code), level, pattern.replace("+", ""), float(covered),
                                       "situation")
        return sorted(best.values(), key=lambda m: (-m.score, m.code))

    @cached_property
    def _unanswered(self) -> list[tuple[list[tuple[str, tuple[str, ...]]], sqlite3.Row]]:
        rows = self._rows("select * from unanswered order by refuse desc, id")
        return [([(pattern, pattern_parts(pattern)) for pattern in json.loads(row["patterns"])], row) for row in rows]

    def unanswered(self, text: str) -> Unanswered | None:
        """The topic the documents do not answer that a message asks about (refusals first), if any."""
        haystack = normalize(text).lower()
        for patterns, row in self._unanswered:
            hits = [pattern for pattern, parts in patterns if parts_match(haystack, parts)]
            if hits:
                return Unanswered(row["id"], bool(row["refuse"]), row["statement"], json.loads(row["nearest"]),
                                  json.loads(row["answered_in"]), hits[0])
        return None

    def search(self, text: str, limit: int = 5, names_only: bool = False) -> list[ItemMatch]:
        """Full-text search (FTS5 over character bigrams of names, aliases and materials), best codes first."""
        grams = sorted(gram for gram in set(bigrams(text).split()) if gram.isprintable())
        if not grams:
            return []
        query = " OR ".join('"' + gram.replace('"', '""') + '"' for gram in grams)
        if names_only:
            query = f"{{name aliases}} : ({query})"
        rows = self._rows(
            "select items.code, items.parent_code, bm25(search_fts, 3.0, 2.0, 1.0, 1.0, 1.0) as rank "
            "from search_fts join search on search.rowid = search_fts.rowid "
            "join items on items.id = search.item_id where search_fts match ? order by rank limit 50", query)
        best: dict[str, ItemMatch] = {}
        for row in rows:
            code = row["code"] or row["parent_code"]
            if code not in best and code in self.catalogue:
                entry = self.catalogue[code]
                best[code] = ItemMatch(code, entry["name"], entry["level"], text, -row["rank"])
        return list(best.values())[:limit]

    def _ranked_rows(self, grams: list[str], document: str | None) -> list[sqlite3.Row]:
        """FTS5 BM25 over names, aliases, situations, whom the item serves and materials, best first."""
        grams = sorted(gram for gram in set(grams) if gram.isprintable() and len(gram) == 2)
        if not grams:
            return []
        query = " OR ".join('"' + gram.replace('"', '""') + '"' for gram in grams)
        return self._rows(
            "select items.key, items.code, items.local_code, "
            "-bm25(search_fts, 3.0, 2.0, 3.0, 1.0, 0.3) as score from search_fts "
            "join search on search.rowid = search_fts.rowid join items on items.id = search.item_id "
            "where search_fts match ? and (? is null or items.document = ?) order by score desc limit 60",
            query, document, document)

    def rank_items(self, grams: list[str], document: str | None = None, limit: int = 4) -> list[ItemMatch]:
        """Items of a document (any, if None) whose own text best matches a message's content bigrams, best
        first, one per item code (or local key)."""
        best: dict[str, ItemMatch] = {}
        for row in self._ranked_rows(grams, document):
            value = row["local_code"] or row["code"] or row["key"]
            if value not in best:
                level = self.catalogue[value]["level"] if value in self.catalogue else "local"
                best[value] = ItemMatch(value, self.item_name(value), level, " ".join(grams), row["score"], "text")
        return list(best.values())[:limit]

    def passages(self, document: str, grams: list[str], keys: list[str] | None = None,
                 least_hits: int = 2, limit: int = 3) -> list[Passage]:
        """The sentences of a document's items (only `keys`, if given) that best match the bigrams (FTS5 BM25),
        each sharing at least `least_hits` of them, best first."""
        wanted = {gram for gram in grams if gram.isprintable() and len(gram) == 2}
        if not wanted:
            return []
        query = " OR ".join('"' + gram.replace('"', '""') + '"' for gram in sorted(wanted))
        marks = ",".join("?" * len(keys or []))
        only = f"and items.key in ({marks})" if keys else ""
        rows = self._rows(
            "select passages.text, passages.first_line, passages.last_line, passages.grams, items.key, items.name "
            "from passages_fts join passages on passages.rowid = passages_fts.rowid "
            f"join items on items.id = passages.item_id where passages_fts match ? and items.document = ? {only} "
            "order by bm25(passages_fts) limit 40", query, document, *(keys or []))
        found: list[Passage] = []
        for row in rows:
            hits = len(wanted & set(row["grams"].split()))
            if hits >= least_hits and all(passage.text != row["text"] for passage in found):
                found.append(Passage(row["text"], row["key"], row["name"],
                                     Source(document, row["first_line"], row["last_line"]), hits))
        return found[:limit]

    def rank_entries(self, grams: list[str], document: str, keys: list[str]) -> dict[str, float]:
        """The text-match score of each of a document's item keys (0 where nothing matches)."""
        scores = {row["key"]: row["score"] for row in self._ranked_rows(grams, document)}
        return {key: scores.get(key, 0.0) for key in keys}

    # Guides --------------------------------------------------------------------------------------------

    def _facts(self, table: str, item_ids: list[str], text_column: str = "text",
               unit: str | None = None) -> dict[str, list[Fact]]:
        """The records of one table for several items (restricted to one office unit), by item id."""
        facts: dict[str, list[Fact]] = {item_id: [] for item_id in item_ids}
        if not self._has_table(table):
            return facts
        marks = ",".join("?" * len(item_ids))
        sql = f"select * from {table} where item_id in ({marks})"
        params: list[Any] = list(item_ids)
        if unit:
            sql += " and (unit = ? or unit is null)"
            params.append(unit)
        for row in self._rows(sql + " order by item_id, seq", *params):
            row = dict(row)
            item_id = row.pop("item_id")
            source = Source(item_id.split(":", 1)[0], row.pop("first_line"), row.pop("last_line"))
            text = row.pop(text_column)
            condition = row.pop("condition", None)
            row.pop("seq")
            facts[item_id].append(Fact(text, source, condition, row))
        return facts

    def _guide_entries(self, items: list[sqlite3.Row], unit: str | None) -> list[GuideEntry]:
        ids = [item["id"] for item in items]
        lists = {name: self._facts(name, ids) for name in LIST_TABLES}
        forms = self._facts("forms", ids, "name")
        for item_id, notes in self._facts("form_notes", ids).items():
            for note in notes:
                forms[item_id][note.extra["form_seq"]].extra.setdefault("notes", []).append(note)
        offices = self._facts("offices", ids, "address", unit)
        phones = self._facts("phones", ids, "number", unit)
        sections: dict[str, dict[str, Fact]] = {item_id: {} for item_id in ids}
        marks = ",".join("?" * len(ids))
        for row in self._rows(f"select * from sections where item_id in ({marks})", *ids):
            sections[row["item_id"]][row["name"]] = Fact(
                row["text"], Source(row["item_id"].split(":", 1)[0], row["first_line"], row["last_line"]))
        return [
            GuideEntry(document=documents()[item["document"]], key=item["key"], code=item["code"],
                       local_code=item["local_code"], row=item["row"], name=item["name"],
                       source=Source(item["document"], item["first_line"], item["last_line"]),
                       sections=sections[item["id"]], forms=forms[item["id"]], offices=offices[item["id"]],
                       phones=phones[item["id"]], **{name: facts[item["id"]] for name, facts in lists.items()})
            for item in items]

    @cached_property
    def _tables(self) -> set[str]:
        return {row[0] for row in self._rows("select name from sqlite_master where type = 'table'")}

    def _has_table(self, name: str) -> bool:
        return name in self._tables

    def _items_for(self, item: str, document: str) -> list[sqlite3.Row]:
        """A document's entries for a key (002036002003-2, 0731-1, 002036001002#3), a code or a 主项 code."""
        rows = self._rows("select * from items where document = ? and (key = ? or local_code = ?)",
                          document, item, item) if "-" in item or "#" in item else []
        if not rows:
            rows = self._rows("select * from items where document = ? and code = ? order by row, key", document, item)
        if not rows:
            rows = self._rows("select * from items where document = ? and parent_code = ? order by row, key",
                              document, item)
        return rows

    def answered_as(self, item: str, document: str) -> str | None:
        """The item `document` answers when asked for `item`: the item itself, the national item a 长沙 key refines
        (002036002003-2 in 衡阳's guide is 002036002003), the one the 2025 list folds it into, or None where the
        document does not list it (长沙's own 0731-1 in 衡阳's guide)."""
        for candidate in dict.fromkeys((item, catalogue_code(item))):
            if self._items_for(candidate, document):
                return candidate
        merged = self.merged_into(catalogue_code(item), document)
        return merged[0] if merged else None

    def merged_into(self, code: str, document: str) -> tuple[str, Fact] | None:
        """Where `document` folds an item it does not list into another (the 2025 list), with the evidence."""
        entry = self.catalogue.get(code)
        merged = json.loads(entry["hunan2025_merged_into"]) if entry is not None else None
        if document != provincial_list().id or not merged:
            return None
        return merged["merged_into"], Fact(merged["evidence"], Source(provincial_list().id, *merged["lines"]))

    def cues(self, code: str) -> list[str]:
        """Words that point to this 子项 when only its 主项 is named (items.yml `cues`)."""
        entry = self.catalogue.get(code)
        return json.loads(entry["cues"]) if entry is not None else []

    def has_item_key(self, key: str) -> bool:
        """A document's own item key or local code (0731-1, 002036002003-2, 002036001002#3)."""
        return bool(self._rows("select 1 from items where key = ? or local_code = ? limit 1", key, key))

    def home_region(self, key: str) -> Region | None:
        """The city whose guide alone has this item, one without a national code (长沙's 0731-1): asking for it
        names the city. None for an item with a national code, which other regions have in their own form."""
        rows = self._rows("select document, code from items where key = ? or local_code = ?", key, key)
        if not rows or any(row["code"] for row in rows):
            return None
        documents = {row["document"] for row in rows}
        if len(documents) != 1:
            return None
        cities = [r for r in self._regions.values() if r.level == "city" and r.document in documents]
        return cities[0] if len(cities) == 1 else None

    def item_name(self, code: str) -> str:
        """The catalogue name of a code, or a document's name for a local code."""
        if code in self.catalogue:
            return self.catalogue[code]["name"]
        rows = self._rows("select name from items where key = ? or local_code = ? limit 1", code, code)
        return rows[0]["name"] if rows else code

    def resolve_item(self, item: str) -> str:
        """A code, local key (0731-1, 002036002003-2) or name/alias → the code or key to look up."""
        if self._rows("select 1 from items where key = ? or code = ? or parent_code = ? limit 1", item, item, item):
            return item
        matches = self.find_items(item, limit=1)
        if not matches:
            raise KeyError(f"no item matches {item!r}")
        return matches[0].code

    def guide(self, item: str, region: str | Region | None = None, document: str | None = None) -> Guide:
        """Every field the serving document gives `item` for `region`, with sources, conflicts and gaps."""
        if isinstance(region, str):
            resolution = self.resolve_region(region)
            if resolution.region is None:
                raise KeyError(f"unknown or ambiguous region {region!r}")
            region = resolution.region
        document = document or (region.document if region else None)
        if document is None:
            raise ValueError("a covered region or a document is needed")
        code, entries, merged = self._entries(self.resolve_item(item), document, region.unit if region else None)
        return Guide(code=code, region=region, document=documents()[document], entries=list(entries),
                     conflicts=self.conflicts(code, document), gaps=self.gaps(code, document), merged_note=merged)

    def _entries(self, item: str, document: str, unit: str | None) -> tuple[str, tuple[GuideEntry, ...], Fact | None]:
        """The code, the entries (offices and phones of `unit`) and the 2025 list's merge note of a guide: read
        once for each item, document and unit (the knowledge base does not change while it is open)."""
        key = (item, document, unit)
        if key not in self._entries_read:
            rows = self._items_for(item, document)
            merged = None if rows else self.merged_into(item, document)
            if merged:
                rows = self._items_for(merged[0], document)
            codes = {row["code"] for row in rows}
            code = rows[0]["code"] if len(codes) == 1 and rows[0]["code"] and not merged else item
            entries = tuple(self._guide_entries(rows, unit)) if rows else ()
            self._entries_read[key] = (code, entries, merged[1] if merged else None)
        return self._entries_read[key]

    @cached_property
    def _conflicts(self) -> list[tuple[set[str], Conflict]]:
        """Every recorded conflict with the documents it concerns (a small table, read once)."""
        found = []
        for row in self._rows("select * from conflicts order by id") if self._has_table("conflicts") else []:
            statements = [Fact(s["text"], Source(s["document"], *s["lines"])) for s in json.loads(row["statements"])]
            hunan2025 = None
            if row["hunan2025_text"]:
                hunan2025 = Fact(row["hunan2025_text"],
                                 Source(provincial_list().id, row["hunan2025_first_line"], row["hunan2025_last_line"]))
            found.append((set(json.loads(row["documents"])),
                          Conflict(row["id"], row["code"], row["aspect"], row["topic"], statements, hunan2025,
                                   row["note"])))
        return found

    @cached_property
    def _gaps(self) -> list[tuple[set[str], list[str] | str, Gap]]:
        """Every recorded gap with its documents and codes (a small table, read once)."""
        found = []
        for row in self._rows("select * from gaps order by id") if self._has_table("gaps") else []:
            evidence = [Fact(e["text"], Source(e["document"], *e["lines"])) for e in json.loads(row["evidence"])]
            found.append((set(json.loads(row["documents"])), json.loads(row["codes"]),
                          Gap(row["id"], json.loads(row["aspects"]), row["statement"], json.loads(row["offer"]),
                              evidence)))
        return found

    def conflicts(self, code: str, document: str) -> list[Conflict]:
        """Where `document` (a city guide) disagrees with the Hunan 2025 list about `code`."""
        return [conflict for documents_, conflict in self._conflicts
                if conflict.code == code and document in documents_]

    def gaps(self, code: str | None, document: str) -> list[Gap]:
        """What `document` is known not to say about `code` (or about everything)."""
        parent = main_of(code or "")
        return [gap for documents_, codes, gap in self._gaps
                if document in documents_ and (codes == "all" or code in codes or parent in codes)]

    def unit_phones(self, document: str, unit: str) -> dict[str, list[str]]:
        """An office's phone numbers over all items of a document, by kind, the most used first."""
        rows = self._rows(
            "select phones.kind, phones.number, count(*) as uses from phones join items on items.id = item_id "
            "where items.document = ? and (phones.unit = ? or phones.unit is null) and phones.kind != '医院' "
            "group by 1, 2 order by uses desc", document, unit) if self._has_table("phones") else []
        phones: dict[str, list[str]] = {}
        for row in rows:
            phones.setdefault(row["kind"], []).append(row["number"])
        return phones

    def phone_numbers(self) -> list[str]:
        """Every phone number the documents publish (offices, supervision, hospitals), each once."""
        if not self._has_table("phones"):
            return []
        return [row[0] for row in self._rows("select distinct number from phones order by number")]

    @cached_property
    def trees(self) -> dict[str, Tree]:
        """The eligibility trees (data/eligibility.yml) by id."""
        if not self._has_table("eligibility_trees"):
            return {}
        return {row["id"]: parse_tree(json.loads(row["spec"])) for row in self._rows("select * from eligibility_trees")}

    def general_notes(self, document: str) -> list[Fact]:
        if not self._has_table("general_notes"):
            return []
        return [Fact(row["text"], Source(document, row["first_line"], row["last_line"]))
                for row in self._rows("select * from general_notes where document = ? order by seq", document)]

    # Statistics ----------------------------------------------------------------------------------------

    def stats(self) -> dict[str, dict[str, int]]:
        """Per document: items, materials, time limits, forms, offices (with an address), phones, conflicts, gaps."""
        result = {}
        conflicts = [json.loads(row["documents"]) for row in self._rows("select documents from conflicts")]
        gaps = [json.loads(row["documents"]) for row in self._rows("select documents from gaps")]
        for document in documents():
            def count(sql: str) -> int:
                return self._rows(sql, document)[0][0]
            result[document] = {
                "items": count("select count(*) from items where document = ?"),
                "materials": count("select count(*) from materials join items on items.id = item_id "
                                   "where items.document = ?"),
                "time_limits": count("select count(*) from time_limits join items on items.id = item_id "
                                     "where items.document = ?"),
                "forms": count("select count(distinct forms.name) from forms join items on items.id = item_id "
                               "where items.document = ?") if self._has_table("forms") else 0,
                "offices": count("select count(distinct unit) from offices join items on items.id = item_id "
                                 "where items.document = ?") if self._has_table("offices") else 0,
                "phones": count("select count(distinct number) from phones join items on items.id = item_id "
                                "where items.document = ?") if self._has_table("phones") else 0,
                "conflicts": sum(document in docs for docs in conflicts),
                "gaps": sum(document in docs for docs in gaps),
            }
        return result


@lru_cache(maxsize=1)
def open_knowledge_base() -> KnowledgeBase:
    """The knowledge base at DB_PATH (KNOWLEDGE_DB), opened once per process; raises KnowledgeBaseError if it
    cannot be opened."""
    return KnowledgeBase(DB_PATH)
