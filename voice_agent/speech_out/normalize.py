"""Answer text -> text a TTS engine (espeak-ng, Piper) reads like a public-service counter.

Phone numbers keep their grouping with commas for pauses, acronyms are spelled letter
by letter (unless people say them as words), web addresses are read with the
language's word for "dot". Fact detection is shared with ``voice_agent.language.textfacts``,
so what the grounding check calls a phone is exactly what is read as one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from voice_agent.language.languages import normalize_code
from voice_agent.language.textfacts import FactSpan, find_fact_spans, to_ascii_digits

# Acronyms Portuguese speakers say as words; every other acronym is spelled.
SPOKEN_AS_WORDS: frozenset[str] = frozenset(
    {
        "AIMA", "APAV", "CLAIM", "CNAIM", "COVID", "IBAN", "IMI", "INEM", "IVA",
        "NATO", "NISS", "ONU", "OTAN", "PIN", "SEF", "SIRESP", "UNICEF",
    }
)  # fmt: skip

DOT_WORD: Mapping[str, str] = MappingProxyType(
    {
        "pt": "ponto", "en": "dot", "es": "punto", "fr": "point", "de": "Punkt",
        "it": "punto", "ro": "punct", "pl": "kropka", "uk": "крапка", "ru": "точка",
        "tr": "nokta", "ar": "نقطة", "fa": "نقطه", "ur": "ڈاٹ", "hi": "डॉट",
        "pa": "ਡਾਟ", "gu": "ડોટ", "ne": "डट", "bn": "ডট", "zh": "点",
    }
)  # fmt: skip

# Single letters an engine would read as a word instead of the letter's name
# (espeak-ng pt reads a lone "E" as the conjunction /i/, "A"/"O" as articles).
LETTER_NAMES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"pt": MappingProxyType({"A": "á", "E": "é", "O": "ó"})}
)

_NO_LETTER_NAMES: Mapping[str, str] = MappingProxyType({})
_SCHEME_RE = re.compile(r"^(?:https?://)?(?:www\.)?", re.IGNORECASE)
_LETTERS_OR_DIGITS_RE = re.compile(r"[A-Z]|[0-9]+")
_DIGIT_BY_DIGIT_PREFIXES = ("7", "8")  # 707 / 800 / 808 service numbers
_PT_NATIONAL_DIGITS = 9

# Sentence ends: Latin-style marks need a following space (or the end); CJK marks,
# the danda and the Urdu full stop do not. Closing quotes/brackets stay attached.
_CLOSERS = "\"'”’»)\\]」』"
SENTENCE_END_RE = re.compile(
    rf"(?P<mark>[.!?…؟]+)[{_CLOSERS}]*(?=\s|$)|(?P<cjk>[。！？।॥۔]+)[{_CLOSERS}]*"
)
_PARAGRAPH_RE = re.compile(r"\n\s*\n")
_LAST_TOKEN_RE = re.compile(r"(\S+)$")
_TOKEN_OPENERS = "([{«\"'“‘¿¡"

# Abbreviations after which "." never ends a sentence (a name or number follows).
ABBREVIATIONS: frozenset[str] = frozenset(
    {
        "sr", "sra", "srs", "sras", "dr", "dra", "drs", "dras", "prof", "profa",
        "eng", "enga", "arq", "av", "art", "tel", "n", "nr", "nrº", "mr", "mrs",
        "ms", "st", "mme", "mlle", "e.g", "i.e", "p.ex", "p.ej", "ex", "cf", "vs",
        "aprox", "approx", "z.b", "bzw", "т.е", "напр", "ул",
    }
)  # fmt: skip
# Abbreviations that end a sentence unless a lowercase word follows.
ABBREVIATIONS_BEFORE_LOWERCASE: frozenset[str] = frozenset(
    {"etc", "usw", "ecc", "itd", "т.д", "т.п", "г"}
)


def speakable(text: str, lang: str) -> str:
    """Rewrite ``text`` for ``lang``'s TTS voice; see the module docstring."""
    code = normalize_code(lang)
    text = to_ascii_digits(text)
    pieces: list[str] = []
    position = 0
    for span in find_fact_spans(text):
        pieces.append(text[position : span.start])
        pieces.append(_speak_span(span, text[span.start : span.end], code))
        position = span.end
    pieces.append(text[position:])
    return " ".join("".join(pieces).split())


def _speak_span(span: FactSpan, raw: str, code: str) -> str:
    if span.kind == "phone":
        return speak_phone(span.parts)
    if span.kind == "acronym":
        return spell_acronym(raw, code)
    if span.kind == "url":
        return speak_url(raw, code)
    return raw


