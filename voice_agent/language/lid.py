"""Language identification that fuses the transcript's text with Whisper's audio evidence.

Text evidence comes first from the script (Gurmukhi can only be pa here), then, inside a
script shared by several supported languages, from small cue tables (letters and function
words no sibling language uses) combined log-linearly with langdetect restricted to that
script's languages. Acronyms, numbers, URLs and Portuguese institution names (NIF,
808 24 24 24, gov.pt, Loja do Cidadão) are removed first: citizens mix them into every
language. Then Whisper's audio distribution and the session's language (the prior) are fused
in. Everything is deterministic; the only state is the langdetect profile table, loaded once
per TextLanguageDetector.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from langdetect.detector_factory import (  # type: ignore[import-untyped, unused-ignore]
    PROFILES_DIRECTORY,
    DetectorFactory,
)
from langdetect.lang_detect_exception import LangDetectException  # type: ignore[import-untyped, unused-ignore]

from voice_agent.language.languages import CODES, DEFAULT_LANGUAGE, base_code, normalize_code
from voice_agent.language.lid_cues import (
    ROMANISED,
    SCRIPT_LANGUAGES,
    _phrases,
    _script_of,
    cue_scores,
    romanised_scores,
)
from voice_agent.language.textfacts import find_fact_spans

# Portuguese public-service names that citizens drop into any language; matched without
# regard to case or accents ("loja do cidadao").
PORTUGUESE_NAMES: tuple[str, ...] = _phrases(
    "loja do cidadão | espaço cidadão | cartão de cidadão | cartão do cidadão | "
    "segurança social direta | segurança social | portal das finanças | finanças | "
    "autoridade tributária | número de utente | centro de saúde | junta de freguesia | "
    "câmara municipal | autorização de residência | título de residência | registo civil | "
    "conservatória | chave móvel digital | serviço nacional de saúde | linha saúde"
)
_ACCENT_CLASSES: Mapping[str, str] = {
    "a": "[aáàâã]",
    "e": "[eéèê]",
    "i": "[iíì]",
    "o": "[oóòôõ]",
    "u": "[uúù]",
    "c": "[cç]",
    " ": r"\s+",
}


def _name_pattern(name: str) -> str:
    plain = unicodedata.normalize("NFD", name)
    base = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return "".join(_ACCENT_CLASSES.get(ch, re.escape(ch)) for ch in base)


_PORTUGUESE_NAMES_RE = re.compile(
    r"(?<!\w)(?:" + "|".join(_name_pattern(name) for name in PORTUGUESE_NAMES) + r")(?!\w)",
    re.IGNORECASE,
)
_HAN_CHARS_PER_WORD = 3  # "≤ 3 Han characters" is one word; also the script-count weight
_LANGDETECT_TEMPERATURE = 2.0  # langdetect is over-confident on short text: soften it
_LANGDETECT_FLOOR = 1e-3
_LANGDETECT_MIN_WORDS = 3.0
_ONE_WORD_CONFIDENCE = 0.6  # a one-word guess without a prior is reported this much lower
_PRIOR_ONLY_CONFIDENCE = 0.5
_TOP_SCORES = 5
_SHOUTING_MIN_WORDS = 3
_MIN_SCRIPT_LETTERS = 2
_ZERO_WIDTH = "\u200c\u200d"  # ZWNJ/ZWJ belong inside Persian and Indic words


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    language: str  # one of languages.CODES
    probability: float  # 0..1 fused confidence
    source: str  # "script", "text", "audio", "fused", "prior", "given"
    scores: dict[str, float]  # fused per-language scores, best first (top few)

    @classmethod
    def given(cls, code: str) -> LanguageGuess:
        """The language the person chose explicitly (a UI button): certain by definition."""
        language = normalize_code(code)
        return cls(language, 1.0, "given", {language: 1.0})


@dataclass(frozen=True, slots=True)
class TextEvidence:
    """What the text alone says: its script, how long it is and a distribution."""

    script: str  # a SCRIPT_LANGUAGES key, "none" (no letters) or an unsupported script
    words: int  # after removing acronyms, numbers and URLs; Han counts 3 characters a word
    probabilities: dict[str, float]  # over the script's languages; {} if unsupported/empty

    @property
    def candidates(self) -> tuple[str, ...]:
        return SCRIPT_LANGUAGES.get(self.script, ())

    @property
    def decisive(self) -> bool:
        """The script alone names the language (Gurmukhi, Gujarati, Bengali, Han)."""
        return len(self.candidates) == 1


class TextLanguageDetector:
    """langdetect restricted to the supported set plus script cues.

    Owns its own langdetect DetectorFactory (langdetect's module-level detect() uses a
    global one), loaded once and seeded, so results are deterministic.
    """

    def __init__(self) -> None:
        self._factory = DetectorFactory()
        self._factory.load_profile(PROFILES_DIRECTORY)
        self._factory.seed = 0
        self._profiles = frozenset(self._factory.get_lang_list())

    def probabilities(self, text: str) -> dict[str, float]:
        """Over supported codes, summing to ~1; {} if there are no letters to judge."""
        return self.analyse(text).probabilities

    def analyse(self, text: str) -> TextEvidence:
        cleaned, names = strip_portuguese_names(strip_facts(text))
        script = dominant_script(cleaned)
        cleaned = keep_script(cleaned, script)
        lowered = cleaned.lower()
        tokens = word_tokens(lowered)
        words = _count_words(cleaned, tokens, script) + names
        romanised = romanised_scores(tokens) if script == "latin" else {}
        if romanised:  # "mera card kho gaya, kya karu": hi, not tr or en
            weights = {lang: math.exp(romanised.get(lang, 0.0)) for lang in ROMANISED}
            total = sum(weights.values())
            return TextEvidence("romanised", words, {k: w / total for k, w in weights.items()})
        candidates = SCRIPT_LANGUAGES.get(script, ())
        if not candidates or words == 0:
            return TextEvidence(script, words, {})
        if len(candidates) == 1:
            return TextEvidence(script, words, {candidates[0]: 1.0})
        detected = self._langdetect(lowered, candidates)
        cues = cue_scores(lowered, tokens, candidates)
        # langdetect's n-gram statistics need a few words; below that, trust it less.
        temperature = _LANGDETECT_TEMPERATURE * max(1.0, _LANGDETECT_MIN_WORDS / len(tokens))
        logits = {
            lang: math.log(max(detected.get(lang, 0.0), _LANGDETECT_FLOOR)) / temperature
            + cues[lang]
            for lang in candidates
        }
        top = max(logits.values())
        weights = {lang: math.exp(logit - top) for lang, logit in logits.items()}
        total = sum(weights.values())
        # Few words are weak evidence: blend towards uniform (1 word: half, 2 words: 1/8).
        blend = min(0.5, 0.5 / words**2)
        uniform = 1.0 / len(candidates)
        probs = {lang: (1 - blend) * w / total + blend * uniform for lang, w in weights.items()}
        return TextEvidence(script, words, probs)

    def _langdetect(self, text: str, candidates: tuple[str, ...]) -> dict[str, float]:
        """langdetect's distribution with every language outside ``candidates`` at zero."""
        profiles = {lang: _profile_names(lang) & self._profiles for lang in candidates}
        prior = {name: 1.0 for names in profiles.values() for name in names}
        if not prior:
            return {}
        detector = self._factory.create()
        detector.set_prior_map(prior)
        detector.append(text)
        try:
            detector.get_probabilities()
        except LangDetectException:
            return {}
        by_profile = dict(zip(detector.langlist, detector.langprob, strict=True))
        return {
            lang: sum(float(by_profile.get(name, 0.0)) for name in names)
            for lang, names in profiles.items()
        }


