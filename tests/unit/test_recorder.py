"""Utterance recordings: written only where asked, one file per utterance, purged on time."""

from __future__ import annotations

import os
import time
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.unit.conversation_kit import build
from voice_agent.config import PrivacySettings
from voice_agent.transports.rtc.recorder import DAY, UtteranceRecorder


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
    rec = UtteranceRecorder(
        tmp_path / "audio", retention_days=7, clock=lambda: now[0], interval_clock=lambda: now[0]
    )
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
    def privacy(engine) -> None:  # type: ignore[no-untyped-def]
        engine.settings = replace(engine.settings, privacy=PrivacySettings(store_audio=store))

    engine, conv, out, citizen, _ = await build(tmp_path, settings=privacy, keep_for="abc")
    await citizen.speak(0.6)
    await citizen.quiet(0.7)
    await citizen.reply_done()
    await conv.close()  # waits for what the conversation started, the saving included
    saved = sorted((tmp_path / "var").rglob("*.wav"))
    assert [p.name for p in saved] == (["abc-001.wav"] if store else [])
    engine.close()
