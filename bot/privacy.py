"""Masking of personal data in what users type: ID-card numbers (身份证号) and phone numbers.

Every channel (REST, WeChat) masks a message before Rasa sees it, so the tracker store, the NLU, the action
server and every log line only ever hold the masked text; `MaskingFilter` masks log records as well.

What is masked (see README, "Privacy and data kept"):
- 身份证号: 18 digits (the last may be X) and the old 15 digits, with a plausible birth date; spaces or hyphens
  between the groups are allowed; full-width digits too.
- mobile numbers: 1[3-9] + 9 digits, optionally +86 / 86 before and spaces or hyphens inside.
- landline numbers with an area code: 0734-4269955, (0731)84907806, 027 88886666.
- a bare 7–8 digit number right after a phone word (电话, 座机, 手机, 号码, 联系方式, tel): 我的电话是84907806.
  The words are privacy.phone_words of knowledge/data/texts.yml.
Not masked: the knowledge base's own published numbers (an office's or hospital's phone, typed to ask about it),
item codes, dates, amounts and other numbers.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from knowledge.bot_texts import choices, say

# Neutral words: no aspect word such as 电话 or 证件 that would change the answer.
PLACEHOLDER = say("privacy.placeholder")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ－　（）＋", "0123456789Xx- ()+")
_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_SEP = r"[ -]?"
_PHONE_WORDS = "|".join(re.escape(word) for word in choices("privacy.phone_words"))
PATTERNS = [
    re.compile(rf"(?<![\dA-Za-z])[1-9]\d{{5}}{_SEP}(?:18|19|20)\d{{2}}{_DATE}{_SEP}\d{{3}}[\dXx](?![\dA-Za-z])"),
    re.compile(rf"(?<![\dA-Za-z])[1-9]\d{{5}}{_SEP}\d{{2}}{_DATE}{_SEP}\d{{3}}(?![\dA-Za-z])"),
    re.compile(r"(?<![\d+])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)"),
    re.compile(r"(?<!\d)(?:\(0[1-9]\d{1,2}\)|0[1-9]\d{1,2})[ -]?[2-9]\d{6,7}(?:-\d{1,4})?(?!\d)"),
    re.compile(rf"(?:{_PHONE_WORDS})[^\d\n]{{0,5}}?(?<!\d)([2-9]\d{{6,7}})(?!\d)"),
]


def digits(text: str) -> str:
    return re.sub(r"\D", "", text.translate(_FULL_WIDTH))


def published_numbers(numbers: Iterable[str]) -> frozenset[str]:
    """The digits of published phone numbers, with and without their area code (0734-4269955 → 07344269955,
    4269955), to be left unmasked."""
    known: set[str] = set()
    for number in numbers:
        number_digits = digits(number)
        if not number_digits:
            continue
        known.add(number_digits)
        if number_digits.startswith("0") and len(number_digits) >= 10:
            known.add(number_digits[3:] if number_digits[1] in "12" else number_digits[4:])
    return frozenset(known)


class Masker:
    """Replaces ID-card and phone numbers in a text by PLACEHOLDER, except the published numbers given."""

    def __init__(self, published: Iterable[str] = ()) -> None:
        self.published = published_numbers(published)

    def _is_published(self, matched: str) -> bool:
        number = digits(matched)
        if number in self.published:
            return True
        if number.startswith("86") and len(number) == 13 and number[2:] in self.published:
            return True
        if number.startswith("0"):
            local = number[3:] if number[1:2] in ("1", "2") else number[4:]
            return local in self.published
        return False

    def mask(self, text: str) -> str:
        if not text:
            return text
        # Match on a copy with full-width digits made half-width: one character for one, so the spans agree.
        probe = text.translate(_FULL_WIDTH)
        spans: list[tuple[int, int]] = []
        for pattern in PATTERNS:
            for match in pattern.finditer(probe):
                start, end = match.span(match.lastindex or 0)
                if any(start < taken_end and taken_start < end for taken_start, taken_end in spans):
                    continue
                if self._is_published(probe[start:end]):
                    continue
                spans.append((start, end))
        for start, end in sorted(spans, reverse=True):
            text = text[:start] + PLACEHOLDER + text[end:]
        return text


class MaskingFilter(logging.Filter):
    """Masks personal data in a log record's message and traceback before any handler writes it."""

    def __init__(self, masker: Masker) -> None:
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format: leave it to the handler's own error path
            return True
        record.msg, record.args = self.masker.mask(message), None
        if record.exc_info:
            record.exc_text = self.masker.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_log_masking(masker: Masker) -> None:
    """Add a MaskingFilter to every handler configured so far (root and named loggers), once each."""
    loggers = [logging.getLogger()] + [logger for logger in logging.Logger.manager.loggerDict.values()
                                       if isinstance(logger, logging.Logger)]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(existing, MaskingFilter) for existing in handler.filters):
                handler.addFilter(MaskingFilter(masker))