class LanguageIdentifier:
    def __init__(
        self,
        text_detector: TextLanguageDetector,
        *,
        prior_weight: float = 0.35,
        audio_weight: float = 0.5,
        text_weight: float = 0.5,
    ) -> None:
        self._text = text_detector
        self._prior_weight = prior_weight
        self._audio_weight = audio_weight
        self._text_weight = text_weight

    def identify(
        self,
        text: str,
        *,
        audio_probs: Mapping[str, float] | None = None,
        prior: str | None = None,
    ) -> LanguageGuess:
        """Guess the language of ``text`` (a transcript or a typed question).

        Rules, in order:

        1. Acronyms, numbers and URLs (NIF, SNS, 808 24 24 24, autenticacao.gov.pt) are
           removed first, and so are Portuguese institution names ("Loja do Cidadão") when
           other words remain. Nothing left (empty, whitespace, digits, acronyms only):
           return ``prior`` if any, else "pt" with probability 0; source "prior". Latin
           words inside a supported non-Latin script are ignored (the script wins).
        2. One word (or ≤ 3 Han characters) — "Olá", "ok", "obrigado", "sim", "नमस्ते" —
           NEVER flips the session language: with a ``prior``, the prior is returned
           (source "prior") whatever the script or the audio say. Without a prior the
           evidence below is used, but the probability is reported lower.
        3. Latin text with more words of romanised Hindi/Urdu, Punjabi, Bengali, Nepali or
           Gujarati (at least two: "kaise", "kithon", "korbo", "garne", "kevi") than of any
           Latin-script language is one of those five ("romanised"; Hindi for Urdu too),
           decided by those words, Whisper's audio and the prior as in rule 5.
        4. An unambiguous script decides outright (source "script"): Gurmukhi → pa,
           Gujarati → gu, Bengali → bn, Han without kana → zh. The prior is ignored.
        5. Otherwise the candidates are the languages of the text's script (Latin: pt en es
           fr de it ro pl tr; Cyrillic: uk ru; Arabic: ar fa ur; Devanagari: hi ne), or all
           languages if the script is unsupported (Greek, Hebrew, kana...). Per candidate,
           ``text_weight * p_text + audio_weight * p_audio + prior_weight * [is prior]``,
           normalised. ``p_text`` is langdetect restricted to the candidates combined with
           letter and function-word cues (ã/ão → pt, ñ → es, ı ğ → tr, ł ą → pl, ă ș ț → ro,
           і ї є → uk, ы э ё → ru, ٹ ڈ ڑ ں ے ہ → ur, پ چ ژ گ without Urdu letters → fa,
           ة ى أ إ → ar, छ/गर्न/मेरो → ne, है/मुझे/कैसे → hi...), blended towards uniform
           when the text has few words, so audio matters most for short transcripts and
           shared scripts. ``p_audio`` is Whisper's distribution restricted to the
           candidates and renormalised. Brazilian Portuguese is "pt".
        6. Source: "fused" when text and audio both spoke, "text" when the text decided,
           "audio" when only audio did, "prior" when the prior bonus decided. An
           unsupported script with no audio returns the prior as in rule 1.

        Raises ``UnsupportedLanguage`` for a ``prior`` outside the supported set.
        """
        prior_code = normalize_code(prior) if prior else None
        evidence = self._text.analyse(text)
        if evidence.words == 0:
            return _prior_guess(prior_code)
        if evidence.words == 1 and prior_code is not None:
            scores = self._fuse(evidence.probabilities, audio_probs, prior_code, CODES)
            return LanguageGuess(prior_code, scores.get(prior_code, 0.0), "prior", _top(scores))
        candidates = evidence.candidates or CODES
        if not evidence.probabilities and not restrict(audio_probs or {}, candidates):
            return _prior_guess(prior_code)  # an unsupported script and no audio
        bonus = None if evidence.decisive else prior_code
        scores = self._fuse(evidence.probabilities, audio_probs, bonus, candidates)
        language = max(candidates, key=lambda code: scores.get(code, 0.0))
        probability = scores.get(language, 0.0)
        if evidence.words == 1:
            probability *= _ONE_WORD_CONFIDENCE
        source = (
            "script"
            if evidence.decisive
            else _source(language, evidence.probabilities, audio_probs, candidates)
        )
        return LanguageGuess(language, probability, source, _top(scores))

    def _fuse(
        self,
        text_probs: Mapping[str, float],
        audio_probs: Mapping[str, float] | None,
        prior: str | None,
        candidates: Iterable[str],
    ) -> dict[str, float]:
        allowed = tuple(candidates)
        audio = restrict(audio_probs or {}, allowed)
        raw = {
            code: self._text_weight * text_probs.get(code, 0.0)
            + self._audio_weight * audio.get(code, 0.0)
            + (self._prior_weight if code == prior else 0.0)
            for code in allowed
        }
        total = sum(raw.values())
        return {code: score / total for code, score in raw.items()} if total > 0 else {}


