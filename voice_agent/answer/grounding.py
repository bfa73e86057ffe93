"""The grounding check an LLM rephrasing must pass before it is spoken.

Every phone number, number, acronym and URL in the candidate must appear in the curated FAQ
answer it rephrases, and the candidate must be in the asker's language. Anything else, and the
curated text is spoken instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from voice_agent.language.lid import LanguageIdentifier, strip_facts
from voice_agent.language.textfacts import extract_facts


@dataclass(frozen=True, slots=True)
class GroundingResult:
    ok: bool
    reason: str = ""


def check(candidate: str, source: str, lang: str, lid: LanguageIdentifier) -> GroundingResult:
    if not candidate.strip():
        return GroundingResult(False, "empty")
    invented = extract_facts(candidate).missing_from(extract_facts(source))
    if not invented.is_empty():
        return GroundingResult(False, f"not in the FAQ entry: {', '.join(sorted(invented.all()))}")
    # Only judge the language on real words: "Call 808 24 24 24." is one word, not five.
    if len(strip_facts(candidate).split()) >= 3 or lang == "zh":
        guess = lid.identify(candidate)
        if guess.language != lang:
            return GroundingResult(False, f"language {guess.language}, expected {lang}")
    return GroundingResult(True)
