"""Length-preserving normalisation of what people type: full-width → half-width, traditional → simplified."""
from __future__ import annotations

import unicodedata
from functools import lru_cache

from opencc import OpenCC

_TO_SIMPLIFIED = OpenCC("t2s")


@lru_cache(maxsize=65536)
def normalize_char(char: str) -> str:
    """One character in its normal form; characters whose normal form is not one character stay as they are."""
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) != 1:
        folded = char
    simplified = _TO_SIMPLIFIED.convert(folded)
    return simplified if len(simplified) == 1 else folded


def normalize_text(text: str) -> str:
    """Normalise every character, keeping offsets: entity spans stay valid (full-width spaces become spaces)."""
    return "".join(normalize_char(char) for char in text)
