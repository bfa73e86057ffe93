"""The facts a spoken answer must not invent: phone numbers, numbers, acronyms, URLs.

Used by the grounding check (LLM output against a curated FAQ answer) and by the
FAQ validator (every translation keeps the pt answer's facts). Standard library
only; every pattern works on text whose digits were first mapped to ASCII, so
Arabic-Indic, Persian and Indic-script digits count the same as 0-9.

Fact spans never overlap. They are found in priority order: URLs (and e-mail
addresses), then phone numbers, then acronyms and other numbers in what is left,
so the ``24`` of ``sns24.gov.pt`` or of ``808 24 24 24`` is not also a number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

FactKind = Literal["url", "phone", "acronym", "number"]

# Short emergency/helpline numbers that count as phones on their own.
SHORT_PHONES: frozenset[str] = frozenset({"112", "115", "117", "144", "116000", "116006", "116111"})
MIN_PHONE_DIGITS = 9
PT_COUNTRY_CODE = "351"

# Spaces and hyphens that may separate the digit groups of a phone number.
_GROUP_SEP = "[ \u00a0\u2009\u202f\\-\u2011]"
PHONE_RE = re.compile(
    rf"(?<![0-9A-Za-z+])(?:\+[ \u00a0]?|00)?[0-9]+(?:{_GROUP_SEP}[0-9]+)*(?![0-9])"
)
_GROUP_SEP_RE = re.compile(rf"{_GROUP_SEP}+")

_TLDS = "pt|eu|com|org|net"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_PATH = r"(?:/[A-Za-z0-9\-._~/?#=&%+]*)?"
OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # a decimal digit of another script (\d: Unicode Nd)
URL_RE = re.compile(
    r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+"
    rf"|(?<![A-Za-z0-9.\-@/_])(?:[A-Za-z0-9._%+\-]+@)?(?:{_LABEL}\.)+(?:{_TLDS})"
    rf"(?![A-Za-z0-9\-]){_PATH}",
    re.IGNORECASE,
)
_URL_TRAILING_PUNCTUATION = ".,;:!?)]}'\""
_URL_TRAILING = _URL_TRAILING_PUNCTUATION + "/"

# Whole word of >= 2 Latin capitals (digits allowed after the first letter).
_NOT_LATIN_WORD = "A-Za-z0-9\u00c0-\u024f"
ACRONYM_RE = re.compile(
    rf"(?<![{_NOT_LATIN_WORD}])[A-Z][A-Z0-9]*[A-Z][A-Z0-9]*(?![{_NOT_LATIN_WORD}])"
)

# 1 500 / 1.500,50 / 1,500.50 / ١٬٥٠٠ -- digits only once normalised.
NUMBER_RE = re.compile(
    r"(?<![0-9])(?:[0-9]{1,3}(?:[ \u00a0\u2009\u202f][0-9]{3})+(?![0-9])"
    r"(?:[.,\u066b][0-9]+)?"
    r"|[0-9]+(?:[.,\u066b\u066c][0-9]+)*)(?![0-9])"
)


@dataclass(frozen=True, slots=True)
class Facts:
    phones: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()
    acronyms: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()

    def missing_from(self, other: Facts) -> Facts:
        """The facts in ``self`` that ``other`` does not contain."""
        return Facts(
            phones=self.phones - other.phones,
            numbers=self.numbers - other.numbers,
            acronyms=self.acronyms - other.acronyms,
            urls=self.urls - other.urls,
        )

    def is_empty(self) -> bool:
        return not (self.phones or self.numbers or self.acronyms or self.urls)

    def all(self) -> frozenset[str]:
        return self.phones | self.numbers | self.acronyms | self.urls


@dataclass(frozen=True, slots=True)
class FactSpan:
    """One fact found in a text: ``text[start:end]`` normalised to ``value``.

    ``parts`` holds a phone's digit groups as written (ASCII digits, a leading
    ``+`` kept on the first group); it is empty for the other kinds.
    """

    kind: FactKind
    start: int
    end: int
    value: str
    parts: tuple[str, ...] = ()


def to_ascii_digits(text: str) -> str:
    """Map every Unicode decimal digit (٣, ۳, ३, ৩, ੩, ૩ ...) to 0-9; same length."""
    return OTHER_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group())), text)


def normalize_url(raw: str) -> str:
    """``https://www.SNS24.gov.pt/`` -> ``sns24.gov.pt``."""
    url = raw.strip().rstrip(_URL_TRAILING).lower()
    url = re.sub(r"^https?://", "", url)
    url = re.sub(r"^www\.", "", url)
    return url.rstrip(_URL_TRAILING)


def normalize_phone(digits: str, international: bool) -> str:
    """Digits only; a Portuguese number written with +351/00351 loses the prefix."""
    digits = digits.removeprefix("00") if international else digits
    national = len(PT_COUNTRY_CODE) + MIN_PHONE_DIGITS
    if international and len(digits) == national and digits.startswith(PT_COUNTRY_CODE):
        return digits[len(PT_COUNTRY_CODE) :]
    return digits


def normalize_number(raw: str) -> str:
    """Digits only, without leading zeros (``06`` -> ``6``, ``1.500`` -> ``1500``)."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    return digits.lstrip("0") or "0"


def find_fact_spans(text: str) -> list[FactSpan]:
    """All facts in ``text``, non-overlapping, in text order.

    Offsets index ``text`` itself (digit mapping keeps the length).
    """
    ascii_text = to_ascii_digits(text)
    taken = [False] * len(ascii_text)
    spans: list[FactSpan] = []

    def free(start: int, end: int) -> bool:
        return not any(taken[start:end])

    def take(span: FactSpan) -> None:
        taken[span.start : span.end] = [True] * (span.end - span.start)
        spans.append(span)

    for match in URL_RE.finditer(ascii_text):
        raw = match.group().rstrip(_URL_TRAILING_PUNCTUATION)
        if "." in raw:
            take(FactSpan("url", match.start(), match.start() + len(raw), normalize_url(raw)))

    for match in PHONE_RE.finditer(ascii_text):
        phone = _phone_span(match)
        if phone is not None and free(phone.start, phone.end):
            take(phone)

    for match in ACRONYM_RE.finditer(ascii_text):
        if free(match.start(), match.end()):
            take(FactSpan("acronym", match.start(), match.end(), match.group()))

    for match in NUMBER_RE.finditer(ascii_text):
        if free(match.start(), match.end()):
            value = normalize_number(match.group())
            take(FactSpan("number", match.start(), match.end(), value))

    return sorted(spans, key=lambda span: span.start)


def _phone_span(match: re.Match[str]) -> FactSpan | None:
    raw = match.group()
    international = raw.startswith(("+", "00"))
    groups = tuple(_GROUP_SEP_RE.split(raw.replace("+ ", "+").replace("+\u00a0", "+")))
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) < MIN_PHONE_DIGITS and digits not in SHORT_PHONES:
        return None
    value = normalize_phone(digits, international)
    return FactSpan("phone", match.start(), match.end(), value, groups)


@lru_cache(maxsize=8192)  # the FAQ's answers are read at every publish and every check
def extract_facts(text: str) -> Facts:
    """The phones, numbers, acronyms and URLs of ``text``, normalised."""
    spans = find_fact_spans(text)

    def values(kind: FactKind) -> frozenset[str]:
        return frozenset(span.value for span in spans if span.kind == kind)

    return Facts(
        phones=values("phone"),
        numbers=values("number"),
        acronyms=values("acronym"),
        urls=values("url"),
    )
