"""`voice-agent faq validate`: the checks a content change must pass before it is loaded."""

from __future__ import annotations

from voice_agent.content.faq import FaqEntry
from voice_agent.language.languages import CODES
from voice_agent.language.textfacts import extract_facts

MIN_PARAPHRASES = 3
MAX_ANSWER_CHARS = 700


def validate(entries: list[FaqEntry]) -> list[str]:
    problems: list[str] = []
    seen_questions: dict[tuple[str, str], str] = {}
    for e in entries:
        where = f"{e.id}:"
        missing = [c for c in CODES if c not in e.languages]
        if missing:
            problems.append(f"{where} missing languages: {', '.join(missing)}")
        if not e.sources:
            problems.append(f"{where} no official source URL")
        pt = e.languages.get("pt")
        pt_facts = extract_facts(pt.answer) if pt else None
        for code, loc in e.languages.items():
            if len(loc.paraphrases) < MIN_PARAPHRASES:
                problems.append(
                    f"{where} {code}: {len(loc.paraphrases)} paraphrases, "
                    f"need at least {MIN_PARAPHRASES}"
                )
            if len(loc.answer) > MAX_ANSWER_CHARS:
                problems.append(
                    f"{where} {code}: answer is {len(loc.answer)} characters "
                    f"(limit {MAX_ANSWER_CHARS}: keep it to 2-4 spoken sentences)"
                )
            for q in (loc.question, *loc.paraphrases):
                key = (code, " ".join(q.lower().split()))
                other = seen_questions.setdefault(key, e.id)
                if other != e.id:
                    problems.append(f"{where} {code}: question {q!r} also in entry {other}")
            if pt_facts is not None and code != "pt":
                lost = pt_facts.missing_from(extract_facts(loc.answer))
                if not lost.is_empty():
                    problems.append(
                        f"{where} {code}: answer lacks {', '.join(sorted(lost.all()))} "
                        "from the pt answer"
                    )
    return problems
