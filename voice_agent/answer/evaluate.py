"""`voice-agent eval FILE.jsonl`: per-language accuracy, language fidelity, refusals, latency.

Each line: {"text": ..., "lang": expected language, "faq_id": expected id or null,
"kind": "faq" | "off_topic" | "injection"}. The questions go through the same turn as the
kiosk (without speech synthesis). `sweep` re-decides the stored retrieval results at other
thresholds, which is how the answer/no-answer threshold is calibrated (see README).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from voice_agent.answer.answerer import decide
from voice_agent.answer.retrieval import RetrievalResult
from voice_agent.config import RetrievalSettings
from voice_agent.conversation.ask import ask
from voice_agent.conversation.engine import Engine, TurnInput
from voice_agent.errors import BadInput
from voice_agent.language.languages import CODES


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    lang: str
    faq_id: str | None
    kind: str


@dataclass(frozen=True, slots=True)
class Outcome:
    case: Case
    language: str
    faq_id: str | None
    ms: float
    retrieval: RetrievalResult


def read_cases(path: Path) -> list[Case]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            cases.append(Case(d["text"], d["lang"], d.get("faq_id"), d.get("kind", "faq")))
        except (ValueError, KeyError) as exc:
            raise BadInput(f"{path}:{n}: not an eval case ({exc})") from exc
    return cases


async def run_cases(engine: Engine, cases: list[Case]) -> list[Outcome]:
    out = []
    for c in cases:
        t = time.perf_counter()
        r = (await ask(engine, TurnInput(text=c.text), want_audio=False)).result
        ms = (time.perf_counter() - t) * 1000
        retrieval = await engine.retriever.search_async(c.text)
        out.append(Outcome(c, r["language"], r["faq_id"], ms, retrieval))
    return out


def redecide(outcomes: list[Outcome], settings: RetrievalSettings, engine: Engine) -> list[Outcome]:
    return [
        replace(
            o, faq_id=decide(o.retrieval, o.language, settings, engine.retriever.entries).faq_id
        )
        for o in outcomes
    ]


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    answerable = [o for o in outcomes if o.case.kind == "faq"]
    refusals = [o for o in outcomes if o.case.kind != "faq"]
    right = sum(o.faq_id == o.case.faq_id for o in answerable)
    lang_ok = sum(o.language == o.case.lang for o in outcomes)
    refused = sum(o.faq_id is None for o in refusals)
    return {
        "entry_accuracy": right / max(1, len(answerable)),
        "language_fidelity": lang_ok / max(1, len(outcomes)),
        "refusal_rate": refused / max(1, len(refusals)),
        "n": len(outcomes),
    }


def markdown(outcomes: list[Outcome]) -> str:
    by_lang: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_lang[o.case.lang].append(o)
    lines = [
        "| lang | questions | right entry | right language | refusals | p50 ms |",
        "|---|---|---|---|---|---|",
    ]
    for code in [c for c in CODES if c in by_lang]:
        os_ = by_lang[code]
        ans = [o for o in os_ if o.case.kind == "faq"]
        neg = [o for o in os_ if o.case.kind != "faq"]
        right = sum(o.faq_id == o.case.faq_id for o in ans)
        lang_ok = sum(o.language == o.case.lang for o in os_)
        refused = sum(o.faq_id is None for o in neg)
        lines.append(
            f"| {code} | {len(os_)} | {right}/{len(ans)} | {lang_ok}/{len(os_)} | "
            f"{refused}/{len(neg)} | {statistics.median(o.ms for o in os_):.0f} |"
        )
    s = summary(outcomes)
    all_ms = [o.ms for o in outcomes]
    lines.append(
        f"| **all** | {s['n']} | {s['entry_accuracy']:.1%} | {s['language_fidelity']:.1%} | "
        f"{s['refusal_rate']:.1%} | {statistics.median(all_ms):.0f} |"
    )
    return "\n".join(lines) + "\n"


def errors(outcomes: list[Outcome]) -> list[str]:
    out = []
    for o in outcomes:
        if o.faq_id != o.case.faq_id or o.language != o.case.lang:
            best = o.retrieval.best
            out.append(
                f"- [{o.case.lang}->{o.language}] {o.case.text!r}: expected {o.case.faq_id}, "
                f"got {o.faq_id} (best {best.entry_id if best else None} "
                f"{best.score if best else 0:.3f}, domain {o.retrieval.screening.domain:+.2f}, "
                f"cue {o.retrieval.screening.injection!r}, intent {o.retrieval.screening.intent} "
                f"{o.retrieval.screening.intent_score:.2f})"
            )
    return out


def sweep(outcomes: list[Outcome], engine: Engine) -> str:
    base = engine.settings.retrieval
    lines = ["| threshold | right entry | refusals |", "|---|---|---|"]
    for i in range(80, 96):
        t = i / 100
        s = summary(redecide(outcomes, replace(base, answer_threshold=t), engine))
        lines.append(f"| {t:.2f} | {s['entry_accuracy']:.1%} | {s['refusal_rate']:.1%} |")
    return "\n".join(lines) + "\n"


def sweep_domain(outcomes: list[Outcome], engine: Engine) -> str:
    base = engine.settings.retrieval
    lines = [
        "| answer threshold | domain threshold | right entry | refusals |",
        "|---|---|---|---|",
    ]
    for a in (0.08, 0.10, 0.11, 0.12, 0.14):
        for d in (-0.75, -0.5, -0.25, 0.0, 0.25):
            s = summary(
                redecide(outcomes, replace(base, answer_threshold=a, domain_threshold=d), engine)
            )
            lines.append(
                f"| {a:.2f} | {d:+.2f} | {s['entry_accuracy']:.1%} | {s['refusal_rate']:.1%} |"
            )
    return "\n".join(lines) + "\n"
