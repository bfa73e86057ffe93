"""A real server (subprocess, loopback only) and scripted WebRTC citizens (aiortc)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bench.server import ROOT, running_server
from voice_agent.speech_in.audio import decode_audio
from voice_agent.transports.rtc.manager import restrict_ice_addresses


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    restrict_ice_addresses(("127.0.0.1",))  # this process's aiortc clients: loopback only
    settings = (
        "offers_per_second = 50.0\noffer_burst = 200\nsession_idle_seconds = 30.0\n"
        "max_active_sessions = 8\n"
    )
    with running_server(tmp_path_factory.mktemp("srv"), settings) as (url, _proc):
        yield url


def spoken(text: str, lang: str, folder: Path) -> np.ndarray:
    """A question as 16 kHz audio: Piper for English, espeak-ng otherwise."""
    out = folder / f"{lang}-{abs(hash(text))}.wav"
    if not out.exists():
        subprocess.run(
            [sys.executable, "-m", "voice_agent.cli", "say", "--lang", lang, text, "-o", str(out)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    return decode_audio(out, max_seconds=60).samples