def restrict(probs: Mapping[str, float], allowed: Iterable[str]) -> dict[str, float]:
    """``probs`` limited to ``allowed`` (codes such as "pt-BR" normalised) and renormalised."""
    keep = frozenset(allowed)
    kept: dict[str, float] = {}
    for code, p in probs.items():
        base = base_code(code)
        if base in keep and p > 0:
            kept[base] = kept.get(base, 0.0) + float(p)
    total = sum(kept.values())
    return {code: p / total for code, p in kept.items()} if total > 0 else {}


def strip_facts(text: str) -> str:
    """``text`` without URLs, phone numbers, acronyms and numbers (each becomes a space).

    Text typed all in capitals ("COMO TIRO O NIF") is lowercased instead, or nothing would
    be left; one or two capitalised words ("NIF", "OK", "SNS 24", "IRS NIF") are acronyms.
    """
    text = unicodedata.normalize("NFC", text)
    words = [word for word in text.split() if any(ch.isalpha() for ch in word)]
    shouting = any(ch.isupper() for ch in text) and not any(ch.islower() for ch in text)
    if shouting and len(words) >= _SHOUTING_MIN_WORDS:
        text = text.lower()
    kept = list(text)
    for span in find_fact_spans(text):
        kept[span.start : span.end] = [" "] * (span.end - span.start)
    cleaned = "".join(kept)
    # Leftovers of numbers and codes: "2º", "B1", "1.ª", "nº".
    return re.sub(r"\S*\d\S*|[ºª]", " ", cleaned)


