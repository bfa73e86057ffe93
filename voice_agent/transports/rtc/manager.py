"""Signalling and admission: offers in, answers out; rate limits, queueing, idle timeouts.

Sessions beyond `max_active_sessions` are connected but queued (told their position) and
promoted in order as others end, so a busy kiosk row never slows every conversation down.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.jitterbuffer import JitterBuffer

from voice_agent.config import ServerSettings
from voice_agent.conversation.bus import EventBus
from voice_agent.conversation.engine import Engine
from voice_agent.errors import BadInput, ServiceError
from voice_agent.language.languages import normalize_code
from voice_agent.transports.rtc.recorder import UtteranceRecorder
from voice_agent.transports.rtc.session import VoiceSession

MAX_SDP = 64 * 1024


class RateLimited(ServiceError):
    code = "rate_limited"

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            f"too many connection attempts; try again in {retry_after:.1f} s", retryable=True
        )
        self.retry_after = retry_after


def restrict_ice_addresses(addresses: tuple[str, ...]) -> None:
    """Gather ICE host candidates only on these addresses (tests: 127.0.0.1).

    aioice looks this function up at call time, so replacing it is enough; it is process-wide,
    which is what an operator pinning a kiosk to one interface wants.
    """
    if addresses:
        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(addresses)


def set_jitter_prefetch(pc: RTCPeerConnection, packets: int) -> None:
    """Shorten the incoming audio jitter buffer. aiortc fixes it at 4 packets and offers no
    setting, so its receiver's (private) buffer is replaced; if aiortc changes, the default
    stays and only latency is lost."""
    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        if transceiver.kind == "audio" and hasattr(receiver, "_RTCRtpReceiver__jitter_buffer"):
            receiver._RTCRtpReceiver__jitter_buffer = JitterBuffer(capacity=16, prefetch=packets)


@dataclass
class _Bucket:
    tokens: float
    at: float


class SessionManager:
    def __init__(
        self,
        engine: Engine,
        settings: ServerSettings,
        bus: EventBus,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.bus = bus
        self.clock = clock
        self.sessions: dict[str, VoiceSession] = {}
        self.queue: deque[VoiceSession] = deque()
        self._buckets: dict[str, _Bucket] = {}
        self._watchdogs: dict[str, asyncio.Task[None]] = {}
        self.peer_connections: set[RTCPeerConnection] = set()
        privacy, engine_settings = engine.settings.privacy, engine.settings
        self.recorder = (
            UtteranceRecorder(
                engine_settings.path(engine_settings.var_dir) / "audio",
                privacy.audio_retention_days,
            )
            if privacy.store_audio
            else None
        )

    # --- admission ----------------------------------------------------------------------------
    def _rate_limit(self, client: str) -> None:
        now = self.clock()
        rate, burst = self.settings.offers_per_second, self.settings.offer_burst
        b = self._buckets.get(client) or _Bucket(burst, now)
        b.tokens = min(burst, b.tokens + (now - b.at) * rate)
        b.at = now
        if b.tokens < 1:
            self._buckets[client] = b
            raise RateLimited((1 - b.tokens) / rate)
        b.tokens -= 1
        self._buckets[client] = b
        if len(self._buckets) > 10_000:  # forget idle clients
            self._buckets = {k: v for k, v in self._buckets.items() if now - v.at < 60}

    @property
    def capacity(self) -> int:
        return self.settings.max_active_sessions or os.cpu_count() or 1

    @property
    def active_count(self) -> int:
        return sum(1 for s in self.sessions.values() if s.active)

    def _admit(self, session: VoiceSession) -> None:
        if self.active_count < self.capacity:
            session.activate()
        else:
            self.queue.append(session)
            self._announce_queue()

    def _announce_queue(self) -> None:
        for i, s in enumerate(self.queue, 1):
            s.send({"type": "state", "state": "queued", "position": i})

    def _closed(self, session: VoiceSession) -> None:
        self.sessions.pop(session.id, None)
        self.peer_connections.discard(session.pc)
        if session in self.queue:
            self.queue.remove(session)
        dog = self._watchdogs.pop(session.id, None)
        if dog is not None and dog is not asyncio.current_task():
            dog.cancel()
        while self.queue and self.active_count < self.capacity:
            self.queue.popleft().activate()
        self._announce_queue()
        self.bus.publish({"session": session.id, "type": "closed"})

    # --- signalling ---------------------------------------------------------------------------
    async def offer(self, sdp: str, kind: str, lang: str | None, client: str) -> dict[str, Any]:
        self._rate_limit(client)
        if kind != "offer":
            raise BadInput('"type" must be "offer"')
        if not sdp or len(sdp) > MAX_SDP:
            raise BadInput(f"the SDP offer is empty or larger than {MAX_SDP // 1024} KB")
        has_audio, has_data = "m=audio" in sdp, "m=application" in sdp
        if not (has_audio or has_data):
            raise BadInput("the offer has neither an audio track nor a data channel")
        language = normalize_code(lang) if lang else None
        servers = [RTCIceServer(urls=u) for u in self.settings.ice_servers]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.peer_connections.add(pc)
        session = VoiceSession(
            uuid.uuid4().hex[:16], self.engine, pc, self.bus, language, self._closed
        )
        session.recorder = self.recorder
        pc.on("datachannel", session.attach_channel)

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "audio":
                set_jitter_prefetch(pc, self.settings.mic_jitter_prefetch)
                session.attach_microphone(track)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await session.close()

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            if has_audio:
                pc.addTrack(session.track)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:  # aiortc raises ValueError, KeyError, ... on bad SDP
            # closing a half-built connection can raise too (aiortc's SCTP transport has no
            # DTLS transport yet): found by tests/transports/test_offer_fuzz.py
            with contextlib.suppress(Exception):
                await pc.close()
            self.peer_connections.discard(pc)
            raise BadInput(
                f"the SDP offer could not be used: {exc.__class__.__name__}: {exc}"
            ) from exc
        self.sessions[session.id] = session
        self._watchdogs[session.id] = asyncio.ensure_future(self._watch(session))
        self._admit(session)
        return {"sdp": pc.localDescription.sdp, "type": "answer", "session_id": session.id}

    async def _watch(self, session: VoiceSession) -> None:
        limit = self.settings.session_idle_seconds
        while not session.closed:
            idle = time.monotonic() - session.last_activity
            if session.turn is not None or session.track.busy:
                idle = 0.0
            if idle >= limit:
                session.send({"type": "state", "state": "idle"})
                await session.close()
                return
            await asyncio.sleep(limit - idle + 0.05)

    def handoff(self, session_id: str | None, lang: str | None) -> None:
        self.bus.publish({"session": session_id, "type": "handoff", "language": lang})

    async def close_all(self) -> None:
        await asyncio.gather(
            *(s.close() for s in list(self.sessions.values())), return_exceptions=True
        )
