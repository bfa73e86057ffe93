"""A scripted WebRTC citizen (aiortc): plays recorded questions as its microphone, records the
reply audio and the data-channel events, with timestamps. Used by tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from voice_agent.speech_in.audio import float_to_int16, resample_int16
from voice_agent.transports.rtc.manager import set_jitter_prefetch
from voice_agent.transports.rtc.track import FRAME, RATE, FramePacer, audio_frame


class ScriptedMicrophone(MediaStreamTrack):
    """20 ms frames at 48 kHz: queued clips, else silence; paced by the wall clock."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._queue: deque[np.ndarray] = deque()
        self._pacer = FramePacer()
        self.clip_ended_at: list[float] = []  # wall time the last sample of each clip was sent
        self.clip_started_at: list[float] = []
        self.speech_started_at: list[float] = []  # first audible frame of each clip
        self.speech_ended_at: list[float] = []  # last audible frame of each clip
        self._in_clip = False
        self._heard = False
        self._last_loud = 0.0
        self._marks = asyncio.Condition()

    def play(self, pcm16k: np.ndarray) -> None:
        """Queue a clip (16 kHz float32 in [-1, 1]) to be 'spoken' into the microphone."""
        pcm = resample_int16(float_to_int16(pcm16k), 16_000, RATE)
        pad = (-len(pcm)) % FRAME
        pcm = np.concatenate([pcm, np.zeros(pad, np.int16)])
        for i in range(0, len(pcm), FRAME):
            self._queue.append(pcm[i : i + FRAME])
        self._queue.append(np.array([], np.int16))  # clip marker

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._pacer.next_frame()
        samples = np.zeros(FRAME, np.int16)
        if self._queue:
            chunk = self._queue.popleft()
            if len(chunk) == 0:
                self.clip_ended_at.append(time.monotonic())
                self.speech_ended_at.append(self._last_loud)
                self._in_clip = False
            else:
                if not self._in_clip:
                    self.clip_started_at.append(time.monotonic())
                    self._in_clip = True
                    self._heard = False
                loud = np.abs(chunk).max() > 1000
                if not self._heard and loud:
                    self.speech_started_at.append(time.monotonic())
                    self._heard = True
                if loud:
                    self._last_loud = time.monotonic() + FRAME / RATE
                samples = chunk
        async with self._marks:
            self._marks.notify_all()
        return audio_frame(samples, pts)

    async def speech_ended(self, n: int, within: float = 120) -> float:
        """When the audible part of clip number `n` (0-based) ended. TimeoutError when the
        connection stopped pulling microphone frames."""
        async with asyncio.timeout(within), self._marks:
            await self._marks.wait_for(lambda: len(self.speech_ended_at) > n)
        return self.speech_ended_at[n]

    async def speech_started(self, n: int, within: float = 120) -> float:
        """When the audible part of clip number `n` (0-based) began."""
        async with asyncio.timeout(within), self._marks:
            await self._marks.wait_for(lambda: len(self.speech_started_at) > n)
        return self.speech_started_at[n]


@dataclass
class Citizen:
    base_url: str
    lang: str | None = None
    jitter_packets: int | None = None  # reply jitter buffer; None: aiortc's default (4)
    pc: RTCPeerConnection | None = None
    mic: ScriptedMicrophone = field(default_factory=ScriptedMicrophone)
    messages: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    audio: list[tuple[float, float]] = field(default_factory=list)  # (arrival, rms)
    keep_pcm: bool = False  # also keep the reply audio itself (`pcm`), to listen to it
    pcm: list[tuple[float, np.ndarray]] = field(default_factory=list)  # (arrival, int16 frame)
    session_id: str | None = None
    resume: str | None = None  # reconnect: the session this citizen had before
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _channel: Any = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _on_message(self, raw: str) -> None:
        self.messages.append((time.monotonic(), json.loads(raw)))
        self._tasks.append(asyncio.ensure_future(self._notify()))

    async def connect(self, within: float = 20) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTrack(self.mic)
        self._channel = self.pc.createDataChannel("events")
        opened = asyncio.Event()
        self._channel.on("open", opened.set)
        self._channel.on("message", self._on_message)

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if self.jitter_packets is not None and self.pc is not None:
                set_jitter_prefetch(self.pc, self.jitter_packets)
            self._tasks.append(asyncio.ensure_future(self._record(track)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        async with httpx.AsyncClient(timeout=within) as http:
            r = await http.post(
                f"{self.base_url}/api/rtc/offer",
                json={
                    "sdp": self.pc.localDescription.sdp,
                    "type": "offer",
                    "lang": self.lang,
                    **({"session_id": self.resume} if self.resume else {}),
                },
            )
        r.raise_for_status()
        body = r.json()
        self.session_id = body["session_id"]
        await self.pc.setRemoteDescription(RTCSessionDescription(body["sdp"], body["type"]))
        await asyncio.wait_for(opened.wait(), within)

    async def _record(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                raw = frame.to_ndarray()  # type: ignore[union-attr]
                if self.keep_pcm:  # first channel only (the decoder gives stereo, packed)
                    ch = len(frame.layout.channels)  # type: ignore[union-attr]
                    self.pcm.append((time.monotonic(), raw.reshape(-1)[::ch].copy()))
                x = raw.astype(np.float64) / 32768.0
                self.audio.append((time.monotonic(), float(np.sqrt((x**2).mean()))))
                if self.audio[-1][1] > 0.01:
                    await self._notify()
        except MediaStreamError:
            return

    def send(self, message: dict[str, Any]) -> None:
        self._channel.send(json.dumps(message))

    def first_audio_after(self, t: float, threshold: float = 0.01) -> float | None:
        return next((at for at, rms in self.audio if at > t and rms > threshold), None)

    def audio_stopped_after(self, t: float, gap: float = 0.3, threshold: float = 0.01) -> float:
        """When the reply audio playing at `t` stopped: the last non-silent frame before the
        first silence longer than `gap` (or `t` itself if nothing was playing)."""
        loud = [at for at, rms in self.audio if at > t and rms > threshold]
        gaps = [a for a, b in zip(loud, loud[1:], strict=False) if b - a > gap]
        return gaps[0] if gaps else (loud[-1] if loud else t)

    def last_audio(self, threshold: float = 0.01) -> float | None:
        loud = [at for at, rms in self.audio if rms > threshold]
        return loud[-1] if loud else None

    async def wait_for(self, predicate: Any, within: float = 30, since: int = 0) -> dict[str, Any]:
        """The first message (so far or to come; from number `since` on) for which `predicate`
        is true."""

        def found() -> dict[str, Any] | None:
            return next((m for _t, m in self.messages[since:] if predicate(m)), None)

        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(lambda: found() is not None)
        except TimeoutError:
            # what the citizen was heard saying and got back, then the latest messages
            said = [
                m for _, m in self.messages if m.get("type") in ("transcript", "reply", "reply_end")
            ]
            recent = [m for _, m in self.messages if m not in said][-6:]
            raise TimeoutError(
                f"no matching message in {within} s; heard/replied: {said}; last: {recent}"
            ) from None
        result = found()
        assert result is not None
        return result

    async def wait_audio_after(self, t: float, within: float = 20) -> float:
        """Arrival time of the first non-silent reply frame after `t`."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: self.first_audio_after(t) is not None)
        at = self.first_audio_after(t)
        assert at is not None
        return at

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        if self.pc is not None:
            await self.pc.close()
