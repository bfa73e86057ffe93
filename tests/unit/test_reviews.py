"""Review records per language: only publication writes them; the report counts them."""

from __future__ import annotations

import datetime as dt

import pytest

from voice_agent.content import reviews
from voice_agent.content.faq import FaqFormatError, parse_entry

AT = dt.datetime(2026, 12, 4, 12).timestamp()


def body(status: str = "reviewed", answer: str = "Ligue 808 24 24 24.") -> dict:  # type: ignore[type-arg]
    loc = {"status": status, "question": "Número do SNS 24?", "paraphrases": [], "answer": answer}
    return {"id": "x", "topic": "health", "sources": [], "languages": {"pt": loc}}


def test_a_record_sent_by_a_client_is_dropped() -> None:
    sent = body()
    sent["last_reviewed"] = "2026-11-20"
    sent["languages"]["pt"].update(last_reviewed="2026-12-01", reviewed_by="me")
    kept = reviews.carry(sent, None)
    assert "last_reviewed" not in kept and "reviewed_by" not in kept["languages"]["pt"]


def test_publication_stamps_and_unchanged_text_keeps_its_record() -> None:
    first, stamped = reviews.stamp(body(), None, "rita", AT)
    assert stamped == ["pt"]
    assert first["languages"]["pt"]["last_reviewed"] == "2026-12-04"
    again, stamped = reviews.stamp(body(), first, "ana", AT + 86_400 * 30)
    assert stamped == [] and again["languages"]["pt"]["reviewed_by"] == "rita"
    changed, stamped = reviews.stamp(body(answer="Ligue 112."), first, "ana", AT)
    assert stamped == ["pt"] and changed["languages"]["pt"]["reviewed_by"] == "ana"
    machine, stamped = reviews.stamp(body("machine-translated"), first, "ana", AT)
    assert stamped == [] and "reviewed_by" not in machine["languages"]["pt"]


def test_parse_accepts_only_whole_records_on_reviewed_languages() -> None:
    ok = body()
    ok["languages"]["pt"].update(last_reviewed=dt.date(2026, 12, 4), reviewed_by="rita")
    assert parse_entry(ok, "t").languages["pt"].reviewed_by == "rita"
    for bad in (
        {"last_reviewed": "2026-12-04"},
        {"last_reviewed": "yesterday", "reviewed_by": "x"},
    ):
        b = body()
        b["languages"]["pt"].update(bad)
        with pytest.raises(FaqFormatError):
            parse_entry(b, "t")
    b = body("draft")
    b["languages"]["pt"].update(last_reviewed="2026-12-04", reviewed_by="rita")
    with pytest.raises(FaqFormatError, match="only a reviewed language"):
        parse_entry(b, "t")


def test_report_per_language() -> None:
    reviewed, _ = reviews.stamp(body(), None, "rita", AT)
    old = body()
    old["id"] = "y"
    old["languages"]["pt"].update(last_reviewed="2024-01-02", reviewed_by="rui")
    unrecorded = body()
    unrecorded["id"] = "z"
    entries = [parse_entry(b, "t") for b in (reviewed, old, unrecorded)]
    text = reviews.report(entries, dt.date(2026, 12, 4), 365)
    pt = next(line for line in text.splitlines() if line.startswith("pt "))
    assert pt.split() == ["pt", "3", "2", "0", "0", "1", "2024-01-02", "1"]
    assert "missing languages: en 3" in text
