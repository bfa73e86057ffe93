"""Bad input gets a clear message (or a sensible spoken reply), never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.models.conftest import ROOT, run_cli


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000, channels: int = 1) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    if channels == 2:
        pcm = np.repeat(pcm, 2)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def ask_json(*args: str, config: Path) -> dict:  # type: ignore[type-arg]
    r = run_cli("ask", *args, "--json", config=config)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def assert_clean_error(r, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


def test_empty_text(config_file: Path) -> None:
    assert_clean_error(run_cli("ask", "--text", "  \t ", config=config_file), "empty")


def test_unknown_language(config_file: Path) -> None:
    r = run_cli("ask", "--text", "Olá", "--lang", "xx", config=config_file)
    assert_clean_error(r, "unsupported language 'xx'", "pt, en")


def test_two_megabytes_of_text_in_a_batch(tmp_path: Path, config_file: Path) -> None:
    batch = tmp_path / "big.jsonl"
    batch.write_text(json.dumps({"text": "imposto " * 250_000}) + "\n"
                     + json.dumps({"text": "How do I get a NIF?"}) + "\n", encoding="utf-8")
    r = run_cli("ask", "--batch", str(batch), config=config_file)
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert "too long" in rows[0]["error"]["message"]
    assert rows[1]["faq_id"] == "nif"


def test_silent_wav_asks_to_repeat(tmp_path: Path, config_file: Path) -> None:
    wav = write_wav(tmp_path / "silence.wav", np.zeros(48000 * 3), rate=48000, channels=2)
    r = ask_json("--audio", str(wav), "--lang", "pt", config=config_file)
    assert r["faq_id"] is None and r["handoff"] is False
    assert "repetir" in r["answer"] and r["tts"] == "kokoro:pf_dora"


def test_white_noise_gets_no_faq_answer(tmp_path: Path, config_file: Path) -> None:
    rng = np.random.default_rng(0)
    wav = write_wav(tmp_path / "noise.wav", rng.normal(0, 0.3, 16000 * 4), rate=22050)
    r = ask_json("--audio", str(wav), config=config_file)
    assert r["faq_id"] is None


def test_ten_minutes_of_audio_is_capped(tmp_path: Path, config_file: Path) -> None:
    en = tmp_path / "q.wav"
    assert run_cli("say", "--lang", "en", "Where do I get a tax number in Portugal?", "-o", str(en)).returncode == 0
    with wave.open(str(en)) as w:
        rate, q = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32767
    long = np.concatenate([q, np.zeros(rate * 600)])
    wav = write_wav(tmp_path / "long.wav", long, rate=rate)
    r = run_cli("ask", "--audio", str(wav), "--json", config=config_file)
    assert r.returncode == 0, r.stderr
    assert "only its beginning was used" in r.stderr
    result = json.loads(r.stdout)
    assert result["faq_id"] == "nif"
    assert any("longer than 30 s" in w for w in result["warnings"])


def test_bytes_that_are_not_audio(tmp_path: Path, config_file: Path) -> None:
    junk = tmp_path / "q.wav"
    junk.write_bytes(os.urandom(5000))
    assert_clean_error(run_cli("ask", "--audio", str(junk), config=config_file), "not a readable audio")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert_clean_error(run_cli("transcribe", str(empty), config=config_file), "is empty")


@pytest.fixture
def broken_models(tmp_path: Path) -> Path:
    """A models folder like the real one (hard links), to break one file in."""
    dest = tmp_path / "models"
    shutil.copytree(ROOT / "models", dest, copy_function=os.link)
    return dest


def test_deleted_model_file_names_the_file_and_the_fix(tmp_path: Path, broken_models: Path) -> None:
    (broken_models / "whisper-base" / "model.bin").unlink()
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f'models_dir = "{broken_models}"\nvar_dir = "{tmp_path / "var"}"\n')
    wav = write_wav(tmp_path / "tone.wav", np.sin(np.arange(16000) * 0.1) * 0.5)
    r = run_cli("transcribe", str(wav), config=cfg)
    assert_clean_error(r, "whisper-base/model.bin is missing", "voice-agent models install")


def test_truncated_model_file_is_reported(tmp_path: Path, broken_models: Path) -> None:
    target = broken_models / "whisper-base" / "model.bin"
    data = target.read_bytes()[:1000]
    target.unlink()
    target.write_bytes(data)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f'models_dir = "{broken_models}"\nvar_dir = "{tmp_path / "var"}"\n')
    wav = write_wav(tmp_path / "tone.wav", np.sin(np.arange(16000) * 0.1) * 0.5)
    assert_clean_error(run_cli("transcribe", str(wav), config=cfg), "truncated or corrupt")


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    r = run_cli("models", "list", config=tmp_path / "nope.toml")
    assert_clean_error(r, "config file not found")
