"""Utterance recordings: written only where asked, one file per utterance, purged on time."""

from __future__ import annotations

import asyncio
import os
import time
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from aiortc import RTCPeerConnection

from tests.fakes import fake_engine
from voice_agent.config import PrivacySettings
from voice_agent.transports.rtc.manager import SessionManager
from voice_agent.transports.rtc.recorder import DAY, UtteranceRecorder
from voice_agent.transports.rtc.session import VoiceSession


def test_each_utterance_is_a_16k_wav_numbered_per_session(tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    rec = UtteranceRecorder(tmp_path / "audio", retention_days=7, clock=lambda: now[0])
    tone = 0.3 * np.sin(np.arange(8000) / 16000 * 2 * np.pi * 440).astype(np.float32)
    a = rec.save("s1", tone)
    b = rec.save("s1", tone[:1600])
    c = rec.save("s2", tone)
    assert [p.name for p in (a, b, c)] == ["s1-001.wav", "s1-002.wav", "s2-001.wav"]
    assert a.parent.name == "2027-01-15"
    with wave.open(str(a)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getnframes()) == (16000, 1, 8000)
        pcm = np.frombuffer(w.readframes(8000), np.int16)
    assert abs(int(pcm.max()) - int(0.3 * 32767)) < 50


def test_recordings_older_than_the_retention_are_deleted(tmp_path: Path) -> None:
    now = [time.time()]  # file times are real
    rec = UtteranceRecorder(tmp_path / "audio", retention_days=7, clock=lambda: now[0])
    old = rec.save("old", np.zeros(1600, np.float32))
    os.utime(old, (now[0] - 8 * DAY, now[0] - 8 * DAY))
    fresh = rec.save("new", np.zeros(1600, np.float32))
    assert rec.purge() == 1
    assert not old.exists() and fresh.exists()
    # the hourly check runs on a later save, and empty day folders go too
    os.utime(fresh, (now[0] - 8 * DAY, now[0] - 8 * DAY))
    now[0] += 2 * 3600
    later = rec.save("new", np.zeros(1600, np.float32))
    assert not fresh.exists() and later.exists()
    assert [p.name for p in (tmp_path / "audio").iterdir()] == [later.parent.name]


@pytest.mark.parametrize("store", [False, True])
async def test_a_voice_session_keeps_utterances_only_when_the_operator_says_so(
    tmp_path: Path, store: bool
) -> None:
    (tmp_path / "faq" / "entries").mkdir(parents=True)
    engine = fake_engine(tmp_path, tmp_path / "faq")
    engine.settings = replace(engine.settings, privacy=PrivacySettings(store_audio=store))
    manager = SessionManager(engine, engine.settings.server, engine.bus)
    session = VoiceSession("abc", engine, RTCPeerConnection(), engine.bus, "en", lambda s: None)
    session.recorder = manager.recorder
    session.start_turn = lambda inp: None  # type: ignore[method-assign]  # only the audio matters
    session._speaking = True
    session._utterance = [np.full(3200, 0.1, np.float32)]
    session._speech_ended()
    await asyncio.gather(*session._tasks)
    saved = sorted((tmp_path / "var").rglob("*.wav"))
    assert [p.name for p in saved] == (["abc-001.wav"] if store else [])
    await session.close()
    engine.close()
