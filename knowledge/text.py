"""Reading the source documents and normalising their text for comparison."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from knowledge.paths import SOURCES_DIR
from knowledge.words import negated, words

_AUTOLINK = re.compile(r"<((?:https?://|www\.)[^<>\s]+)>")  # 长沙: (<http://www.cs12333.com>) keeps the URL
_MARKUP = re.compile(
    r"\[bookmark: [^\]]*\]"  # Word bookmarks (郴州)
    r"|<[^<>\n]{1,200}>"  # HTML tags (长沙)
    r"|\*\*"  # Markdown bold
    r"|^[ \t]*- ",  # Markdown bullets at the start of a line (长沙, 湖北)
    re.MULTILINE,
)
_DASHES = re.compile(r"[‐‑‒–—―－]+|-{2,}")
_SPACE = re.compile(r"\s+")


def strip_markup(text: str) -> str:
    """Remove extraction markup (bookmarks, HTML tags, Markdown bold) but keep the words."""
    return _MARKUP.sub("", _AUTOLINK.sub(r"\1", text))


def normalize(text: str) -> str:
    """The comparison form of a text: NFKC, no markup, no whitespace, one kind of dash."""
    text = unicodedata.normalize("NFKC", strip_markup(text))
    text = _DASHES.sub("-", text)
    return _SPACE.sub("", text)


def bigrams(text: str) -> str:
    """The full-text form of a text: its character bigrams (and single characters of one-character words)."""
    words = [word for word in normalize(text).replace("、", " ").split(" ") if word]
    grams = [word[i : i + 2] for word in words for i in range(max(1, len(word) - 1))]
    return " ".join(grams)


def occurrences(text: str, word: str) -> list[int]:
    """Where `word` starts in `text`, every time."""
    starts, start = [], text.find(word)
    while start != -1:
        starts.append(start)
        start = text.find(word, start + 1)
    return starts


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


class SourceText:
    """One source document as 1-based lines."""

    def __init__(self, path: Path):
        self.path = path
        self.lines: list[str] = path.read_text(encoding="utf-8").split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()

    def __len__(self) -> int:
        return len(self.lines)

    def line(self, number: int) -> str:
        return self.lines[number - 1]

    def span(self, first: int, last: int) -> str:
        """Lines first..last (inclusive, 1-based) joined with newlines."""
        if not 1 <= first <= last <= len(self.lines):
            raise IndexError(f"{self.path.name}: lines {first}-{last} outside 1-{len(self.lines)}")
        return "\n".join(self.lines[first - 1 : last])

    def normalized_span(self, first: int, last: int) -> str:
        return normalize(self.span(first, last))


@lru_cache(maxsize=None)
def load_source(file_name: str) -> SourceText:
    return SourceText(SOURCES_DIR / file_name)


PATTERN_SPAN = 14  # characters: each part of an "A+B" pattern stands within this many after the part before it


def variants(part: str) -> tuple[str, ...]:
    """A pattern part and the other ways of saying it (words.yml same_words: 垫 → 垫付, 自己掏 …)."""
    return (part, *words().same_words.get(part, ()))


def _first_after(text: str, part: str, start: int, end: int) -> tuple[int, int]:
    """The first place from `start` (and before `end`, if given) where the part or a variant of it stands, and the
    variant's length; (-1, 0) if none does."""
    found = [(at, len(variant)) for variant in variants(part)
             for at in [text.find(variant, start, end + len(variant)) if end >= 0 else text.find(variant, start)]
             if at != -1]
    return min(found) if found else (-1, 0)


def substrings(text: str, lengths: set[int]) -> set[str]:
    """Every piece of `text` of one of these lengths: looked up in an index of words instead of finding every
    word of the index in the text."""
    return {text[start:start + length] for length in lengths for start in range(len(text) - length + 1)}


def pattern_parts(pattern: str) -> tuple[str, ...]:
    """The parts of an "A+B" pattern, as `parts_match` takes them."""
    return tuple(part.lower() for part in pattern.split("+"))


def pattern_match(text: str, pattern: str) -> int:
    """How many characters of `text` an "A+B" pattern (parts in order, each near the last, each as written or as
    one of its same_words) covers, counted as written; 0 if it does not match, or if its first part is negated
    (没有上环); a later part may be (小孩还没上医保)."""
    return parts_match(text, pattern_parts(pattern))


def parts_match(text: str, parts: tuple[str, ...], span: int = PATTERN_SPAN) -> int:
    """`pattern_match` with the pattern already split (`pattern_parts`): what a caller that matches the same
    patterns against every message keeps; `span` is how far after the part before it each part may stand."""
    start, length = _first_after(text, parts[0], 0, -1)
    while start != -1:
        if not negated(text, start):
            position, matched = start + length, True
            for part in parts[1:]:
                found, found_length = _first_after(text, part, position, position + span)
                if found == -1:
                    matched = False
                    break
                position = found + found_length
            if matched:
                return sum(len(part) for part in parts) + len(parts) - 1
        start, length = _first_after(text, parts[0], start + 1, -1)
    return 0