def speak_phone(groups: tuple[str, ...]) -> str:
    """``('808', '24', '24', '24')`` -> ``8 0 8, 24, 24, 24``; keeps the grouping."""
    prefix, national = _split_country_code(groups)
    spoken = [_digit_by_digit(prefix)] if prefix else []
    for index, group in enumerate(national):
        service = group.startswith(_DIGIT_BY_DIGIT_PREFIXES)
        if (index == 0 and len(group) == 3 and service) or group.startswith("0"):
            spoken.append(_digit_by_digit(group))
        else:
            spoken.append(group)
    return ", ".join(spoken)


def _split_country_code(groups: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """Separate ``+351``/``00351`` and regroup a run-together national number."""
    first = groups[0]
    if len(groups) > 1:
        international = first.startswith(("+", "00"))
        return (first, groups[1:]) if international else ("", groups)
    prefix = ""
    for country in ("+351", "00351"):
        if first.startswith(country) and len(first) == len(country) + _PT_NATIONAL_DIGITS:
            prefix, first = country, first[len(country) :]
    if first.startswith(("+", "00")):
        return first, ()  # a foreign number written without groups: digit by digit
    if len(first) == _PT_NATIONAL_DIGITS:
        service = first.startswith(_DIGIT_BY_DIGIT_PREFIXES)
        return prefix, _chunk(first, (3, 2, 2, 2) if service else (3, 3, 3))
    return prefix, (first,)


def _chunk(digits: str, sizes: tuple[int, ...]) -> tuple[str, ...]:
    chunks: list[str] = []
    start = 0
    for size in sizes:
        chunks.append(digits[start : start + size])
        start += size
    return tuple(chunks)


def _digit_by_digit(group: str) -> str:
    plus = "+ " if group.startswith("+") else ""
    return plus + " ".join(group.lstrip("+"))


def spell_acronym(acronym: str, lang: str) -> str:
    """``NIF`` -> ``N I F``, ``SNS24`` -> ``S N S 24``; ``AIMA`` stays a word."""
    if acronym in SPOKEN_AS_WORDS:
        return acronym
    names = LETTER_NAMES.get(normalize_code(lang), _NO_LETTER_NAMES)
    return " ".join(names.get(part, part) for part in _LETTERS_OR_DIGITS_RE.findall(acronym))


def speak_url(url: str, lang: str) -> str:
    """``https://www.seg-social.pt`` -> ``seg social ponto pt`` (in ``lang``)."""
    dot = f" {DOT_WORD[normalize_code(lang)]} "
    bare = _SCHEME_RE.sub("", url).rstrip("/")
    for symbol, spoken in ((".", dot), ("-", " "), ("_", " "), ("/", " "), ("@", " @ ")):
        bare = bare.replace(symbol, spoken)
    return " ".join(bare.split())


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences for streaming TTS, punctuation kept."""
    sentences: list[str] = []
    for paragraph in _PARAGRAPH_RE.split(text):
        start = 0
        for match in SENTENCE_END_RE.finditer(paragraph):
            if match.group("mark") == "." and _is_abbreviation(paragraph, match):
                continue
            sentences.append(paragraph[start : match.end()].strip())
            start = match.end()
        sentences.append(paragraph[start:].strip())
    return [sentence for sentence in sentences if sentence]


def _is_abbreviation(text: str, match: re.Match[str]) -> bool:
    token_match = _LAST_TOKEN_RE.search(text, 0, match.start())
    if token_match is None:
        return False
    token = token_match.group(1).lstrip(_TOKEN_OPENERS).lower()
    if token in ABBREVIATIONS:
        return True
    if token in ABBREVIATIONS_BEFORE_LOWERCASE:
        following = text[match.end() :].lstrip()
        return bool(following) and following[0].islower()
    return False


_NO_SPACE_AFTER = ("。", "！", "？", "；", "：")


def join_sentences(sentences: list[str]) -> str:
    """Inverse of `split_sentences` for display: no space after full-width punctuation."""
    out = ""
    for s in sentences:
        if out and not out.endswith(_NO_SPACE_AFTER):
            out += " "
        out += s
    return out


_CLAUSE = re.compile(r"[,;:،，；：]\s")


def first_clause_split(sentence: str, min_chars: int = 25, long_chars: int = 80) -> list[str]:
    """Split a long first sentence at its first clause boundary, so that speech can start
    sooner (the first piece is synthesised, and heard, while the rest is made)."""
    if len(sentence) <= long_chars:
        return [sentence]
    for m in _CLAUSE.finditer(sentence):
        if min_chars <= m.start() <= len(sentence) - 20:
            return [sentence[: m.start() + 1], sentence[m.end() :]]
    return [sentence]