def strip_portuguese_names(text: str) -> tuple[str, int]:
    """``text`` without Portuguese institution names, and how many were removed.

    "Loja do Cidadão" or "Segurança Social" inside an English or Italian question says
    nothing about the asker's language. Text that is nothing but such names is kept whole.
    """
    stripped, count = _PORTUGUESE_NAMES_RE.subn(" ", text)
    if count == 0 or not any(ch.isalpha() for ch in stripped):
        return text, 0
    return stripped, count


def dominant_script(text: str) -> str:
    """The supported non-Latin script with most letters, else the script with most letters.

    Latin words inside Cyrillic, Arabic, Devanagari or Han text are names, acronyms and URLs
    ("Loja do Cidadão 在哪里"); the reverse hardly happens. A Han character counts as three
    letters; Han mixed with kana is Japanese ("kana"), which is not supported.
    """
    counts: dict[str, int] = {}
    for ch in text:
        if unicodedata.category(ch)[0] == "L":
            script = _script_of(ch)
            weight = _HAN_CHARS_PER_WORD if script in ("han", "kana") else 1
            counts[script] = counts.get(script, 0) + weight
    if not counts:
        return "none"
    if counts.get("kana", 0) > 0 and counts.get("han", 0) > 0:
        return "kana"
    non_latin = sorted(s for s in counts if s in SCRIPT_LANGUAGES and s != "latin")
    preferred = [s for s in non_latin if counts[s] >= _MIN_SCRIPT_LETTERS]
    return max(preferred or sorted(counts), key=lambda script: counts[script])


def keep_script(text: str, script: str) -> str:
    """``text`` with the letters of other scripts blanked (when ``script`` is not Latin)."""
    if script == "latin":
        return text
    return "".join(
        " " if unicodedata.category(ch)[0] == "L" and _script_of(ch) != script else ch
        for ch in text
    )


def word_tokens(text: str) -> list[str]:
    """Runs of letters and combining marks (Devanagari viramas, Arabic harakat, ZWNJ)."""
    tokens: list[str] = []
    current: list[str] = []
    for ch in text:
        if unicodedata.category(ch)[0] in "LM" or ch in _ZERO_WIDTH:
            current.append(ch)
        elif current:
            tokens.append("".join(current))
            current = []
    if current:
        tokens.append("".join(current))
    return [token.strip(_ZERO_WIDTH) for token in tokens if token.strip(_ZERO_WIDTH)]


def _count_words(text: str, tokens: list[str], script: str) -> int:
    if script in ("han", "kana"):
        ideographs = sum(1 for ch in text if _script_of(ch) in ("han", "kana"))
        return math.ceil(ideographs / _HAN_CHARS_PER_WORD)
    return len(tokens)


def _profile_names(lang: str) -> frozenset[str]:
    return frozenset({"zh-cn", "zh-tw"}) if lang == "zh" else frozenset({lang})


def _prior_guess(prior: str | None) -> LanguageGuess:
    if prior is None:
        return LanguageGuess(DEFAULT_LANGUAGE, 0.0, "prior", {})
    return LanguageGuess(prior, _PRIOR_ONLY_CONFIDENCE, "prior", {prior: 1.0})


def _source(
    language: str,
    text_probs: Mapping[str, float],
    audio_probs: Mapping[str, float] | None,
    candidates: tuple[str, ...],
) -> str:
    audio = restrict(audio_probs or {}, candidates)
    if text_probs and audio:
        return "fused"
    for kind, probs in (("text", text_probs), ("audio", audio)):
        if probs and max(candidates, key=lambda code: probs.get(code, 0.0)) == language:
            return kind
    return "prior"


def _top(scores: Mapping[str, float]) -> dict[str, float]:
    order = sorted(scores, key=lambda code: (-scores[code], CODES.index(code)))
    return {code: scores[code] for code in order[:_TOP_SCORES]}
