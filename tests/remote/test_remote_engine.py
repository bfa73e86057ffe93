"""A whole spoken turn with all three engines remote: `Engine.create` with `[stt] url`,
`[llm] url` and `[tts] url` set, against the real servers the test started on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest

from tests.remote.conftest import ROOT, words
from voice_agent.answer.calibrate import pick, run
from voice_agent.answer.evaluate import read_cases
from voice_agent.config import Settings
from voice_agent.conversation.ask import ask
from voice_agent.conversation.engine import Engine, TurnInput
from voice_agent.remote.factory import reply_generator
from voice_agent.remote.openai_llm import RemoteGenerator
from voice_agent.remote.wyoming_stt import RemoteStt
from voice_agent.remote.wyoming_tts import RemoteVoices
from voice_agent.speech_in.audio import STT_RATE, DecodedAudio

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def engine(
    base_settings: Settings, whisper_url: str, llama_url: str, piper_url: str
) -> Iterator[Engine]:
    s = base_settings
    settings = replace(
        s,
        stt=replace(s.stt, url=whisper_url, remote_timeout_s=60),
        llm=replace(s.llm, url=llama_url, remote_timeout_s=60, trusted_languages=("en",)),
        tts=replace(
            s.tts, url=piper_url, remote_timeout_s=60, remote_voices={"en": "en_US-joe-medium"}
        ),
    )
    eng = Engine.create(settings)
    yield eng
    eng.close()


async def test_spoken_question_answered_by_the_remote_engines(
    engine: Engine, question_audio: np.ndarray
) -> None:
    await engine.load_faq()
    seconds = len(question_audio) / STT_RATE
    audio = DecodedAudio(question_audio, seconds, truncated=False)
    out = await ask(engine, TurnInput(audio=audio))
    r = out.result
    assert {"where", "number", "portugal"} <= words(r["transcript"])
    assert r["language"] == "en" and r["faq_id"] == "nif"
    assert r["tts"] == "wyoming:en_US-joe-medium" and len(out.pcm) > out.sample_rate
    assert r["mode"] in ("rephrased", "curated", "mixed")  # grounded either way
    stt, voices, llm = engine.stt, engine.voices, engine.answerer._llm
    assert isinstance(stt, RemoteStt) and isinstance(voices, RemoteVoices)
    assert isinstance(llm, RemoteGenerator)
    for streak in (stt.streak, voices.streak, llm.streak):
        assert not streak.failing and streak.fallbacks == 0  # no local engine was needed


async def test_calibration_runs_the_dev_set_through_the_remote_llm(engine: Engine) -> None:
    await engine.load_faq()
    cases = [c for c in pick(read_cases(ROOT / "tests/data/dev_questions.jsonl"), 1)
             if c.lang in ("en", "pt")]  # fmt: skip
    llm = reply_generator(engine.settings, lambda: pytest.fail("the local LLM was needed"))
    figures = await run(engine, llm, cases)
    assert set(figures) == {"en", "pt"}
    for f in figures.values():
        assert f.questions == 1 and f.answered <= 1 and len(f.ms) == f.answered
        assert f.grounded + f.fell_back <= f.answered  # an answer is one or the other or mixed
        assert f.right_entry <= f.decided_right
    assert isinstance(llm, RemoteGenerator) and llm.streak.fallbacks == 0
