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


def spoken(text: str, lang: str, folder: Path, *, accented: bool = False) -> np.ndarray:
    """A question as 16 kHz audio in the language's default voice (Piper for English, Kokoro
    where it is the default, espeak-ng otherwise), or Kokoro's accented voice (`accented`)."""
    out = folder / f"{lang}-{'accented-' if accented else ''}{abs(hash(text))}.wav"
    if not out.exists():
        config: list[str] = []
        if accented:
            toml = folder / f"accented-{lang}.toml"
            toml.write_text(f'[tts]\naccented_voices = ["{lang}"]\n', encoding="utf-8")
            config = ["--config", str(toml)]
        subprocess.run(
            [sys.executable, "-m", "voice_agent.cli", *config, "say", "--lang", lang, text,
             "-o", str(out)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )  # fmt: skip
    return decode_audio(out, max_seconds=60).samples
