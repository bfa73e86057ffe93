"""Speech synthesis on a Wyoming server (wyoming-piper), the local voices behind it.

The server speaks the languages `[tts] remote_voices` names a voice for (wyoming-piper's
`describe` answer lists its whole download catalogue as installed, so it cannot say which
voices are really on the box). Other languages, and any sentence the server fails on, are
spoken by the local voice of that language (`VoiceRegistry`, built on first need). Each
sentence is one `synthesize` exchange; its audio is read chunk by chunk as the server
streams it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from voice_agent.language.languages import CODES
from voice_agent.remote.fallback import Lazy, RemoteFailure, Streak, log
from voice_agent.remote.wyoming_client import WyomingClient
from voice_agent.speech_out.engines import SpeechAudio, Synthesizer
from voice_agent.speech_out.normalize import speakable
from voice_agent.speech_out.voices import Voices

if TYPE_CHECKING:
    from voice_agent.content.faq import FaqEntry


class RemoteVoice:
    """`Synthesizer` for one language on the server. `name` is the voice that spoke last
    (the local one's after a fallback); one is made per reply."""

    def __init__(self, client: WyomingClient, voice: str, lang: str) -> None:
        self._client = client
        self.voice = voice
        self.lang = lang
        self.remote_name = f"wyoming:{voice}"
        self.name = self.remote_name

    async def speak(self, text: str) -> SpeechAudio:
        audio = await self._client.synthesize(text, self.voice, self.lang)
        self.name = self.remote_name
        return SpeechAudio(audio.pcm, audio.sample_rate, text)

    def synthesize(self, text: str) -> SpeechAudio:
        """The blocking form of the Protocol, for a thread with no event loop."""
        return asyncio.run(self.speak(speakable(text, self.lang)))


class RemoteVoices:
    """`Voices`: remote where the server has the language's voice, else (or failing) local."""

    def __init__(
        self,
        client: WyomingClient,
        local: Callable[[], Voices],
        streak: Streak,
        voices: dict[str, str],
    ) -> None:
        """`voices`: language -> the server's voice for it (`[tts] remote_voices`)."""
        self._client = client
        self._local = Lazy(local)
        self.streak = streak
        self._voices = dict(voices)
        if not voices:
            log.warning(
                "[tts] url is set but [tts] remote_voices names no voice: every language is "
                "spoken by the local voices"
            )

    def describe(self, lang: str) -> str:
        voice = self._voices.get(lang)
        return f"wyoming:{voice}" if voice else self._local.get().describe(lang)

    async def for_language(self, lang: str) -> Synthesizer:
        voice = self._voices.get(lang)
        if voice:
            return RemoteVoice(self._client, voice, lang)
        return await self._local.get().for_language(lang)

    async def synthesize(self, synth: Synthesizer, sentence: str, lang: str) -> SpeechAudio:
        if not isinstance(synth, RemoteVoice):
            return await self._local.get().synthesize(synth, sentence, lang)
        if not self.streak.resting():
            try:
                audio = await synth.speak(speakable(sentence, lang))
            except RemoteFailure as exc:
                self.streak.failed(exc.message)
            else:
                self.streak.succeeded()
                return audio
        self.streak.fell_back()
        local = self._local.get()
        spare = await local.for_language(lang)
        audio = await local.synthesize(spare, sentence, lang)
        synth.name = spare.name
        return audio

    def prepare(self, entries: Sequence[FaqEntry]) -> None:
        """No reply-audio cache with a remote voice server (see `[tts] url`)."""

    def start_prefill(self) -> None:
        """Nothing to fill (see `prepare`)."""

    def status(self) -> dict[str, Any]:
        local = self._local.built.status() if self._local.built is not None else {}
        voices = {code: self.describe(code) for code in CODES}
        return {"voices": voices, "failed": local.get("failed", {}), "remote": self.streak.status()}

    def close(self) -> None:
        if self._local.built is not None:
            self._local.built.close()
