"""`voice-agent llm calibrate`: the languages the LLM may rephrase in, measured on the dev set.

The covered questions of the dev set (`"kind": "faq"` lines, read as `voice-agent eval` reads
them) are decided as the kiosk decides them; each answered one is rephrased through the LLM
path the service would use (the `[llm] url` endpoint, else the local GGUF) and the answerer's
grounding check, unchanged. Per language:

- grounded: answers whose every LLM sentence passed the grounding check;
- fell back: answers whose first sentence failed it (the curated text was spoken);
- right entry: questions whose spoken reply is the expected entry's: the decision was right
  and the reply is curated, or its rephrasing, searched like a question, finds that entry
  again; next to it, the curated baseline (the decision alone).

A language is trusted when, over at least `min_answers` answers, grounded >= `min_grounded`,
fell back <= `max_fallback` and the rephrasing kept >= `min_kept` of the right entries. The
figures and the trusted languages are written to `var/llm-calibration.json` for this model;
`trusted_languages` (Engine.create) reads them unless `[llm] trusted_languages` names
languages by hand.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voice_agent.answer.answerer import Answerer
from voice_agent.answer.decision import decide_question
from voice_agent.answer.llm import ReplyGenerator
from voice_agent.config import Settings
from voice_agent.language.languages import CODES
from voice_agent.speech_out.normalize import split_sentences

if TYPE_CHECKING:  # evaluate imports the engine, which imports this module
    from voice_agent.answer.evaluate import Case
    from voice_agent.conversation.engine import Engine

CALIBRATION_FILE = "llm-calibration.json"


@dataclass(frozen=True, slots=True)
class Criteria:
    min_grounded: float = 0.9
    max_fallback: float = 0.1
    min_kept: float = 0.9  # right entries after rephrasing / right entries of the decision
    min_answers: int = 5


@dataclass(slots=True)
class Figures:
    questions: int = 0  # covered questions run
    decided_right: int = 0  # the decision chose the expected entry (the curated baseline)
    answered: int = 0  # an entry was answered: the LLM was asked
    grounded: int = 0
    fell_back: int = 0
    right_entry: int = 0
    ms: list[float] = field(default_factory=list)  # time to the whole rephrased reply

    def trusted(self, c: Criteria) -> bool:
        n = self.answered
        return (
            n >= c.min_answers
            and self.grounded / n >= c.min_grounded
            and self.fell_back / n <= c.max_fallback
            and self.right_entry >= c.min_kept * self.decided_right
        )

    def row(self) -> dict[str, Any]:
        out: dict[str, Any] = asdict(self)
        out["ms_p50"] = round(statistics.median(self.ms)) if self.ms else None
        del out["ms"]
        return out


def model_id(settings: Settings) -> str:
    """What the figures are for: the endpoint and its model, or the local GGUF."""
    llm = settings.llm
    return f"{llm.url.rstrip('/')} {llm.remote_model}".strip() if llm.url else llm.model_file


def calibration_path(settings: Settings) -> Path:
    return settings.path(settings.var_dir) / CALIBRATION_FILE


def trusted_languages(settings: Settings) -> frozenset[str]:
    """`[llm] trusted_languages` if set by hand, else the calibration's for this model."""
    if settings.llm.trusted_languages:
        return frozenset(settings.llm.trusted_languages)
    try:
        data = json.loads(calibration_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    if not isinstance(data, dict) or data.get("model") != model_id(settings):
        return frozenset()
    return frozenset(c for c in data.get("trusted", []) if c in CODES)


class _Recorder:
    """The LLM as the answerer sees it, keeping the raw text it produced."""

    def __init__(self, llm: ReplyGenerator) -> None:
        self._llm = llm
        self.name = llm.name
        self.text = ""

    async def stream_reply(self, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        self.text = ""
        async for token in self._llm.stream_reply(messages):
            self.text += token
            yield token


def pick(cases: list[Case], per_language: int | None) -> list[Case]:
    """The covered questions, at most `per_language` of each language (in file order)."""
    seen: dict[str, int] = defaultdict(int)
    out = []
    for c in cases:
        if c.kind == "faq" and c.faq_ids and (per_language is None or seen[c.lang] < per_language):
            seen[c.lang] += 1
            out.append(c)
    return out


async def _finds(engine: Engine, text: str, lang: str, entry_id: str) -> bool:
    found = await decide_question(engine.retriever, text, lang, engine.settings.retrieval)
    best = found.result.best
    return best is not None and best.entry_id == entry_id


async def run(
    engine: Engine,
    llm: ReplyGenerator,
    cases: list[Case],
    progress: Callable[[int, int, Case], None] | None = None,
) -> dict[str, Figures]:
    recorder = _Recorder(llm)
    answerer = Answerer(engine.answerer.messages, engine.lid, recorder, frozenset(CODES))
    out: dict[str, Figures] = defaultdict(Figures)
    for i, case in enumerate(cases):
        if progress is not None:
            progress(i, len(cases), case)
        f = out[case.lang]
        f.questions += 1
        lang = engine.lid.identify(case.text).language
        d = await decide_question(engine.retriever, case.text, lang, engine.settings.retrieval)
        decision = d.decision
        right = decision.entry is not None and decision.entry.id in case.faq_ids
        f.decided_right += right
        if decision.entry is None:
            continue
        f.answered += 1
        t0 = time.perf_counter()
        said = [x async for x in answerer.sentences(decision, case.text)]
        f.ms.append((time.perf_counter() - t0) * 1000)
        rephrased = [s for mode, s in said if mode == "rephrased"]
        f.fell_back += not rephrased
        f.grounded += bool(rephrased) and len(rephrased) == len(split_sentences(recorder.text))
        if right and rephrased:
            right = await _finds(engine, " ".join(rephrased), decision.language, decision.entry.id)
        f.right_entry += right
    return dict(out)


def report(
    figures: dict[str, Figures], criteria: Criteria, settings: Settings, name: str, source: str
) -> dict[str, Any]:
    languages = {c: {**figures[c].row(), "trusted": figures[c].trusted(criteria)}
                 for c in CODES if c in figures}  # fmt: skip
    return {
        "model": model_id(settings),
        "name": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dev_set": source,
        "criteria": asdict(criteria),
        "languages": languages,
        "trusted": [c for c, row in languages.items() if row["trusted"]],
    }


def markdown(data: dict[str, Any]) -> str:
    lines = [
        f"LLM: {data['name']} ({data['model']}), {data['dev_set']}, {data['measured_at']}",
        "",
        "| lang | questions | answered | grounded | fell back | right entry (curated) "
        "| p50 ms | trusted |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for code, r in data["languages"].items():
        n = r["answered"] or 1
        lines.append(
            f"| {code} | {r['questions']} | {r['answered']} | {r['grounded'] / n:.0%} "
            f"| {r['fell_back'] / n:.0%} | {r['right_entry']}/{r['questions']} "
            f"({r['decided_right']}/{r['questions']}) | {r['ms_p50'] or '-'} "
            f"| {'yes' if r['trusted'] else 'no'} |"
        )
    trusted = ", ".join(data["trusted"]) or "none"
    return "\n".join(lines) + f"\n\ntrusted languages: {trusted}\n"
