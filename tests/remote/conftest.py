"""The remote-engine tests' settings and real servers, started once per session on loopback:
llama.cpp's OpenAI-compatible server (llama-cpp-python's `llama_cpp.server`) with the installed
GGUF, wyoming-faster-whisper with the installed Whisper, wyoming-piper with the installed
Piper voice. No model is downloaded (HF_HUB_OFFLINE=1, local files only)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.remote.servers import free_port, process_server
from voice_agent.config import Settings, load_settings
from voice_agent.models import read_manifest
from voice_agent.speech_in.audio import STT_RATE, resample_int16
from voice_agent.speech_out.engines import PiperTts, scan_piper_voices

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    s = replace(load_settings(root=ROOT), var_dir=Path("var/test"))
    if len(read_manifest(s.models_path)) < 5:
        pytest.fail("models are not installed: run `make test` (it runs `models install`)")
    return s


@pytest.fixture(scope="session")
def llama_url(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    gguf = base_settings.model_path(base_settings.llm.model_file)
    args = ["llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", "2048", "--n_threads", "2"]  # fmt: skip
    with process_server(args, port, tmp_path_factory.mktemp("llama") / "server.log"):
        yield f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="session")
def whisper_url(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    data = tmp_path_factory.mktemp("whisper")
    model = base_settings.model_path(base_settings.stt.model_dir)
    args = ["wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{port}", "--model", str(model),
            "--stt-library", "faster-whisper", "--local-files-only", "--data-dir", str(data),
            "--compute-type", "int8", "--beam-size", "1", "--cpu-threads", "2"]  # fmt: skip
    with process_server(args, port, data / "server.log"):
        yield f"tcp://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def piper_url(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    voices = base_settings.models_path / base_settings.tts.voices_dir
    log = tmp_path_factory.mktemp("piper") / "server.log"
    args = ["wyoming_piper", "--uri", f"tcp://127.0.0.1:{port}", "--voice", "en_US-joe-medium",
            "--data-dir", str(voices), "--local-files-only"]  # fmt: skip
    with process_server(args, port, log):
        yield f"tcp://127.0.0.1:{port}"


QUESTION = "Where do I get a tax number in Portugal?"


@pytest.fixture(scope="session")
def question_audio(base_settings: Settings) -> np.ndarray:
    """The question spoken by the local Piper voice: 16 kHz mono float32."""
    voices = scan_piper_voices(base_settings.models_path / base_settings.tts.voices_dir)
    joe = next(v for v in voices if v.stem == "en_US-joe-medium")
    spoken = PiperTts(joe).synthesize(QUESTION)
    pcm = resample_int16(spoken.pcm, spoken.sample_rate, STT_RATE)
    return pcm.astype(np.float32) / 32768.0


def words(text: str) -> set[str]:
    return set("".join(c.lower() if c.isalnum() else " " for c in text).split())
