"""Real models: speech in, speech out, heard back through speech-to-text."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from voice_agent.conversation.ask import ask
from voice_agent.speech_in.audio import decode_audio, write_wav
from voice_agent.conversation.engine import Engine, TurnInput
from voice_agent.speech_in.vad import StreamingVad, speech_span

from tests.models.conftest import run_cli


def words(text: str) -> set[str]:
    return set("".join(c.lower() if c.isalnum() else " " for c in text).split())


@pytest.fixture(scope="module")
def english_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wav") / "en.wav"
    r = run_cli("say", "--lang", "en", "Where do I get a tax number in Portugal?", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "piper:en_US-joe-medium" in r.stdout
    return out


@pytest.fixture(scope="module")
def portuguese_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed: `make test` installs it as root")
    out = tmp_path_factory.mktemp("wav") / "pt.wav"
    subprocess.run(["espeak-ng", "-v", "pt", "-s", "150", "-w", str(out),
                    "Bom dia. Preciso de marcar uma consulta no centro de saúde."], check=True)
    return out


def test_english_piper_speech_is_transcribed(engine: Engine, english_wav: Path) -> None:
    audio = decode_audio(english_wav, max_seconds=30)
    tr = asyncio.run(engine.stt.transcribe(audio.samples))
    assert tr.language == "en" and tr.probability > 0.8
    assert {"where", "tax", "number", "portugal"} <= words(tr.text)


def test_portuguese_espeak_speech_with_language_given(engine: Engine, portuguese_wav: Path) -> None:
    audio = decode_audio(portuguese_wav, max_seconds=30)
    tr = asyncio.run(engine.stt.transcribe(audio.samples, language="pt"))
    assert tr.language == "pt"
    assert {"bom", "dia", "centro", "saúde"} <= words(tr.text)


def test_streaming_vad_brackets_speech(engine: Engine, english_wav: Path) -> None:
    audio = decode_audio(english_wav, max_seconds=30).samples
    padded = np.concatenate([np.zeros(16000, np.float32), audio, np.zeros(24000, np.float32)])
    vad = StreamingVad(engine._vad(), engine.settings.vad)
    events = []
    for i in range(0, len(padded), 320):  # 20 ms chunks, as WebRTC delivers them
        events += vad.process(padded[i : i + 320])
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert 0.8 < events[0].t < 1.4
    assert speech_span(engine._vad(), engine.settings.vad, np.zeros(48000, np.float32)) is None


def test_spoken_question_gets_spoken_answer(engine: Engine, english_wav: Path, tmp_path: Path) -> None:
    audio = decode_audio(english_wav, max_seconds=30)
    out = asyncio.run(ask(engine, TurnInput(audio=audio)))
    r = out.result
    assert r["language"] == "en" and r["faq_id"] == "nif", r
    assert r["tts"] == "piper:en_US-joe-medium"
    reply = tmp_path / "reply.wav"
    write_wav(reply, out.pcm, out.sample_rate)
    heard = asyncio.run(engine.stt.transcribe(decode_audio(reply, max_seconds=30).samples,
                                              language="en"))
    assert len(words(heard.text) & words(r["answer"])) >= 5, (heard.text, r["answer"])


def test_cli_audio_ask_writes_reply(english_wav: Path, tmp_path: Path, config_file: Path) -> None:
    reply = tmp_path / "reply.wav"
    r = run_cli("ask", "--audio", str(english_wav), "--out", str(reply), "--json", config=config_file)
    assert r.returncode == 0, r.stderr
    import json

    result = json.loads(r.stdout)
    assert result["faq_id"] == "nif" and result["transcript"]
    assert set(result["timings_ms"]) >= {"stt", "lid", "retrieve", "answer", "tts_first_audio"}
    pcm = decode_audio(reply, max_seconds=120).samples
    assert np.abs(pcm).max() > 0.1


def test_say_portuguese_uses_kokoro_and_reads_phone_numbers(tmp_path: Path) -> None:
    out = tmp_path / "pt.wav"
    r = run_cli("say", "--lang", "pt", "Ligue para o 808 24 24 24.", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "kokoro:pf_dora" in r.stdout
    assert decode_audio(out, max_seconds=30).seconds > 1.0
