"""Which voice speaks which language, and how a voice is built, with espeak-ng behind it.

Order per language: a Piper voice in `models/voices/` (the operator's choice, or Piper joe for
English), then Kokoro where it is the measured default or opted in (`[tts] accented_voices`),
then espeak-ng. A neural voice that fails to load or to speak is replaced by espeak-ng for
that sentence (or for good, if it cannot load), and the failure is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Protocol

from voice_agent.config import Settings
from voice_agent.errors import EngineFailure, ModelMissing, ServiceError
from voice_agent.models import expected_size, read_manifest
from voice_agent.speech_out.engines import (
    EspeakTts,
    PiperTts,
    SpeechAudio,
    Synthesizer,
    choose_piper_voice,
    espeak_voice,
    scan_piper_voices,
)
from voice_agent.speech_out.espeak_lib import EspeakLibrary
from voice_agent.speech_out.g2p import ChineseG2P, EspeakG2P, Phonemizer
from voice_agent.speech_out.kokoro import (
    KOKORO_LANGUAGES,
    MODEL_FILE,
    VOICES_DIR,
    KokoroModel,
    KokoroTts,
)

log = logging.getLogger("voice_agent.voices")
Report = Callable[[str, ServiceError], None]


def kokoro_installed(settings: Settings) -> bool:
    """Installed (the manifest lists it) or present: a deleted file then fails loudly."""
    models = settings.models_path
    listed = any(e.file == MODEL_FILE for e in read_manifest(models))
    return listed or (models / MODEL_FILE).exists()


def plan_voice(settings: Settings, lang: str, kokoro: bool) -> str:
    """The voice for `lang`: "piper:<stem>", "kokoro:<voice>" or "espeak-ng:<voice>"."""
    tts = settings.tts
    piper = choose_piper_voice(
        scan_piper_voices(settings.models_path / tts.voices_dir), lang, tts.preferred_voices
    )
    if piper is not None:
        return f"piper:{piper.stem}"
    spec = KOKORO_LANGUAGES.get(lang)
    wanted = spec is not None and (spec.default or lang in tts.accented_voices)
    if spec is not None and spec.phonemes == "misaki-zh" and find_spec("misaki") is None:
        wanted = False  # misaki is not installable on this Python: espeak-ng speaks Chinese
    if kokoro and spec is not None and wanted and lang not in tts.espeak_only:
        return f"kokoro:{tts.kokoro_voices.get(lang, spec.voice)}"
    return f"espeak-ng:{espeak_voice(lang)}"


class FallbackVoice:
    """A neural voice with espeak-ng behind it; `name` is the voice that spoke last."""

    def __init__(
        self, primary: Synthesizer, fallback: Callable[[], Synthesizer], report: Report
    ) -> None:
        self.primary = primary
        self._fallback = fallback
        self._report = report
        self.name = primary.name

    def synthesize(self, text: str) -> SpeechAudio:
        try:
            audio = self.primary.synthesize(text)
            self.name = self.primary.name
            return audio
        except ServiceError as exc:
            self._report(self.primary.name, exc)
        except Exception as exc:  # a phonemiser or onnxruntime bug must not silence the reply
            self._report(self.primary.name, EngineFailure(f"{self.primary.name} failed: {exc}"))
        spare = self._fallback()
        self.name = spare.name
        return spare.synthesize(text)


class Builder(Protocol):
    """Makes voices by name (`VoiceFactory`; a fake in tests)."""

    def build(self, lang: str, name: str) -> Synthesizer: ...

    def close(self) -> None: ...


class VoiceFactory:
    """Builds voices by name. One per thread that synthesises (the TTS worker, the prefill):
    each has its own Kokoro session; the espeak-ng library is shared (it locks itself)."""

    def __init__(
        self, settings: Settings, espeak: Callable[[], EspeakLibrary | None], threads: int,
        report: Report,
    ) -> None:  # fmt: skip
        self._settings = settings
        self._espeak = espeak
        self._threads = threads
        self._report = report
        self._kokoro: KokoroModel | None = None

    def espeak_tts(self, lang: str) -> EspeakTts:
        tts = self._settings.tts
        return EspeakTts(tts.espeak_binary, espeak_voice(lang), tts.espeak_rate_wpm, self._espeak())

    def build(self, lang: str, name: str) -> Synthesizer:
        kind, _, voice = name.partition(":")
        if kind == "espeak-ng":
            return self.espeak_tts(lang)
        try:
            primary = self._piper(lang) if kind == "piper" else self._kokoro_tts(lang, voice)
        except ServiceError as exc:
            self._report(name, exc)
            return self.espeak_tts(lang)
        return FallbackVoice(primary, lambda: self.espeak_tts(lang), self._report)

    def _piper(self, lang: str) -> PiperTts:
        tts = self._settings.tts
        voices = scan_piper_voices(self._settings.models_path / tts.voices_dir)
        found = choose_piper_voice(voices, lang, tts.preferred_voices)
        if found is None:
            raise ModelMissing(f"no Piper voice for {lang} in {tts.voices_dir}")
        return PiperTts(found)

    def _kokoro_tts(self, lang: str, voice: str) -> KokoroTts:
        models = self._settings.models_path
        if self._kokoro is None:
            path = models / MODEL_FILE
            self._kokoro = KokoroModel(path, self._threads, expected_size(models, path))
        voice_file = models / VOICES_DIR / f"{voice}.bin"
        speed = self._settings.tts.kokoro_speed
        return KokoroTts(self._kokoro, voice_file, self.phonemizer(lang), speed)

    def phonemizer(self, lang: str) -> Phonemizer:
        library = self._espeak()
        if library is None:
            raise ModelMissing(
                "Kokoro voices read their phonemes through libespeak-ng, which is not "
                "installed: install the Debian package `espeak-ng`"
            )
        spec = KOKORO_LANGUAGES.get(lang)
        phonemes = spec.phonemes if spec else espeak_voice(lang)
        if phonemes == "misaki-zh":
            return ChineseG2P(EspeakG2P(library, "pt"))
        return EspeakG2P(library, phonemes)

    def close(self) -> None:
        """Stop: a Kokoro sentence being made is aborted (its thread is free at once)."""
        if self._kokoro is not None:
            self._kokoro.interrupt()
        self._kokoro = None


def report_to_log(failures: dict[str, str]) -> Report:
    """Log each failing voice (the first time and whenever the reason changes)."""

    def report(name: str, exc: ServiceError) -> None:
        if failures.get(name) != exc.message:
            log.error("voice %s failed, espeak-ng speaks instead: %s", name, exc.message)
        failures[name] = exc.message

    return report


def voice_file_note(settings: Settings, name: str) -> str:
    """'' if the voice's files are there, else what is missing (for `models list`)."""
    kind, _, voice = name.partition(":")
    if kind != "kokoro":
        return ""
    models = settings.models_path
    for path in (models / MODEL_FILE, models / VOICES_DIR / f"{voice}.bin"):
        if not Path(path).exists():
            return f"MISSING {path.relative_to(models)}"
    return ""
