"""The structure of the national item codes: a 主项 code is its family's nine digits and 00Y (00203600400Y); its
子项 codes (002036004001), and 长沙's local keys under them (002036004001-1), start with the same nine digits;
长沙's items without a national code have keys of their own (0731-3)."""
from __future__ import annotations

FAMILY_DIGITS = 9
MAIN_SUFFIX = "00Y"
LOCAL_SEPARATOR = "-"


def is_main(code: str) -> bool:
    """A 主项 code (…00Y), not a 子项 code or a local key."""
    return code.endswith("Y")


def main_of(code: str) -> str:
    """The 主项 code of a code's family (002036004001 → 00203600400Y)."""
    return code[:FAMILY_DIGITS] + MAIN_SUFFIX


def same_family(code: str, other: str) -> bool:
    """Both codes are of the same 主项 (the same first nine digits)."""
    return code[:FAMILY_DIGITS] == other[:FAMILY_DIGITS]


def catalogue_code(key: str) -> str:
    """The national code a local key refines (002036002003-1 → 002036002003); a national code is its own."""
    return key.split(LOCAL_SEPARATOR)[0]


def parent_of(code: str) -> str:
    """The code one level up: a local key's national 子项, a 子项's 主项 (a 主项 is its own parent)."""
    return catalogue_code(code) if LOCAL_SEPARATOR in code else main_of(code)
