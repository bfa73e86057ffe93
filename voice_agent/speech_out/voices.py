"""Which voice speaks which language, the TTS worker that runs them, and the reply-audio cache.

The choice per language is `voice_plan.plan_voice` (Piper, Kokoro, espeak-ng). Voices are
loaded on first use and kept for the engine's lifetime (shared by all sessions). A sentence
whose audio was made ahead of time (`reply_cache`, filled by `prefill`) is read from disk;
anything else is synthesised live in the TTS worker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from voice_agent.config import Settings
from voice_agent.errors import StageTimeout
from voice_agent.language.languages import CODES
from voice_agent.speech_out.engines import SpeechAudio, Synthesizer, espeak_voice, trim_lead
from voice_agent.speech_out.espeak_lib import EspeakLibrary
from voice_agent.speech_out.normalize import speakable
from voice_agent.speech_out.prefill import Prefill
from voice_agent.speech_out.reply_cache import ReplyAudioCache, audio_key
from voice_agent.speech_out.voice_plan import (
    Builder,
    FallbackVoice,
    VoiceFactory,
    kokoro_installed,
    plan_voice,
    report_to_log,
)
from voice_agent.workers import ModelWorker

if TYPE_CHECKING:
    from voice_agent.content.faq import FaqEntry

IDLE_GRACE_S = 0.5  # after a live sentence, the prefill waits this long for the next one


class Voices(Protocol):
    """What a turn needs from speech synthesis."""

    def describe(self, lang: str) -> str: ...

    async def for_language(self, lang: str) -> Synthesizer: ...

    async def synthesize(self, synth: Synthesizer, sentence: str, lang: str) -> SpeechAudio: ...

    def prepare(self, entries: Sequence[FaqEntry]) -> None:
        """The published answers changed: their audio is what the cache should hold."""

    def start_prefill(self) -> None:
        """Make the missing audio in the background from now on (the server calls this)."""

    def status(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class VoiceRegistry:
    def __init__(
        self, settings: Settings, builders: Callable[[int], Builder] | None = None
    ) -> None:
        """`builders(threads)` makes a voice builder (default: `VoiceFactory`)."""
        self._settings = settings
        self._loaded: dict[str, Synthesizer] = {}
        self._worker = ModelWorker("tts", on_abandon=self._drop)
        self._dropped: set[int] = set()  # ids of voices loaded before a sentence hung
        self._espeak: EspeakLibrary | None = None
        self._espeak_tried = False
        self._kokoro = kokoro_installed(settings)
        self.failures: dict[str, str] = {}  # voice -> why it failed (espeak-ng spoke instead)
        self._report = report_to_log(self.failures)
        tts = settings.tts
        builders = builders or (
            lambda threads: VoiceFactory(settings, self.espeak_library, threads, self._report)
        )
        self._factory = builders(tts.kokoro_threads)
        self.cache: ReplyAudioCache | None = None
        self._prefill: Prefill | None = None
        if tts.reply_cache:
            self.cache = ReplyAudioCache(settings.path(settings.var_dir) / "reply_audio")
            self._prefill = Prefill(
                settings, self.cache, self.describe, self.voice_tag, lambda: builders(1),
                self._report, self._live_idle,
            )  # fmt: skip
        self.hits = 0
        self.misses = 0
        self._busy = 0
        self._last_live = 0.0
        self._idle = asyncio.Event()
        self._idle.set()

    def espeak_library(self) -> EspeakLibrary | None:
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
        return plan_voice(self._settings, lang, self._kokoro)

    def table(self) -> dict[str, str]:
        return {code: self.describe(code) for code in CODES}

    def voice_tag(self, name: str) -> str:
        """A voice and the settings that change its sound: part of every cache key."""
        tts = self._settings.tts
        return f"{name}|speed={tts.kokoro_speed}|wpm={tts.espeak_rate_wpm}"

    def _load(self, lang: str) -> Synthesizer:
        name = self.describe(lang)
        if name not in self._loaded:
            self._loaded[name] = self._factory.build(lang, name)
        return self._loaded[name]

    async def for_language(self, lang: str) -> Synthesizer:
        """Load (in the TTS worker, once) and return the voice for `lang`. A loaded voice is
        returned at once: a cached reply must not queue behind another session's synthesis."""
        loaded = self._loaded.get(self.describe(lang))
        return loaded if loaded is not None else await self._worker.run(self._load, lang)

    def _drop(self) -> None:
        """A sentence hung: the stuck thread keeps those voices; fresh ones load next time
        (Kokoro's run is interrupted, which may free the stuck thread)."""
        self._dropped |= {id(s) for s in self._loaded.values()}
        self._loaded.clear()
        self._factory.close()

    async def synthesize(self, synth: Synthesizer, sentence: str, lang: str) -> SpeechAudio:
        spoken = speakable(sentence, lang)
        voice = synth.primary.name if isinstance(synth, FallbackVoice) else synth.name
        if self.cache is not None and self._prefill and self._prefill.worth_caching(voice):
            cached = await asyncio.to_thread(
                self.cache.get, audio_key(self.voice_tag(voice), lang, spoken)
            )
            if cached is not None:
                self.hits += 1
                return trim_lead(cached)
            self.misses += 1
        self._busy += 1
        self._idle.clear()
        tts = self._settings.tts
        limit = tts.timeout_s + tts.timeout_per_char_s * len(spoken)
        try:
            if id(synth) in self._dropped:
                synth = await self.for_language(lang)  # loaded before a sentence hung
            try:
                return trim_lead(await self._worker.run_for(limit, synth.synthesize, spoken))
            except StageTimeout as exc:
                self._report(voice, exc)  # logged, and listed as failed in /healthz
                espeak = self._factory.build(lang, f"espeak-ng:{espeak_voice(lang)}")
                return trim_lead(await self._worker.run_for(limit, espeak.synthesize, spoken))
        finally:
            self._busy -= 1
            self._last_live = time.monotonic()
            if self._busy == 0:
                self._idle.set()

    async def _live_idle(self) -> None:
        """Returns once no live synthesis has run for IDLE_GRACE_S."""
        while True:
            await self._idle.wait()
            wait = self._last_live + IDLE_GRACE_S - time.monotonic()
            if wait <= 0 and self._idle.is_set():
                return
            await asyncio.sleep(max(wait, 0.0))

    def prepare(self, entries: Sequence[FaqEntry]) -> None:
        if self._prefill is not None:
            self._prefill.set_entries(entries)

    def start_prefill(self) -> None:
        if self._prefill is not None and self._settings.tts.reply_cache_background:
            self._prefill.start()

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"voices": self.table(), "failed": dict(self.failures)}
        if self._prefill is not None and self.cache is not None:
            out["reply_audio"] = {
                **self._prefill.progress,
                "hits": self.hits,
                "misses": self.misses,
                "corrupt": self.cache.corrupt,
            }
        return out

    def close(self) -> None:
        if self._prefill is not None:
            self._prefill.close()
        self._factory.close()
        self._worker.close()
