"""`voice-agent eval`'s scoring: requests for a person, lines that only mention one, small talk."""

from __future__ import annotations

from voice_agent.answer import evaluate
from voice_agent.answer.decision import Decided, Decision
from voice_agent.answer.retrieval import RetrievalResult
from voice_agent.answer.screening import Screening

NOTHING_FOUND = RetrievalResult((), Screening(None, 1.0, None, 0.0))


def outcome(text: str, kind: str, decided_kind: str, lang: str = "en") -> evaluate.Outcome:
    decision = Decision(decided_kind, lang, None, 0.0, decided_kind in ("human", "no_answer"))
    case = evaluate.Case(text, lang, (), kind)
    return evaluate.Outcome(case, lang, Decided(decision, NOTHING_FOUND), 1.0)


def test_a_request_for_a_person_is_right_only_when_staff_are_called() -> None:
    assert outcome("a person please", "human", "human").right
    for other in ("no_answer", "off_topic", "greeting"):
        assert not outcome("a person please", "human", other).right


def test_a_line_that_only_mentions_a_person_is_wrong_when_staff_are_called() -> None:
    assert not outcome("who programmed you?", "not_human", "human").right
    for other in ("no_answer", "off_topic"):
        assert outcome("who programmed you?", "not_human", other).right


def test_the_report_has_a_table_for_each_and_counts_staff_called_on_off_topic_lines() -> None:
    outcomes = [
        outcome("operator!", "human", "human"),
        outcome("get me someone", "human", "no_answer", "pt"),
        outcome("is the clerk at the tax office rude?", "not_human", "human"),
        outcome("tell me a joke", "off_topic", "human"),
    ]
    report = evaluate.markdown(outcomes)
    assert "| lang | asks for a person | staff called |" in report
    assert "| **all** | 2 | 1/2 (50%) | 0/2 (0%) | 1/2 (50%) | 0/2 (0%) |" in report
    assert "| lang | mentions a person | staff not called |" in report
    assert "| **all** | 1 | 0/1 (0%) |" in report
    refuse = "| **all** | 1 | 0/1 (0%) | 0/1 (0%) | 1/1 (100%) | 0/1 (0%) |"  # staff called
    assert refuse in report
    assert evaluate.summary(outcomes)["asks for a person"] == 0.5
    errors = evaluate.errors(outcomes)
    assert len(errors) == 3
    assert "'get me someone': expected staff called, got no_answer" in errors[0]


def test_small_talk_is_right_only_as_that_reply_and_off_topic_taken_for_it_is_counted() -> None:
    outcomes = [
        outcome("see you tomorrow", "goodbye", "goodbye"),
        outcome("thanks a lot", "thanks", "greeting"),
        outcome("hi there", "greeting", "off_topic"),
        outcome("weather tomorrow?", "off_topic", "goodbye"),
        outcome("what time is it?", "off_topic", "off_topic"),
    ]
    # an off-topic line right is one without an entry or staff; the table shows small talk apart
    assert [o.right for o in outcomes] == [True, False, False, True, True]
    report = evaluate.markdown(outcomes)
    assert "| lang | greeting / thanks / goodbye | that reply | other small talk |" in report
    assert "| **all** | 3 | 1/3 (33%) | 1/3 (33%) | 1/3 (33%) | 0/3 (0%) |" in report
    # refuse: refused, answered with an entry, staff called, small talk
    assert "| **all** | 2 | 1/2 (50%) | 0/2 (0%) | 0/2 (0%) | 1/2 (50%) |" in report
    errors = evaluate.errors(outcomes)
    assert "'thanks a lot': expected thanks, got greeting" in errors[0]
