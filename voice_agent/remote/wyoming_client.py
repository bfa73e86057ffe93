"""One Wyoming exchange per request: connect, send the events, read the answer, disconnect.

The framing is a JSON line per event (`type`, `data`, `data_length`, `payload_length`), then
the optional data block and binary payload. Events are the `wyoming` package's dataclasses,
written by its writer; they are read here, because its reader reports bytes that are not the
protocol as a closed connection. Around that: a connect timeout, a timeout for every event
sent or read, the server's `error` event, and one error type (`RemoteFailure`) for a server
that is down, hangs, closes early or does not speak the protocol.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlparse

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_write_event
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from voice_agent.remote.fallback import RemoteFailure

CHUNK_SAMPLES = 16_000  # audio sent to a speech-to-text server in 1 s chunks
LINE_LIMIT = 1 << 20  # the longest header line read (an event's JSON, not its payload)
_UNREADABLE = (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError)


class _Peer:
    """One connection: events out (the package's writer), events in (read here, because the
    package's reader turns unreadable bytes into "connection closed" silently)."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout_s: float
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._timeout = timeout_s

    async def send(self, events: Sequence[Event]) -> None:
        for e in events:
            async with asyncio.timeout(self._timeout):
                await async_write_event(e, self._writer)

    async def next(self) -> Event:
        """The next event within the timeout; the server's `error` event is a failure."""
        async with asyncio.timeout(self._timeout):
            event = await self._read()
        if Error.is_type(event.type):
            raise RemoteFailure(f"the server said: {Error.from_event(event).text}")
        return event

    async def _read(self) -> Event:
        line = await self._reader.readline()
        if not line:
            raise RemoteFailure("the server closed the connection")
        header = json.loads(line)
        data = header.get("data") or {}
        if (n := header.get("data_length")) and n > 0:
            data.update(json.loads(await self._reader.readexactly(n)))
        payload = None
        if (n := header.get("payload_length")) and n > 0:
            payload = await self._reader.readexactly(n)
        if not isinstance(header["type"], str) or not isinstance(data, dict):
            raise ValueError("an event needs a type and a data object")
        return Event(type=header["type"], data=data, payload=payload)


@dataclass(frozen=True, slots=True)
class RemoteAudio:
    pcm: np.ndarray  # int16 mono
    sample_rate: int


class WyomingClient:
    def __init__(self, uri: str, timeout_s: float, connect_timeout_s: float) -> None:
        self.uri = uri
        self._timeout = timeout_s
        self._connect_timeout = connect_timeout_s

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        where = urlparse(self.uri)
        if where.scheme == "tcp" and where.hostname and where.port:
            return await asyncio.open_connection(where.hostname, where.port, limit=LINE_LIMIT)
        if where.scheme == "unix" and where.path:
            return await asyncio.open_unix_connection(where.path, limit=LINE_LIMIT)
        raise RemoteFailure(f"not a Wyoming URI (tcp://HOST:PORT or unix://PATH): {self.uri}")

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[_Peer]:
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await self._open()
        except (TimeoutError, OSError) as exc:
            raise RemoteFailure(f"cannot connect ({exc.__class__.__name__}: {exc})") from exc
        try:
            yield _Peer(reader, writer, self._timeout)
        except TimeoutError as exc:
            raise RemoteFailure(f"no answer within {self._timeout:g} s") from exc
        except _UNREADABLE as exc:
            raise RemoteFailure(f"not a Wyoming answer ({exc.__class__.__name__})") from exc
        finally:
            writer.close()
            try:
                async with asyncio.timeout(self._connect_timeout):
                    await writer.wait_closed()
            except (TimeoutError, OSError):
                pass

    async def describe(self) -> Info:
        async with self._connection() as peer:
            await peer.send([Describe().event()])
            while True:
                event = await peer.next()
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
        async with self._connection() as peer:
            await peer.send(events)
            while True:
                event = await peer.next()
                if Transcript.is_type(event.type):
                    return Transcript.from_event(event)

    async def synthesize(self, text: str, voice: str | None, language: str) -> RemoteAudio:
        """One sentence -> its audio, read chunk by chunk as the server streams it."""
        request = Synthesize(text=text, voice=SynthesizeVoice(name=voice, language=language))
        to_mono = AudioChunkConverter(width=2, channels=1)
        parts: list[bytes] = []
        rate = 0
        async with self._connection() as peer:
            await peer.send([request.event()])
            while True:
                event = await peer.next()
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
