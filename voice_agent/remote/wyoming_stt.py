"""Speech-to-text on a Wyoming server (wyoming-faster-whisper), the local Whisper behind it.

The server gets the utterance as 16 kHz mono 16-bit chunks (transcribe, audio-start,
audio-chunk..., audio-stop) and answers with one transcript. It gives no language
probabilities, so the language step judges the text (with the session's prior) alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from voice_agent.language.languages import CODES, base_code
from voice_agent.remote.fallback import Lazy, RemoteFailure, Streak
from voice_agent.remote.wyoming_client import WyomingClient
from voice_agent.speech_in.stt import SpeechToText, Transcript


class LocalStt(SpeechToText, Protocol):
    def close(self) -> None: ...


class RemoteStt:
    """`SpeechToText`: the Wyoming server's transcript, or the local model's when it fails."""

    def __init__(
        self, client: WyomingClient, local: Callable[[], LocalStt], streak: Streak, default: str
    ) -> None:
        self._client = client
        self._default = default  # the language reported when neither side knows it
        self._local = Lazy(local)
        self.streak = streak

    @property
    def name(self) -> str:
        return f"wyoming:{self._client.uri}"

    async def load(self) -> None:
        """Warm-up: is the server there? If not, load the local model now (it will answer)."""
        try:
            await self._client.describe()
            self.streak.succeeded()
        except RemoteFailure as exc:
            self.streak.failed(exc.message)
            await self._local.get().load()

    async def transcribe(
        self, audio: np.ndarray, *, language: str | None = None, prior: str | None = None
    ) -> Transcript:
        if not self.streak.resting():
            t0 = time.perf_counter()
            try:
                heard = await self._client.transcribe(audio, language)
            except RemoteFailure as exc:
                self.streak.failed(exc.message)
            else:
                self.streak.succeeded()
                said = base_code(heard.language or "")
                code = language or (said if said in CODES else None) or prior or self._default
                return Transcript(
                    text=heard.text.strip(),
                    language=code,
                    probability=1.0 if language or said == code else 0.0,
                    audio_seconds=len(audio) / 16000,
                    timings_ms={"remote": (time.perf_counter() - t0) * 1000},
                )
        self.streak.fell_back()
        return await self._local.get().transcribe(audio, language=language, prior=prior)

    def close(self) -> None:
        if self._local.built is not None:
            self._local.built.close()
