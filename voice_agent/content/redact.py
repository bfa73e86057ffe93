"""Personal data out of citizens' words, before anything is stored (inbox, console log).

Replaced, in every script the product supports (any Unicode digits: Arabic-Indic, Persian,
Devanagari, Bengali, Gurmukhi, Gujarati, full-width; no spaces needed around them, as in
Chinese):
- e-mail addresses, also dictated ("maria at gmail dot com", "arroba", "собака") -> [email];
- IBANs (PT50 0002 ...) and passport / residence-card style tokens (letters and digits mixed,
  6 or more, Latin or Cyrillic letters) -> [id];
- runs of 6 or more digits, with spaces, dashes, dots, slashes or brackets between them (NIF,
  NISS, SNS user number, phone numbers, +351 ..., dates of birth) -> [number], unless the run
  is one of the FAQ's own public phone numbers (808 24 24 24: a question about the SNS 24 line);
- 6 or more Chinese numerals in a row (一二三四五六...) -> [number].
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from voice_agent.content.faq import FaqEntry
from voice_agent.language.textfacts import extract_facts, normalize_phone, to_ascii_digits

LETTER = "A-Za-z\u00c0-\u024f\u0400-\u04ff"  # letters of IDs: Latin (with accents), Cyrillic
W = rf"[{LETTER}\d_-]"  # a character of an address (not CJK: those texts have no spaces)
EMAIL = re.compile(rf"[{LETTER}\d_.%+-]+\s?[@\uff20]\s?{W}+(?:\s?[.\uff0e]\s?{W}+)+")
AT_WORDS = r"at|arroba|arobase|chiocciola|klammeraffe|собака"
DOT_WORDS = r"dot|ponto|punto|point|punkt|точка|крапка"
SPOKEN_EMAIL = re.compile(
    rf"(?:{W}+\s+(?:{DOT_WORDS})\s+)*\b[\w.-]+\s+(?:{AT_WORDS})\s+{W}+"
    rf"(?:\s+(?:{DOT_WORDS})\s+{W}+)+",
    re.IGNORECASE,
)
IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{4}){2,7}(?:[ ]?[A-Za-z0-9]{1,4})?"
)
ID_TOKEN = re.compile(
    rf"(?<![{LETTER}\d])(?=[{LETTER}\d]*\d)(?=[{LETTER}\d]*[{LETTER}])[{LETTER}\d]{{6,}}"
    rf"(?![{LETTER}\d])"
)
DIGIT_RUN = re.compile(r"(?<![\d+])(?:\+|00)?\(?\d(?:[ \u00a0\-./()]{0,2}\d){5,}(?!\d)")
CHINESE_NUMERALS = re.compile(r"[〇零一二三四五六七八九两幺壹贰叁肆伍陆柒捌玖]{6,}")
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
        self._phones: dict[str, frozenset[str]] = {}  # answer text -> its phone numbers

    def update(self, entries: Iterable[FaqEntry]) -> None:
        """The public numbers of these entries. Runs on the event loop at every publish:
        only answers not seen before are read (reading all 1,100 takes about 0.3 s)."""
        known, self._phones = self._phones, {}
        public: set[str] = set()
        for e in entries:
            for loc in e.languages.values():
                phones = known.get(loc.answer)
                if phones is None:
                    phones = frozenset(extract_facts(loc.answer).phones)
                self._phones[loc.answer] = phones
                public |= phones
        self.public = frozenset(public)

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
        text = SPOKEN_EMAIL.sub("[email]", text)
        text = IBAN.sub(self._iban, text)
        text = ID_TOKEN.sub("[id]", text)
        text = DIGIT_RUN.sub(self._number, text)
        return CHINESE_NUMERALS.sub("[number]", text)
