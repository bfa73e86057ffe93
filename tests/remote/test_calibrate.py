"""`voice-agent llm calibrate`: which languages are trusted, and what the service reads back."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.remote.conftest import ROOT
from voice_agent.answer.calibrate import (
    Criteria,
    Figures,
    calibration_path,
    markdown,
    model_id,
    pick,
    report,
    trusted_languages,
)
from voice_agent.answer.evaluate import read_cases
from voice_agent.cli import main
from voice_agent.config import Settings


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(root=tmp_path)


def good(n: int = 10) -> Figures:
    return Figures(questions=n, decided_right=n, answered=n, grounded=n, fell_back=0,
                   right_entry=n, ms=[100.0] * n)  # fmt: skip


def test_criteria_decide_trust() -> None:
    c = Criteria()
    assert good().trusted(c)
    assert not replace(good(), grounded=8).trusted(c)  # 80 % grounded
    assert not replace(good(), fell_back=2).trusted(c)  # 20 % fell back
    assert not replace(good(), right_entry=8).trusted(c)  # lost 2 of 10 right entries
    assert not good(4).trusted(c)  # too few answers to say
    # the rephrasing is judged against the decision's own right entries, not against 100 %
    assert replace(good(), decided_right=7, right_entry=7).trusted(c)


def test_the_service_reads_the_calibration_of_its_own_model(settings: Settings) -> None:
    figures = {"en": good(), "pt": replace(good(), grounded=3)}
    data = report(figures, Criteria(), settings, "test-model", "dev.jsonl")
    assert data["trusted"] == ["en"] and data["languages"]["pt"]["trusted"] is False
    assert "| en | 10 | 10 | 100% | 0% | 10/10 (10/10) | 100 | yes |" in markdown(data)
    path = calibration_path(settings)
    assert not path.exists() and trusted_languages(settings) == frozenset()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    assert trusted_languages(settings) == {"en"}
    # figures measured for another model are not used
    other = replace(settings, llm=replace(settings.llm, url="http://gpu:8000/v1"))
    assert model_id(other) != model_id(settings) and trusted_languages(other) == frozenset()
    # languages named by hand win
    by_hand = replace(settings, llm=replace(settings.llm, trusted_languages=("fr",)))
    assert trusted_languages(by_hand) == {"fr"}
    path.write_text("{not json", encoding="utf-8")
    assert trusted_languages(settings) == frozenset()


def test_pick_takes_covered_questions_per_language() -> None:
    cases = read_cases(ROOT / "tests" / "data" / "dev_questions.jsonl")
    picked = pick(cases, 2)
    assert all(c.kind == "faq" and c.faq_ids for c in picked)
    langs = [c.lang for c in picked]
    assert len(set(langs)) == 20 and all(langs.count(code) == 2 for code in set(langs))
    assert len(pick(cases, None)) == sum(c.kind == "faq" for c in cases)


def test_held_out_sets_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["llm", "calibrate", "--dev", "tests/data/heldout_covered.jsonl"]) == 2
    assert "never tuned on" in capsys.readouterr().err
