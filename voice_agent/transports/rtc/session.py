"""One citizen's WebRTC session: glue between a peer connection and a `Conversation`.

The microphone track is resampled once (48 kHz Opus -> 16 kHz mono) and handed to the
conversation; the `events` data channel carries the wire messages both ways; reply audio goes
out through the `ReplyTrack` (resampled once to 48 kHz). The session holds no turn state: it is
the conversation's `ReplySink`. Everything it holds is released by `close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from aiortc import RTCDataChannel, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from voice_agent import events as ev
from voice_agent.conversation.conversation import Conversation, KeepUtterance
from voice_agent.conversation.engine import Engine
from voice_agent.conversation.handoff import HandoffDesk
from voice_agent.conversation.hearing import SpeechDetector
from voice_agent.conversation.wire import encode
from voice_agent.speech_in.audio import STT_RATE, mono_resampler, resample_int16
from voice_agent.transports.rtc.echo import echo_likelihood
from voice_agent.transports.rtc.track import RATE, ReplyTrack

log = logging.getLogger(__name__)

ECHO_LIMIT = 0.75
MAX_PENDING = 100  # messages kept for a data channel that is not open yet


class VoiceSession:
    def __init__(
        self,
        session_id: str,
        engine: Engine,
        pc: RTCPeerConnection,
        language: str | None,
        on_closed: Callable[[VoiceSession], None],
        *,
        desk: HandoffDesk | None = None,
        clock: Callable[[], float] | None = None,
        keep_utterance: KeepUtterance | None = None,
        vad: SpeechDetector | None = None,
    ) -> None:
        self.id = session_id
        self.pc = pc
        self.track = ReplyTrack()
        self.channel: RTCDataChannel | None = None
        self._pending: list[str] = []
        self._on_closed = on_closed
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = False
        extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
        self.conversation = Conversation(
            session_id,
            engine,
            self,
            language=language,
            desk=desk,
            vad=vad,
            keep_utterance=keep_utterance,
            **extra,
        )
        self.track.on_drained = self.conversation.played

    # --- ReplySink --------------------------------------------------------------------------
    def send(self, event: ev.Event) -> None:
        data = encode(event)
        if self.channel is not None and self.channel.readyState == "open":
            with contextlib.suppress(Exception):  # a vanished client must not break the turn
                self.channel.send(data)
        elif len(self._pending) < MAX_PENDING:
            self._pending.append(data)

    def play(self, turn_id: str, pcm: np.ndarray, sample_rate: int) -> None:
        self.track.push(turn_id, resample_int16(pcm, sample_rate, RATE))

    def clear(self, turn_id: str) -> None:
        self.track.clear(turn_id)

    @property
    def playing(self) -> bool:
        return self.track.busy

    def hold(self, paused: bool) -> None:
        self.track.paused = paused

    def echoes(self, heard: np.ndarray) -> bool:
        if not self.track.recent:
            return False
        return echo_likelihood(heard, np.concatenate(list(self.track.recent))) > ECHO_LIMIT

    # --- wiring -----------------------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def attach_channel(self, channel: RTCDataChannel) -> None:
        self.channel = channel
        channel.on("message", self.conversation.receive)
        channel.on("open", self._flush)
        channel.on("close", lambda: self._spawn(self.close()))
        if channel.readyState == "open":
            self._flush()

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for data in pending:
            if self.channel is not None:
                with contextlib.suppress(Exception):
                    self.channel.send(data)

    def attach_microphone(self, track: MediaStreamTrack) -> None:
        self._spawn(self._read_microphone(track))

    async def _read_microphone(self, track: MediaStreamTrack) -> None:
        resampler = mono_resampler("s16", STT_RATE)
        try:
            while not self.closed:
                frame = await track.recv()
                for out in resampler.resample(frame):  # type: ignore[arg-type]
                    pcm = out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0
                    await self.conversation.hear(pcm)
        except MediaStreamError:
            self._spawn(self.close())  # the client went away

    # --- end --------------------------------------------------------------------------------
    async def close(self, reason: str = "ended") -> None:
        if self.closed:
            return
        self.closed = True
        await self.conversation.close(reason)
        current = asyncio.current_task()
        others = [t for t in self._tasks if t is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        self.track.stop()
        await self.pc.close()
        self._on_closed(self)
