"""A possible barge-in pauses the reply at once; confident speech then cancels it, and
anything else (a cough, a door, our own echo) lets it play on from where it stopped."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from aiortc import RTCPeerConnection

from tests.fakes import fake_engine
from voice_agent.config import VadSettings
from voice_agent.speech_in.vad import VadEvent
from voice_agent.transports.rtc.session import Turn, VoiceSession

CHUNK = np.zeros(320, np.float32)  # 20 ms at 16 kHz; the scripted VAD decides what it "hears"


class ScriptedVad:
    """Stands in for StreamingVad: each chunk gets the next (probability, events) pair."""

    def __init__(self, script: list[tuple[float, list[str]]]) -> None:
        self.script = list(script)
        self.probability = 0.0
        self.min_speech_ms = 0.0
        self.start_threshold = 0.5

    def process(self, chunk: np.ndarray) -> list[VadEvent]:
        self.probability, kinds = self.script.pop(0) if self.script else (0.0, [])
        return [VadEvent(k, 0.0) for k in kinds]


@pytest.fixture
async def session(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "faq" / "entries").mkdir(parents=True)
    engine = fake_engine(tmp_path, tmp_path / "faq")
    engine.settings = replace(engine.settings, vad=VadSettings(barge_in_confirm_ms=60))
    s = VoiceSession("s", engine, RTCPeerConnection(), engine.bus, "en", lambda _: None)
    s.active = True
    s.turn = Turn("t1", asyncio.ensure_future(asyncio.sleep(30)), 0.0)
    s.track.push("t1", np.full(48_000, 3000, np.int16))  # one second of reply still to play
    s.start_turn = lambda inp: None  # type: ignore[method-assign]  # the next question: not here
    yield s
    await s.close()
    engine.close()


def sent(s: VoiceSession) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(m) for m in s._pending]


async def hear(s: VoiceSession, script: list[tuple[float, list[str]]]) -> None:
    s._vad = ScriptedVad(script)  # type: ignore[assignment]
    for _ in script:
        await s._hear(CHUNK)


async def test_likely_speech_pauses_the_reply_and_confident_speech_cancels_it(
    session: VoiceSession,
) -> None:
    before = session.track.queued_seconds()
    await hear(session, [(0.1, []), (0.6, [])])
    assert session.track.paused and session.turn is not None
    assert not session.track._next_samples().any()  # silence goes out, nothing is consumed
    assert session.track.queued_seconds() == before
    await hear(session, [(0.9, ["start"])])
    assert session.turn is None and not session.track.busy and not session.track.paused
    assert {"type": "reply_end", "cancelled": True, "reason": "barge-in"} in sent(session)


async def test_a_short_noise_lets_the_reply_play_on_where_it_stopped(
    session: VoiceSession,
) -> None:
    await hear(session, [(0.6, []), (0.3, [])])
    assert session.track.paused
    await asyncio.sleep(0.07)  # longer than barge_in_confirm_ms without confident speech
    await hear(session, [(0.2, [])])
    assert not session.track.paused and session.turn is not None
    assert session.track._next_samples().max() == 3000  # the reply continues
    assert not any(m.get("cancelled") for m in sent(session))


async def test_our_own_echo_does_not_pause_the_reply(session: VoiceSession) -> None:
    session._is_echo = lambda heard=None: True  # type: ignore[method-assign]
    await hear(session, [(0.95, []), (0.95, ["start"])])
    assert not session.track.paused and session.turn is not None
    assert not any(m.get("cancelled") for m in sent(session))
