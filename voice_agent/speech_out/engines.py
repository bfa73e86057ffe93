"""Speech synthesis engines behind one small Protocol: Piper voices, and espeak-ng as fallback.

Each `synthesize` call speaks one sentence and returns mono int16 PCM at the engine's native
rate; callers run it in the TTS worker thread and resample only at the output edge.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from voice_agent.errors import EngineFailure, ModelMissing
from voice_agent.language.languages import BY_CODE, CODES, base_code
from voice_agent.models import FIX
from voice_agent.speech_out.espeak_lib import EspeakLibrary


@dataclass(frozen=True, slots=True)
class SpeechAudio:
    pcm: np.ndarray  # int16 mono
    sample_rate: int
    text: str
    phonemes: tuple[str, ...] = ()
    visemes: tuple[tuple[float, str], ...] = ()  # (seconds from start, viseme)


LEAD_KEPT_S = 0.015  # silence left before the first sound of a synthesised piece


def trim_lead(audio: SpeechAudio, threshold: int = 200) -> SpeechAudio:
    """Drop the silence a voice puts before its first sound (Kokoro: 0.21 s, Piper ~0.05 s),
    which the citizen would otherwise wait through; the visemes move with the audio."""
    loud = np.flatnonzero(np.abs(audio.pcm.astype(np.int32)) > threshold)
    cut = int(loud[0]) - int(LEAD_KEPT_S * audio.sample_rate) if len(loud) else 0
    if cut <= 0:
        return audio
    shift = cut / audio.sample_rate
    visemes = [(max(0.0, t - shift), v) for t, v in audio.visemes]
    # of the visemes moved to 0, keep the last (the shape at the first sound)
    kept = [x for i, x in enumerate(visemes) if i + 1 == len(visemes) or visemes[i + 1][0] > 0]
    return replace(audio, pcm=audio.pcm[cut:], visemes=tuple(kept))


class Synthesizer(Protocol):
    name: str  # "piper:<voice>" | "espeak-ng:<voice>"

    def synthesize(self, text: str) -> SpeechAudio: ...


@dataclass(frozen=True, slots=True)
class PiperVoiceFile:
    path: Path
    language: str  # supported code
    locale: str  # e.g. pt_PT

    @property
    def stem(self) -> str:
        return self.path.name.removesuffix(".onnx")


def scan_piper_voices(voices_dir: Path) -> list[PiperVoiceFile]:
    """Every `*.onnx` with its `*.onnx.json` in the folder whose language is supported."""
    found: list[PiperVoiceFile] = []
    if not voices_dir.is_dir():
        return found
    for onnx in sorted(voices_dir.glob("*.onnx")):
        cfg = onnx.with_name(onnx.name + ".json")
        if not cfg.exists():
            continue
        try:
            data = json.loads(cfg.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        locale = (
            (data.get("language") or {}).get("code")
            or (data.get("espeak") or {}).get("voice")
            or onnx.name.split("-")[0]
        )
        code = base_code(str(locale))
        if code in CODES:
            found.append(PiperVoiceFile(onnx, code, str(locale)))
    return found


def choose_piper_voice(
    voices: list[PiperVoiceFile], lang: str, preferred: dict[str, str]
) -> PiperVoiceFile | None:
    mine = [v for v in voices if v.language == lang]
    if not mine:
        return None
    if lang in preferred:
        for v in mine:
            if v.stem == preferred[lang]:
                return v
    if lang == "pt":  # European Portuguese voices first
        mine.sort(key=lambda v: 0 if v.locale.lower().replace("-", "_") == "pt_pt" else 1)
    return mine[0]


class PiperTts:
    def __init__(self, voice: PiperVoiceFile) -> None:
        from piper import PiperVoice

        self.name = f"piper:{voice.stem}"
        try:
            self._voice = PiperVoice.load(
                voice.path, voice.path.with_name(voice.path.name + ".json")
            )
        except Exception as exc:  # onnxruntime raises several unrelated types
            raise ModelMissing(f"Piper voice {voice.path} failed to load ({exc}); {FIX}") from exc
        self.sample_rate = int(self._voice.config.sample_rate)

    def synthesize(self, text: str) -> SpeechAudio:
        chunks = list(self._voice.synthesize(text))
        if not chunks:
            return SpeechAudio(np.zeros(0, np.int16), self.sample_rate, text)
        pcm = np.concatenate([c.audio_int16_array for c in chunks])
        phonemes = tuple(p for c in chunks for p in c.phonemes)
        return SpeechAudio(pcm, self.sample_rate, text, phonemes)


class EspeakTts:
    """espeak-ng: the library (with phoneme events -> visemes) where it loads, else the CLI."""

    def __init__(
        self, binary: str, voice: str, rate_wpm: int, library: EspeakLibrary | None = None
    ) -> None:
        path = shutil.which(binary)
        if path is None and library is None:
            raise ModelMissing(
                f"espeak-ng is not installed (no {binary!r} on PATH); install the Debian package "
                "`espeak-ng` (as root: apt-get install espeak-ng), or add a Piper voice"
            )
        self._binary = path
        self._library = library
        self._voice = voice
        self._rate = rate_wpm
        self.name = f"espeak-ng:{voice}"

    def synthesize(self, text: str) -> SpeechAudio:
        if self._library is not None:
            try:
                r = self._library.synthesize(text, self._voice, self._rate)
                return SpeechAudio(r.pcm, r.sample_rate, text, visemes=r.visemes)
            except (OSError, ValueError) as exc:
                if self._binary is None:
                    raise EngineFailure(f"espeak-ng failed for voice {self._voice}: {exc}") from exc
        assert self._binary is not None
        try:
            proc = subprocess.run(
                [self._binary, "-v", self._voice, "-s", str(self._rate), "-b", "1", "--stdout"],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=30,
                check=True,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            raise EngineFailure(f"espeak-ng failed for voice {self._voice}: {exc}") from exc
        with wave.open(io.BytesIO(proc.stdout), "rb") as w:
            rate = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
        return SpeechAudio(pcm, rate, text)


def espeak_voice(lang: str) -> str:
    return BY_CODE[lang].espeak_voice
