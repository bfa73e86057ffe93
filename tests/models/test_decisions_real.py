"""The decision on the real e5 model: follow-ups in context, "I don't know" for in-domain
questions the FAQ lacks, and the held-out sets kept apart from the training exemplars.

The held-out sets (tests/data/heldout_*.jsonl, followups.jsonl) were written before any
tuning and are never tuned on; these tests guard the measured figures (README, "Calibration")
from regressions. Cases whose expected entries are not in the FAQ being tested are left out
(and counted), so the tests hold on any FAQ that has the entries they name.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from tests.models import heldout_guard
from voice_agent.answer import evaluate
from voice_agent.conversation.engine import Engine

DATA = Path(__file__).resolve().parents[1] / "data"


def test_no_training_exemplar_paraphrases_a_held_out_question(engine: Engine) -> None:
    exemplars, held = heldout_guard.exemplars(), heldout_guard.held_out_texts()
    embed = engine.retriever.embed_queries
    a, b = asyncio.run(embed(exemplars)), asyncio.run(embed(held))
    sims = a @ b.T
    worst = np.unravel_index(int(np.argmax(sims)), sims.shape)
    assert sims.max() < 0.95, f"{exemplars[worst[0]]!r} ~ {held[worst[1]]!r}"


def _cases(engine: Engine, name: str) -> tuple[list[evaluate.Case], int]:
    cases = evaluate.read_cases(DATA / f"{name}.jsonl")
    known = set(engine.retriever.entries)
    keep = [
        c
        for c in cases
        if all(i in known for i in c.faq_ids)
        and (c.first_faq_id is None or c.first_faq_id in known)
    ]
    return keep, len(cases) - len(keep)


def _measured(engine: Engine, name: str) -> list[evaluate.Outcome]:
    """Every case of tests/data/{name}.jsonl decided, and the table printed."""
    outcomes = asyncio.run(evaluate.run_cases(engine, evaluate.read_cases(DATA / f"{name}.jsonl")))
    print(f"\n{name}\n" + evaluate.markdown(outcomes))
    return outcomes


def test_follow_ups_are_decided_in_context_and_switches_are_not(engine: Engine) -> None:
    cases, left_out = _cases(engine, "followups")
    outcomes = asyncio.run(evaluate.run_cases(engine, cases))
    print(f"\n{len(cases)} two-turn exchanges ({left_out} left out: entry not in this FAQ)")
    print(evaluate.markdown(outcomes))
    follow = [o for o in outcomes if o.case.kind == "followup" and o.first_ok]
    switch = [o for o in outcomes if o.case.kind == "switch" and o.first_ok]
    assert len(follow) >= 30 and len(switch) >= 15
    assert sum(o.right for o in follow) / len(follow) >= 0.8
    assert sum(o.decided.decision.context_from is not None for o in follow) / len(follow) >= 0.8
    assert sum(o.right for o in switch) / len(switch) >= 0.8


def test_in_domain_questions_the_faq_lacks_are_not_answered(engine: Engine) -> None:
    cases, _ = _cases(engine, "heldout_uncovered")
    outcomes = asyncio.run(evaluate.run_cases(engine, cases))
    print("\n" + evaluate.markdown(outcomes))
    abstained = sum(o.kind == "no_answer" for o in outcomes) / len(outcomes)
    office = sum(o.right_office for o in outcomes) / len(outcomes)
    assert abstained >= 0.85 and office >= 0.6
    said = [o for o in outcomes if o.kind == "no_answer"]
    assert all(o.decided.decision.route is not None for o in said)


def test_requests_for_a_person_call_staff_and_questions_about_people_do_not(engine: Engine) -> None:
    """dev_handoff (tuned on); handoff_fresh, handoff_contrast and handoff_end_blind (written
    blind, each measured once after the choices it judges): README, "How answers are chosen".
    Guards the measured 96/100 requests on dev_handoff and 66/80 on handoff_end_blind (52/80
    before a request at the end of a told problem was looked for, 61/80 before an answered
    question's end was), and at most 2 lines per set that only mention a person calling
    staff."""
    sets = (  # (set, requests that call staff, requests answered with an entry)
        ("dev_handoff", 0.9, 0.06),
        ("handoff_fresh", 0.85, 0.06),
        ("handoff_contrast", 0.9, 0.06),
        ("handoff_end_blind", 0.8, 0.1),  # 8/80: a question before the request is answered
    )
    for name, asks_min, answered_max in sets:
        outcomes = _measured(engine, name)
        asks = [o for o in outcomes if o.case.kind == "human"]
        mentions = [o for o in outcomes if o.case.kind == "not_human"]
        assert sum(o.right for o in asks) / len(asks) >= asks_min, name
        assert sum(not o.right for o in mentions) <= 2, name
        # hardly any is answered with an entry it did not ask about
        assert sum(o.faq_id is not None for o in asks) <= answered_max * len(asks), name


def test_a_covered_question_with_a_request_for_a_person_calls_staff_too(engine: Engine) -> None:
    """handoff_answered_blind (written blind, per language 3 covered questions asked together
    with a request for a person and 3 that only mention people; README, "How answers are
    chosen"). Guards the measured 53/60 requests calling staff (28/60 before the end of an
    answered question was looked at, 40/60 before any of its clauses was), 56/60 right entries
    on the others and 4/60 of them calling staff. On handoff_mixed_blind 86/100 requests call
    staff (72/100 before any clause was looked at, 83/100 before the start of a long one)."""
    outcomes = _measured(engine, "handoff_answered_blind")
    asks = [o for o in outcomes if o.case.kind == "human"]
    covered = [o for o in outcomes if o.case.kind == "faq"]
    assert sum(o.decided.decision.calls_staff for o in asks) >= 0.8 * len(asks)
    assert sum(o.right for o in covered) >= 0.9 * len(covered)
    assert sum(o.decided.decision.calls_staff for o in covered) <= 5
    mixed = [o for o in _measured(engine, "handoff_mixed_blind") if o.case.kind == "human"]
    assert sum(o.decided.decision.calls_staff for o in mixed) >= 0.8 * len(mixed)


def test_a_request_woven_into_a_covered_question_calls_staff_too(engine: Engine) -> None:
    """handoff_woven_blind (written blind: per language 3 one-sentence covered questions that
    ask someone here to explain them, 3 that only mention people). Guards the measured 40/60
    requests calling staff (27/60 before the start of a long clause was screened) and 1/60
    covered questions calling staff (1/60 before)."""
    outcomes = _measured(engine, "handoff_woven_blind")
    asks = [o for o in outcomes if o.case.kind == "human"]
    covered = [o for o in outcomes if o.case.kind == "faq"]
    assert sum(o.decided.decision.calls_staff for o in asks) >= 0.6 * len(asks)
    assert sum(o.faq_id in o.case.faq_ids for o in asks) >= 0.55 * len(asks)  # 37/60
    assert sum(o.decided.decision.calls_staff for o in covered) <= 3


def test_a_request_for_a_person_beside_a_covered_question_gets_the_answer_too(
    engine: Engine,
) -> None:
    """A request for a person that also asks a covered question ("Queria falar com um
    funcionário. Como é que tiro o NIF?") is answered with its entry and calls staff; a
    request beside a problem told, or alone, gets no entry. handoff_answered_blind (51/60
    requests answered with their entry, 31/60 before) and handoff_mixed_blind (written blind:
    per language 3 requests with a covered question, 2 requests with none, 1 covered question
    that only mentions people; 40/60, 30/60 before, and 1 of the 40 without one, as before)."""
    for name, answered_min in (("handoff_answered_blind", 0.8), ("handoff_mixed_blind", 0.6)):
        outcomes = _measured(engine, name)
        with_question = [o for o in outcomes if o.case.kind == "human" and o.case.faq_ids]
        alone = [o for o in outcomes if o.case.kind == "human" and not o.case.faq_ids]
        answered = [o for o in with_question if o.faq_id in o.case.faq_ids]
        assert len(answered) >= answered_min * len(with_question), name
        assert sum(o.faq_id is not None for o in alone) <= 2, name


def test_asking_what_the_assistant_is_gets_the_truth_not_staff(engine: Engine) -> None:
    from voice_agent.answer.decision import decide_question

    async def kind(text: str, lang: str) -> str:
        settings = engine.settings.retrieval
        return (await decide_question(engine.retriever, text, lang, settings)).decision.kind

    for text, lang in (("am I speaking with a computer?", "en"), ("você é um robô?", "pt")):
        assert asyncio.run(kind(text, lang)) == "identity", text
    assert asyncio.run(kind("operator", "en")) == "human"


def test_a_greeting_before_a_question_does_not_get_it_refused(engine: Engine) -> None:
    """opening_fresh and opening_blind2 (questions after a greeting or thanks, written blind;
    README, "How answers are chosen"). Guards the measured 113/120 and 138/140 right entries
    (112 and 135 before a refused question was reconsidered without its greeting) and the
    off-topic lines: none answered with an entry."""
    for name, right_min in (("opening_fresh", 0.93), ("opening_blind2", 0.97)):
        outcomes = _measured(engine, name)
        covered = [o for o in outcomes if o.case.kind == "faq"]
        off = [o for o in outcomes if o.case.kind == "off_topic"]
        assert sum(o.right for o in covered) / len(covered) >= right_min, name
        assert sum(o.kind == "off_topic" for o in off) / len(off) >= 0.9, name
        assert not [o.case.text for o in off if o.kind == "faq"], name


def test_short_questions_are_not_taken_for_goodbyes(engine: Engine) -> None:
    """dev_smalltalk (tuned on) and smalltalk_blind (written blind, measured once): greetings,
    thanks and goodbyes get their reply; short off-topic questions with time words ("weather
    tomorrow?") were taken for goodbyes, 11 of 60 and 6 of 80, now 3 and 1 (README)."""
    for name in ("dev_smalltalk", "smalltalk_blind"):
        outcomes = _measured(engine, name)
        said = [o for o in outcomes if o.case.kind in evaluate.PLEASANTRIES]
        off = [o for o in outcomes if o.case.kind == "off_topic"]
        assert sum(o.right for o in said) / len(said) >= 0.95, name
        assert sum(o.kind in evaluate.PLEASANTRIES for o in off) / len(off) <= 0.05, name
