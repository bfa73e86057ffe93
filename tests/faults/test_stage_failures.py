"""A stage that hangs or raises: the turn ends within the stage's limit with an error (flagged
and counted by the console) and a message in the citizen's language; other sessions and later
turns go on; /healthz's problems say which stage until it works again."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import numpy as np
import pytest

from tests.faults.kit import (
    LIMIT,
    MESSAGES,
    QUESTION,
    Builder,
    Gate,
    HangingEmbedder,
    WorkerLlm,
    WorkerStt,
    engine_with,
    faq,
    settings_for,
)
from voice_agent import events as ev
from voice_agent.conversation.engine import Engine, Session, TurnInput
from voice_agent.speech_in.audio import DecodedAudio
from voice_agent.speech_out.voices import VoiceRegistry


def spoken() -> TurnInput:
    audio = np.zeros(16000, np.float32)
    return TurnInput(audio=DecodedAudio(audio, 1.0, False), segmented=True)


async def run(engine: Engine, inp: TurnInput, session: Session) -> list[ev.Event]:
    return [e async for e in engine.turn(inp, session)]


def said(events: list[ev.Event]) -> str:
    return " ".join(e.text for e in events if isinstance(e, ev.ReplyText))


def errors(events: list[ev.Event]) -> list[str]:
    return [e.code for e in events if isinstance(e, ev.ErrorEvent)]


@pytest.fixture
def gate() -> object:
    g = Gate()
    yield g
    g.open()


async def test_stt_hanging_asks_the_citizen_to_type_and_the_next_session_is_heard(
    tmp_path: Path, gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    stt = WorkerStt(QUESTION, gate)
    engine = engine_with(tmp_path, faq(tmp_path), stt=stt)
    await engine.load_faq()
    stt.mode = "hang"
    t0 = time.monotonic()
    with caplog.at_level(logging.ERROR):
        stuck, other = await asyncio.gather(
            run(engine, spoken(), Session(language="pt")),  # this one's STT hangs
            run(engine, spoken(), Session()),  # another session, queued behind it
        )
    elapsed = time.monotonic() - t0
    assert errors(stuck) == ["stt_timeout"]
    assert said(stuck) == MESSAGES.get("type_instead", "pt")  # in the citizen's language
    assert any(isinstance(e, ev.AudioChunk) for e in stuck)  # spoken, not only shown
    assert isinstance(stuck[-1], ev.TurnEnded)
    # the other session was transcribed on a fresh thread (and a fresh model) at once
    decided = next(e for e in other if isinstance(e, ev.Decided))
    assert decided.faq_id == "sns24-line" and not errors(other)
    assert elapsed < LIMIT + 1.5
    assert stt.models == 2 and len(stt.worker.stuck) == 1
    lines = [r.getMessage() for r in caplog.records]
    assert any("stt worker" in m and "abandoned" in m for m in lines)
    assert any("stt_timeout" in m for m in lines)
    # healthz: the stage is reported; but the next transcription worked, so it has recovered
    assert "stt" not in engine.health.problems
    engine.close()


async def test_stt_raising_is_reported_until_it_works_again(tmp_path: Path, gate: Gate) -> None:
    stt = WorkerStt(QUESTION, gate)
    engine = engine_with(tmp_path, faq(tmp_path), stt=stt)
    await engine.load_faq()
    stt.mode = "raise"
    events = await run(engine, spoken(), Session(language="uk"))
    assert errors(events) == ["stt_engine_failure"]
    assert said(events) == MESSAGES.get("type_instead", "uk")
    assert engine.health.status == "degraded"
    problem = engine.health.report()["stt"]
    assert problem["code"] == "stt_engine_failure" and "out of memory" in problem["message"]
    again = await run(engine, spoken(), Session(language="uk"))
    assert problem["count"] == 1 and engine.health.problems["stt"].count == 2
    assert errors(again) == ["stt_engine_failure"]
    # typed questions still work meanwhile
    typed = await run(engine, TurnInput(text=QUESTION), Session())
    assert "808 24 24 24" in said(typed) and not errors(typed)
    stt.mode = "ok"
    heard = await run(engine, spoken(), Session())
    assert "808 24 24 24" in said(heard) and engine.health.status == "ok"
    engine.close()


async def test_retrieval_hanging_ends_the_turn_with_the_error_message(
    tmp_path: Path, gate: Gate
) -> None:
    embedder = HangingEmbedder(gate)
    engine = engine_with(tmp_path, faq(tmp_path), embedder=embedder)
    await engine.load_faq()
    t0 = time.monotonic()
    events = await run(engine, TurnInput(text="HANG what is the sns 24 number?"), Session())
    assert time.monotonic() - t0 < LIMIT + 1.0
    assert errors(events) == ["retrieval_timeout"]
    lang = next(e for e in events if isinstance(e, ev.LanguageChosen)).language
    assert said(events) == MESSAGES.get("error", lang)
    assert engine.health.problems["retrieval"].code == "retrieval_timeout"
    after = await run(engine, TurnInput(text=QUESTION), Session())  # on a fresh thread
    assert "808 24 24 24" in said(after) and "retrieval" not in engine.health.problems
    engine.close()


async def test_llm_hanging_says_the_curated_answer_instead(tmp_path: Path, gate: Gate) -> None:
    faq_dir = faq(tmp_path)
    llm = WorkerLlm(gate, settings_for(tmp_path, faq_dir).llm)
    engine = engine_with(tmp_path, faq_dir, llm=llm)
    await engine.load_faq()
    events = await run(engine, TurnInput(text=QUESTION), Session())
    assert errors(events) == ["llm_timeout"]
    assert said(events) == "Call the SNS 24 line on 808 24 24 24. In an emergency, call 112."
    ended = next(e for e in events if isinstance(e, ev.ReplyEnded))
    assert ended.mode == "curated"
    assert engine.health.problems["llm"].code == "llm_timeout"
    engine.close()


async def test_a_voice_hanging_is_replaced_by_espeak_and_reloaded(
    tmp_path: Path, gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    faq_dir = faq(tmp_path)
    settings = settings_for(tmp_path, faq_dir)
    voices_dir = settings.models_path / "voices"
    voices_dir.mkdir(parents=True)
    (voices_dir / "en_US-test-medium.onnx").write_bytes(b"\0")
    (voices_dir / "en_US-test-medium.onnx.json").write_text('{"language": {"code": "en_US"}}')
    builder = Builder(gate)
    voices = VoiceRegistry(settings, builders=lambda threads: builder)
    engine = engine_with(tmp_path, faq_dir, voices=voices)
    await engine.load_faq()
    with caplog.at_level(logging.ERROR):
        events = await run(engine, TurnInput(text=QUESTION), Session())
    chunks = [e for e in events if isinstance(e, ev.AudioChunk)]
    # every piece was spoken: the stuck one by espeak-ng, the rest by a freshly loaded voice
    assert len(chunks) >= 2 and not errors(events)
    assert builder.built == [
        "piper:en_US-test-medium", "espeak-ng:en", "piper:en_US-test-medium"
    ]  # fmt: skip
    assert "piper:en_US-test-medium" in voices.status()["failed"]
    assert any("espeak-ng speaks instead" in r.getMessage() for r in caplog.records)
    engine.close()
