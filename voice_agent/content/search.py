"""Editor search over the latest version of every entry, and the "try a question" check."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Any

from voice_agent.answer.decision import decide_question
from voice_agent.content.records import EntrySummary
from voice_agent.conversation.engine import Engine, validate_text
from voice_agent.language.languages import normalize_code


@dataclass(frozen=True, slots=True)
class SearchHit:
    entry_id: str
    topic: str
    state: str
    version: int
    language: str | None
    field: str
    text: str


def fold(text: str) -> str:
    """Case- and accent-insensitive form for matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_entries(summaries: list[EntrySummary], query: str, limit: int) -> list[SearchHit]:
    """Every field of the latest versions that contains the query (ids and topics first)."""
    q = fold(" ".join(query.split()))
    if not q:
        return []
    hits: list[SearchHit] = []

    def add(s: EntrySummary, lang: str | None, field: str, text: str) -> None:
        if q in fold(text):
            hits.append(
                SearchHit(s.entry_id, s.topic, s.latest.state, s.latest.version, lang, field, text)
            )

    for s in summaries:
        add(s, None, "id", s.entry_id)
        add(s, None, "topic", s.topic)
    for s in summaries:
        for code, loc in (s.latest.body.get("languages") or {}).items():
            add(s, code, "question", loc.get("question") or "")
            for p in loc.get("paraphrases") or []:
                add(s, code, "paraphrase", p)
            add(s, code, "answer", loc.get("answer") or "")
        if len(hits) >= limit:
            break
    return hits[:limit]


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


async def try_question(engine: Engine, text: str, lang: str | None) -> dict[str, Any]:
    """What the assistant would do with this question now: language, decision, top five."""
    text = validate_text(text, engine.settings.limits.max_text_chars)
    if lang:
        language, probability, source = normalize_code(lang), 1.0, "given"
    else:
        guess = engine.lid.identify(text)
        language, probability, source = guess.language, guess.probability, guess.source
    decided = await decide_question(engine.retriever, text, language, engine.settings.retrieval)
    decision, result = decided.decision, decided.result
    entries = engine.retriever.entries
    said = decision.kind in ("faq", "no_answer")
    sc = result.screening
    return {
        "text": text,
        "language": language,
        "language_probability": _finite(probability),
        "language_source": source,
        "kind": decision.kind,
        "faq_id": decision.faq_id,
        "confidence": _finite(decision.confidence),
        "handoff": decision.handoff,
        "answer": engine.answerer.curated_text(decision) if said else None,
        "status": decision.status,
        "route": decision.route.area if decision.route else None,
        "ranking": [
            {
                "entry_id": h.entry_id,
                "topic": entries[h.entry_id].topic if h.entry_id in entries else "",
                "score": _finite(h.score) or 0.0,
                "question_score": _finite(h.question) or 0.0,
                "matched_text": h.matched_text,
                "matched_lang": h.matched_lang,
                "lexical_rank": h.lexical_rank,
            }
            for h in result.hits[:5]
        ],
        "screening": {
            "injection": sc.injection,
            "domain": _finite(sc.domain),
            "intent": sc.intent,
            "intent_score": _finite(sc.intent_score),
            "uncovered": _finite(sc.uncovered),
            "uncovered_area": sc.area,
            "classified": sc.classified.label,
            "classified_p": _finite(sc.classified.p),
        },
    }
