"""One Wyoming exchange per request: connect, send the events, read the answer, disconnect.

The framing (a JSON line per event, an optional data block and binary payload) is the
`wyoming` package's; this adds what a service needs around it: a connect timeout, a timeout
for every event read, the server's `error` event, and one error type (`RemoteFailure`) for
a server that is down, hangs, closes early or does not speak the protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.client import AsyncClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from voice_agent.language.languages import CODES, base_code
from voice_agent.remote.fallback import RemoteFailure

CHUNK_SAMPLES = 16_000  # audio sent to a speech-to-text server in 1 s chunks
_UNREADABLE = (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError)


@dataclass(frozen=True, slots=True)
class RemoteAudio:
    pcm: np.ndarray  # int16 mono
    sample_rate: int


class WyomingClient:
    def __init__(self, uri: str, timeout_s: float, connect_timeout_s: float) -> None:
        self.uri = uri
        self._timeout = timeout_s
        self._connect_timeout = connect_timeout_s

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncClient]:
        try:
            client = AsyncClient.from_uri(
                self.uri, connect_timeout=self._connect_timeout, read_timeout=self._timeout
            )
        except ValueError as exc:
            raise RemoteFailure(f"not a Wyoming URI: {self.uri} ({exc})") from exc
        try:
            await client.connect()
        except (TimeoutError, OSError) as exc:
            raise RemoteFailure(f"cannot connect ({exc.__class__.__name__}: {exc})") from exc
        try:
            yield client
        except TimeoutError as exc:
            raise RemoteFailure(f"no answer within {self._timeout:g} s") from exc
        except _UNREADABLE as exc:
            raise RemoteFailure(f"not a Wyoming answer ({exc.__class__.__name__})") from exc
        finally:
            try:
                async with asyncio.timeout(self._connect_timeout):
                    await client.disconnect()
            except (TimeoutError, OSError):
                pass

    async def _send(self, client: AsyncClient, events: Sequence[Event]) -> None:
        for e in events:
            async with asyncio.timeout(self._timeout):
                await client.write_event(e)

    async def _next(self, client: AsyncClient) -> Event:
        """The next event (the client's read timeout applies); an `error` event fails."""
        event = await client.read_event()
        if event is None:
            raise RemoteFailure("the server closed the connection")
        if Error.is_type(event.type):
            raise RemoteFailure(f"the server said: {Error.from_event(event).text}")
        return event

    async def describe(self) -> Info:
        async with self._connection() as client:
            await self._send(client, [Describe().event()])
            while True:
                event = await self._next(client)
                if Info.is_type(event.type):
                    return Info.from_event(event)

    async def transcribe(self, samples: np.ndarray, language: str | None) -> Transcript:
        """16 kHz mono float32 audio -> the server's transcript."""
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        fmt = {"rate": 16_000, "width": 2, "channels": 1}
        step = CHUNK_SAMPLES * 2
        events = [Transcribe(language=language).event(), AudioStart(**fmt).event()]
        events += [
            AudioChunk(audio=pcm[i : i + step], **fmt).event() for i in range(0, len(pcm), step)
        ]
        events.append(AudioStop().event())
        async with self._connection() as client:
            await self._send(client, events)
            while True:
                event = await self._next(client)
                if Transcript.is_type(event.type):
                    return Transcript.from_event(event)

    async def synthesize(self, text: str, voice: str | None, language: str) -> RemoteAudio:
        """One sentence -> its audio, read chunk by chunk as the server streams it."""
        request = Synthesize(text=text, voice=SynthesizeVoice(name=voice, language=language))
        to_mono = AudioChunkConverter(width=2, channels=1)
        parts: list[bytes] = []
        rate = 0
        async with self._connection() as client:
            await self._send(client, [request.event()])
            while True:
                event = await self._next(client)
                if AudioStart.is_type(event.type):
                    rate = AudioStart.from_event(event).rate
                elif AudioChunk.is_type(event.type):
                    chunk = to_mono.convert(AudioChunk.from_event(event))
                    rate = chunk.rate
                    parts.append(chunk.audio)
                elif AudioStop.is_type(event.type):
                    break
        if rate <= 0 or not parts:
            raise RemoteFailure("the server sent no audio")
        return RemoteAudio(np.frombuffer(b"".join(parts), dtype="<i2").astype(np.int16), rate)


def voices_by_language(info: Info) -> dict[str, str]:
    """Our language code -> the first installed voice the server lists for it."""
    out: dict[str, str] = {}
    for program in info.tts:
        for voice in program.voices:
            if not voice.installed:
                continue
            for language in voice.languages:
                code = base_code(language)
                if code in CODES:
                    out.setdefault(code, voice.name)
    return out
