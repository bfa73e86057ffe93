"""Speech-to-text on a Wyoming server: wyoming-faster-whisper started by the test on loopback
with the installed Whisper model, and servers that are down, hang or answer garbage (the
local Whisper answers then, and it is logged)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest

from tests.remote.conftest import words
from tests.remote.servers import BadServer, free_port
from voice_agent.config import Settings
from voice_agent.remote import factory
from voice_agent.remote.wyoming_stt import RemoteStt
from voice_agent.speech_in.stt import WhisperStt

pytestmark = pytest.mark.models

TIMEOUT_S = 2.0
HEARD = {"where", "number", "portugal"}  # "tax" is sometimes heard as "text"


class LocalStt:
    """Builds the local Whisper (the real one, loaded once per module); records when."""

    def __init__(self, model: WhisperStt) -> None:
        self.model = model
        self.asked_at: list[float] = []

    def __call__(self) -> WhisperStt:
        self.asked_at.append(time.monotonic())
        return self.model


@pytest.fixture(scope="module")
def whisper(base_settings: Settings) -> Iterator[WhisperStt]:
    s = base_settings
    model = WhisperStt(s.model_path(s.stt.model_dir), s.stt, s.models_path)
    yield model
    model.close()


@pytest.fixture()
def local(whisper: WhisperStt) -> LocalStt:
    return LocalStt(whisper)


def remote(settings: Settings, url: str, local: LocalStt, timeout_s: float) -> RemoteStt:
    stt = replace(settings.stt, url=url, remote_timeout_s=timeout_s, connect_timeout_s=1.0)
    engine = factory.speech_to_text(replace(settings, stt=stt), local)
    assert isinstance(engine, RemoteStt)
    return engine


async def test_transcript_comes_from_the_server(
    base_settings: Settings, whisper_url: str, local: LocalStt, question_audio: np.ndarray
) -> None:
    stt = remote(base_settings, whisper_url, local, timeout_s=60)
    await stt.load()  # the warm-up only asks the server who it is
    tr = await stt.transcribe(question_audio)
    assert words(tr.text) >= HEARD, tr.text
    assert not tr.unintelligible and tr.timings_ms["remote"] > 0
    given = await stt.transcribe(question_audio, language="en")
    assert words(given.text) >= HEARD and given.language == "en"
    assert local.asked_at == []
    assert stt.name == f"wyoming:{whisper_url}"


async def test_no_server_contacted_without_a_url(base_settings: Settings, local: LocalStt) -> None:
    assert factory.speech_to_text(base_settings, local) is local.model


@pytest.mark.parametrize("fault", ["down", "hang", "garbage"])
async def test_failing_server_gives_the_local_transcript_in_time(
    base_settings: Settings,
    local: LocalStt,
    question_audio: np.ndarray,
    fault: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="voice_agent.remote")
    with BadServer("garbage" if fault == "garbage" else "hang") as bad:
        port = free_port() if fault == "down" else bad.port
        stt = remote(base_settings, f"tcp://127.0.0.1:{port}", local, TIMEOUT_S)
        t0 = time.monotonic()
        tr = await stt.transcribe(question_audio)
    assert local.asked_at and local.asked_at[0] - t0 < TIMEOUT_S + 1.0
    assert words(tr.text) >= HEARD, tr.text
    assert tr.language_probs  # the local model's own result (the server gives no such thing)
    failures = [r.getMessage() for r in caplog.records if "remote speech-to-text" in r.getMessage()]
    assert len(failures) == 1 and f"127.0.0.1:{port}" in failures[0], failures
    reason = {"down": "cannot connect", "hang": "no answer within", "garbage": "not a Wyoming"}
    assert reason[fault] in failures[0]


async def test_warm_up_with_the_server_down_loads_the_local_model(
    base_settings: Settings, local: LocalStt, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="voice_agent.remote")
    stt = remote(base_settings, f"tcp://127.0.0.1:{free_port()}", local, TIMEOUT_S)
    await stt.load()
    assert len(local.asked_at) == 1 and stt.streak.failing
    assert any("cannot connect" in r.getMessage() for r in caplog.records)
