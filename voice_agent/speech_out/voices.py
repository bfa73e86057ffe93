"""Which voice speaks which language, and the TTS worker that runs them.

A Piper voice dropped into `models/voices/` is used for its language; otherwise espeak-ng.
Voices are loaded on first use and kept for the engine's lifetime (shared by all sessions).
"""

from __future__ import annotations

from typing import Protocol

from voice_agent.config import Settings
from voice_agent.language.languages import CODES
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
from voice_agent.speech_out.normalize import speakable
from voice_agent.workers import ModelWorker


class Voices(Protocol):
    """What a turn needs from speech synthesis."""

    def describe(self, lang: str) -> str: ...

    async def for_language(self, lang: str) -> Synthesizer: ...

    async def synthesize(self, synth: Synthesizer, sentence: str, lang: str) -> SpeechAudio: ...

    def close(self) -> None: ...


class VoiceRegistry:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._voices_dir = settings.models_path / settings.tts.voices_dir
        self._loaded: dict[str, Synthesizer] = {}
        self._worker = ModelWorker("tts")
        self._espeak: EspeakLibrary | None = None
        self._espeak_tried = False

    def _espeak_library(self) -> EspeakLibrary | None:
        """The espeak-ng C library, once; None where it is not installed (CLI fallback)."""
        if not self._espeak_tried:
            self._espeak_tried = True
            try:
                self._espeak = EspeakLibrary()
            except OSError:
                self._espeak = None
        return self._espeak

    def describe(self, lang: str) -> str:
        """The voice `for_language` would use, without loading it."""
        voice = choose_piper_voice(
            scan_piper_voices(self._voices_dir), lang, self._settings.tts.preferred_voices
        )
        return f"piper:{voice.stem}" if voice else f"espeak-ng:{espeak_voice(lang)}"

    def table(self) -> dict[str, str]:
        return {code: self.describe(code) for code in CODES}

    def _load(self, lang: str) -> Synthesizer:
        name = self.describe(lang)
        if name not in self._loaded:
            voice = choose_piper_voice(
                scan_piper_voices(self._voices_dir), lang, self._settings.tts.preferred_voices
            )
            tts = self._settings.tts
            self._loaded[name] = (
                PiperTts(voice)
                if voice
                else EspeakTts(
                    tts.espeak_binary,
                    espeak_voice(lang),
                    tts.espeak_rate_wpm,
                    self._espeak_library(),
                )
            )
        return self._loaded[name]

    async def for_language(self, lang: str) -> Synthesizer:
        """Load (in the TTS worker, once) and return the voice for `lang`."""
        return await self._worker.run(self._load, lang)

    async def synthesize(self, synth: Synthesizer, sentence: str, lang: str) -> SpeechAudio:
        return await self._worker.run(synth.synthesize, speakable(sentence, lang))

    def close(self) -> None:
        self._worker.close()
