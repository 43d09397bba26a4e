"""Words that sound alike: a name typed with a homophone (横阳 for 衡阳, 开富区 for 开福区, 生育经贴 for 生育津贴).

Readings are pypinyin's, without tones: a name's as read in its own context (长沙: chang sha), a typed character's its
most common one; both loosened by the sounds many speakers in Hunan and Hubei do not tell apart (words.yml `sounds_alike`: jin/jing, zhi/zi, nan/lan …).
"""
from __future__ import annotations

from functools import lru_cache

from pypinyin import lazy_pinyin

from knowledge.words import words


def _loosened(reading: str) -> str:
    """A reading with the sounds people confuse made one (jing → jin, zhou → zou, lan → nan)."""
    for heard, written in words().sounds_alike["initials"].items():
        if reading.startswith(heard):
            reading = written + reading[len(heard):]
            break
    for heard, written in words().sounds_alike["finals"].items():
        if reading.endswith(heard):
            return reading[: -len(heard)] + written
    return reading


def is_chinese(text: str) -> bool:
    return bool(text) and all("\u4e00" <= character <= "\u9fff" for character in text)


@lru_cache(maxsize=8192)
def _heard(character: str) -> str:
    """How a character typed on its own is read: its most common reading, loosened."""
    return _loosened(lazy_pinyin(character)[0])


@lru_cache(maxsize=4096)
def spoken(name: str) -> tuple[str, ...]:
    """How a name is read, each character in the name's own context (长沙: chang sha), loosened; empty for a name
    that is not all Chinese."""
    return tuple(_loosened(reading) for reading in lazy_pinyin(name)) if is_chinese(name) else ()


def sounds_like(typed: str, name: str) -> bool:
    """`typed` is `name` written with homophones: the same length, other characters, each read as the name's."""
    said = spoken(name)
    return len(typed) == len(said) and typed != name and is_chinese(typed) and all(
        a == b or _heard(a) == reading for a, b, reading in zip(typed, name, said))
