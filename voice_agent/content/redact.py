"""Personal data out of logged questions, before anything is stored.

Replaced: e-mail addresses -> [email]; IBANs and passport-like tokens (letters and digits
mixed, 6 or more) -> [id]; runs of 6 or more digits (spaces, dashes or dots between them
allowed) -> [number], unless the run is one of the FAQ's own public phone numbers (808 24 24
24 is a question about the SNS 24 line, not personal data). Any Unicode digit counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from voice_agent.content.faq import FaqEntry
from voice_agent.language.textfacts import extract_facts, normalize_phone, to_ascii_digits

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{4}){2,7}(?:[ ]?[A-Za-z0-9]{1,4})?\b")
ID_TOKEN = re.compile(r"\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{6,}\b")
DIGIT_RUN = re.compile(r"(?<![\w+])(?:\+|00)?\d(?:[ \u00a0\-.]?\d){5,}(?!\w)")
MIN_IBAN_DIGITS = 10


def public_numbers(entries: Iterable[FaqEntry]) -> frozenset[str]:
    """The phone numbers the FAQ itself gives (normalised digits)."""
    out: set[str] = set()
    for e in entries:
        for loc in e.languages.values():
            out |= extract_facts(loc.answer).phones
    return frozenset(out)


class Redactor:
    def __init__(self, public: frozenset[str] = frozenset()) -> None:
        self.public = public

    def update(self, entries: Iterable[FaqEntry]) -> None:
        self.public = public_numbers(entries)

    def _number(self, m: re.Match[str]) -> str:
        raw = to_ascii_digits(m.group())
        digits = "".join(ch for ch in raw if ch.isdigit())
        international = raw.startswith(("+", "00"))
        if normalize_phone(digits, international) in self.public or digits in self.public:
            return m.group()
        return "[number]"

    @staticmethod
    def _iban(m: re.Match[str]) -> str:
        digits = sum(ch.isdigit() for ch in m.group())
        return "[id]" if digits >= MIN_IBAN_DIGITS else m.group()

    def redact(self, text: str) -> str:
        text = EMAIL.sub("[email]", text)
        text = IBAN.sub(self._iban, text)
        text = ID_TOKEN.sub("[id]", text)
        return DIGIT_RUN.sub(self._number, text)
