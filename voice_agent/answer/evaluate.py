"""`voice-agent eval FILE.jsonl...`: what the assistant decides, per language.

One case per line:
- `{"text", "lang", "faq_id", "kind": "faq"}`: a covered question (right entry?);
- `{"text", "lang", "kind": "uncovered", "areas": [...]}`: in the domain but not in the FAQ
  (right abstention, and is the office named one of `areas`?);
- `{"text", "lang", "kind": "off_topic" | "injection"}`: must be refused;
- `{"text", "lang", "kind": "greeting" | "thanks" | "goodbye"}`: small talk (that reply);
- `{"text", "lang", "kind": "human"}`: asks for a person (must call staff); with a `faq_id`,
  it asks that covered question too (is it answered as well?);
  `{"text", "lang", "kind": "not_human"}`: mentions people but does not ask for one (must not);
- `{"first", "first_faq_id", "second", "faq_ids", "lang", "kind": "followup" | "switch"}`:
  two turns; the second is decided in the context of the first (right entry on the second?).

Every case goes through the one decision function (`decision.decide_question`) after text
language identification, as the kiosk does. `sweep` re-decides the stored retrievals at other
thresholds: that is how the thresholds were calibrated (README, "Calibration").
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from voice_agent.answer.decision import Context, Decided, decide_all, decide_question
from voice_agent.config import RetrievalSettings
from voice_agent.conversation.engine import Engine
from voice_agent.errors import BadInput
from voice_agent.language.languages import CODES

TWO_TURNS = ("followup", "switch")
REFUSE = ("off_topic", "injection")
PLEASANTRIES = ("greeting", "thanks", "goodbye")
EXPECTED = {"human": "staff called", "not_human": "staff not called"}  # said in a miss
GROUPS = {
    "faq": "covered",
    "uncovered": "uncovered",
    "off_topic": "refuse",
    "injection": "refuse",
    "human": "asks for a person",
    "not_human": "mentions a person",
    **dict.fromkeys(PLEASANTRIES, "small talk"),
}


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    lang: str
    faq_ids: tuple[str, ...]  # acceptable entries; empty: none (must not be answered)
    # faq | uncovered | off_topic | injection | human | not_human | greeting | thanks | goodbye
    # | followup | switch
    kind: str
    areas: tuple[str, ...] = ()  # uncovered: offices that are right to name
    first: str | None = None  # two turns: the first question
    first_faq_id: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    case: Case
    language: str
    decided: Decided
    ms: float
    context: Context | None = None
    first_ok: bool = True

    @property
    def faq_id(self) -> str | None:
        return self.decided.decision.faq_id

    @property
    def kind(self) -> str:
        return self.decided.decision.kind

    @property
    def right(self) -> bool:
        """Right entry (answerable cases), staff called or not (the person cases), or no entry
        (the others; and for a line to refuse, no call to staff either)."""
        staff = self.decided.decision.calls_staff
        if self.case.kind in ("human", "not_human"):
            return staff == (self.case.kind == "human")
        if self.case.kind in REFUSE and staff:
            return False
        if self.case.kind in PLEASANTRIES:
            return self.kind == self.case.kind
        return self.faq_id in self.case.faq_ids if self.case.faq_ids else self.faq_id is None

    @property
    def right_office(self) -> bool:
        route = self.decided.decision.route
        return self.kind == "no_answer" and route is not None and route.area in self.case.areas


def read_cases(path: Path) -> list[Case]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise BadInput(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read it as UTF-8 text ({exc})") from exc
    cases = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            ids = d.get("faq_ids") or ([d["faq_id"]] if d.get("faq_id") else [])
            text = d["second"] if "second" in d else d["text"]
            kind = d.get("kind", "faq")
            cases.append(
                Case(
                    str(text),
                    str(d["lang"]),
                    tuple(ids),
                    kind,
                    tuple(d.get("areas") or ()),
                    d.get("first"),
                    d.get("first_faq_id"),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BadInput(f"{path}:{n}: not an eval case ({exc})") from exc
    return cases


async def _turn(
    engine: Engine, text: str, prior: str | None, context: Context | None
) -> tuple[str, Decided]:
    language = engine.lid.identify(text, prior=prior).language
    settings = engine.settings.retrieval
    return language, await decide_question(engine.retriever, text, language, settings, context)


async def run_cases(engine: Engine, cases: list[Case]) -> list[Outcome]:
    out = []
    for c in cases:
        context, first_ok, prior = None, True, None
        if c.first is not None:
            prior, first = await _turn(engine, c.first, None, None)
            entry = first.decision.entry
            first_ok = entry is not None and entry.id == c.first_faq_id
            if entry is not None:
                context = Context(entry.id, entry.topic, c.first, prior)
        t = time.perf_counter()
        language, decided = await _turn(engine, c.text, prior, context)
        ms = (time.perf_counter() - t) * 1000
        out.append(Outcome(c, language, decided, ms, context, first_ok))
    return out


def redecide(outcomes: list[Outcome], settings: RetrievalSettings, engine: Engine) -> list[Outcome]:
    """The same retrievals decided with other settings (no search, no embedding)."""
    entries, routes = engine.retriever.entries, engine.retriever.routes
    return [
        replace(
            o,
            decided=decide_all(
                o.decided.alone,
                o.decided.joined,
                o.case.text,
                o.language,
                settings,
                entries,
                routes,
                o.context,
            ),
        )
        for o in outcomes
    ]


@dataclass(slots=True)
class Tally:
    n: int = 0
    right: int = 0  # right entry / right abstention / refused / right second turn
    wrong_entry: int = 0
    abstained: int = 0
    refused: int = 0
    staff: int = 0  # staff called: a request for a person, or an answer and a person too
    pleasantry: int = 0  # taken for a greeting, thanks or goodbye
    answered: int = 0  # answered with an entry (right or not)
    with_question: int = 0  # a request for a person that asks a covered question too
    question_answered: int = 0  # ... and gets that question's entry
    office: int = 0
    context: int = 0
    language: int = 0  # identified as the language the case is in
    ms: list[float] = field(default_factory=list)

    def add(self, o: Outcome) -> None:
        self.n += 1
        self.right += o.right
        self.wrong_entry += o.faq_id is not None and not o.right
        self.abstained += o.kind == "no_answer"
        self.refused += o.kind == "off_topic"
        self.staff += o.decided.decision.calls_staff  # asked for, or with an answer
        self.pleasantry += o.kind in PLEASANTRIES
        self.answered += o.faq_id is not None
        if o.case.kind == "human" and o.case.faq_ids:
            self.with_question += 1
            self.question_answered += o.faq_id in o.case.faq_ids
        self.office += o.right_office
        self.context += o.decided.decision.context_from is not None
        self.language += o.language == o.case.lang
        self.ms.append(o.ms)


def tallies(outcomes: list[Outcome]) -> dict[str, dict[str, Tally]]:
    """group (GROUPS' values, or two turns) -> language (and "all") -> Tally."""
    out: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    for o in outcomes:
        group = GROUPS.get(o.case.kind, "two turns")
        out[group][o.case.lang].add(o)
        out[group]["all"].add(o)
    return out


ORDER = (
    "covered",
    "uncovered",
    "refuse",
    "asks for a person",
    "mentions a person",
    "small talk",
    "two turns",
)


def _pct(a: int, n: int) -> str:
    return f"{a}/{n} ({a / n:.0%})" if n else "-"


def markdown(outcomes: list[Outcome]) -> str:
    groups = tallies(outcomes)
    lines: list[str] = []
    heads = {
        "covered": "| lang | covered | right entry | abstained | wrong entry | refused "
        "| staff called | its language |",
        "uncovered": "| lang | uncovered | right abstention | right office | wrong entry "
        "| refused | its language |",
        "refuse": "| lang | off-topic / injection | refused | answered with an entry "
        "| staff called | small talk |",
        "asks for a person": "| lang | asks for a person | staff called | answered "
        "| I don't know | refused | with a covered question: answered |",
        "mentions a person": "| lang | mentions a person | staff not called | answered "
        "| I don't know | refused |",
        "small talk": "| lang | greeting / thanks / goodbye | that reply | other small talk "
        "| refused | anything else |",
        "two turns": "| lang | two-turn | right 2nd entry | decided in context "
        "| first turn right |",
    }
    for group in ORDER:
        if group not in groups:
            continue
        rows = groups[group]
        lines += ["", heads[group], "|" + "---|" * (heads[group].count("|") - 1)]
        for code in [c for c in CODES if c in rows] + ["all"]:
            t = rows[code]
            name = "**all**" if code == "all" else code
            if group == "covered":
                cells = [_pct(t.right, t.n), _pct(t.abstained, t.n), _pct(t.wrong_entry, t.n)]
                cells += [_pct(t.refused, t.n), _pct(t.staff, t.n), _pct(t.language, t.n)]
            elif group == "uncovered":
                cells = [_pct(t.abstained, t.n), _pct(t.office, t.n), _pct(t.wrong_entry, t.n)]
                cells += [_pct(t.refused, t.n), _pct(t.language, t.n)]
            elif group == "refuse":
                small = t.n - t.refused - t.abstained - t.staff - t.answered
                cells = [_pct(t.refused, t.n), _pct(t.answered, t.n), _pct(t.staff, t.n)]
                cells.append(_pct(small, t.n))
            elif group == "small talk":
                other = t.pleasantry - t.right
                rest = t.n - t.pleasantry - t.refused
                cells = [_pct(t.right, t.n), _pct(other, t.n), _pct(t.refused, t.n)]
                cells.append(_pct(rest, t.n))
            elif group in ("asks for a person", "mentions a person"):
                cells = [_pct(t.right, t.n), _pct(t.answered, t.n), _pct(t.abstained, t.n)]
                cells.append(_pct(t.refused, t.n))
                if group == "asks for a person":
                    cells.append(_pct(t.question_answered, t.with_question))
            else:
                first = sum(
                    o.first_ok
                    for o in outcomes
                    if o.case.kind in TWO_TURNS and code in ("all", o.case.lang)
                )
                cells = [_pct(t.right, t.n), _pct(t.context, t.n), _pct(first, t.n)]
            lines.append(f"| {name} | {t.n} | " + " | ".join(cells) + " |")
    all_ms = [o.ms for o in outcomes]
    if all_ms:
        lines += [
            "",
            f"decision latency (LID + retrieval + rules): p50 "
            f"{statistics.median(all_ms):.0f} ms over {len(all_ms)} questions",
        ]
    return "\n".join(lines).lstrip("\n") + "\n"


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    groups = tallies(outcomes)

    def rate(group: str) -> float | None:
        t = groups.get(group, {}).get("all")
        return t.right / t.n if t and t.n else None

    return {g: rate(g) for g in ORDER}


def errors(outcomes: list[Outcome]) -> list[str]:
    out = []
    for o in outcomes:
        if o.right and (o.case.kind != "uncovered" or o.right_office):
            continue
        d, sc, best = o.decided.decision, o.decided.alone.screening, o.decided.alone.best
        route = d.route.area if d.route else None
        expected = EXPECTED.get(o.case.kind) or (
            o.case.kind if o.case.kind in PLEASANTRIES else None
        )
        out.append(
            f"- [{o.case.lang}->{o.language}] {o.case.text!r}: expected "
            f"{expected or '/'.join(o.case.faq_ids) or 'no entry'}"
            f"{' at ' + '/'.join(o.case.areas) if o.case.areas else ''}, got {d.kind}"
            f"{' and staff' if d.asks_person else ''} "
            f"{d.faq_id or route or ''}{' (in context)' if d.context_from else ''} "
            f"(best {best.entry_id if best else None} {best.score if best else 0:.3f} "
            f"q {best.question if best else 0:.3f}, uncovered {sc.area} {sc.uncovered:.3f}, "
            f"domain {sc.domain:+.2f}, {sc.intent} {sc.intent_score:.3f}, "
            f"person {sc.person:+.2f}, not me {sc.not_me:+.2f})"
        )
    return out


def sweep(outcomes: list[Outcome], engine: Engine) -> str:
    """Right answers per group at a grid of answer thresholds and uncovered margins.

    A second turn that was decided alone at the current settings has no stored search with
    the previous question (decision.decided_alone), so at other settings it is re-decided
    alone too: its "two turns" figure is an estimate."""
    base = engine.settings.retrieval
    lines = [
        "| answer threshold | uncovered margin | " + " | ".join(ORDER) + " |",
        "|---|---|" + "---|" * len(ORDER),
    ]
    for a in (0.09, 0.11, 0.13):
        for m in (-0.04, -0.02, -0.01, -0.005, 0.0, 0.005, 0.01, 0.015, 0.02, 0.04):
            s = summary(
                redecide(outcomes, replace(base, answer_threshold=a, uncovered_margin=m), engine)
            )
            cells = " | ".join("-" if v is None else f"{v:.1%}" for v in s.values())
            lines.append(f"| {a:.2f} | {m:+.3f} | {cells} |")
    return "\n".join(lines) + "\n"
