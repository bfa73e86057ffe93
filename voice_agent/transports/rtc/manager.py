"""Signalling and admission: offers in, answers out; rate limits, queueing, idle timeouts.

Sessions beyond `max_active_sessions` are connected but queued (told their position) and
promoted in order as others end, so a busy kiosk row never slows every conversation down.
Time (rate limits, idle timeouts) is read from one clock, passed in (monotonic: a wall-clock
jump changes no timeout). A browser that reconnects names its previous session (`resume`): from
the same address, the old peer connection is closed (told `replaced`) and the new session goes
on with the conversation's memory (its language and last answer); an unknown or foreign id just
starts a fresh session.
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
from voice_agent.conversation.conversation import KeepUtterance
from voice_agent.conversation.engine import Engine
from voice_agent.conversation.handoff import HandoffDesk, NoDesk
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
        desk: HandoffDesk | None = None,
        on_closed: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.bus = bus
        self.clock = clock
        self.desk: HandoffDesk = desk or NoDesk()
        self._on_closed = on_closed  # after a session is gone (the server frees its cycles)
        self.sessions: dict[str, VoiceSession] = {}
        self.queue: deque[VoiceSession] = deque()
        self._buckets: dict[str, _Bucket] = {}
        self._clients: dict[str, str] = {}  # session id -> the client address that opened it
        self._watcher: asyncio.Task[None] | None = None
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

    def utterance_keeper(self, session_id: str) -> KeepUtterance | None:
        """Where a session's utterances go: WAV files, only if the operator keeps audio."""
        recorder = self.recorder
        if recorder is None:
            return None
        return lambda audio: asyncio.to_thread(recorder.save, session_id, audio)

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
    def full(self) -> bool:
        """A new session would wait in the queue here."""
        return self.active_count >= self.capacity or bool(self.queue)

    @property
    def active_count(self) -> int:
        return sum(1 for s in self.sessions.values() if s.conversation.active)

    def _admit(self, session: VoiceSession) -> None:
        if self.active_count < self.capacity:
            session.conversation.activate()
        else:
            self.queue.append(session)
            self._announce_queue()

    def _announce_queue(self) -> None:
        for i, s in enumerate(self.queue, 1):
            s.conversation.queued(i)

    def _closed(self, session: VoiceSession) -> None:
        self.sessions.pop(session.id, None)
        self._clients.pop(session.id, None)
        if self.recorder is not None:
            self.recorder.forget(session.id)
        self.peer_connections.discard(session.pc)
        if session in self.queue:
            self.queue.remove(session)
        while self.queue and self.active_count < self.capacity:
            self.queue.popleft().conversation.activate()
        self._announce_queue()
        if self._on_closed is not None:
            self._on_closed()

    # --- signalling ---------------------------------------------------------------------------
    async def offer(
        self, sdp: str, kind: str, lang: str | None, client: str, resume: str | None = None
    ) -> dict[str, Any]:
        self._rate_limit(client)
        if kind != "offer":
            raise BadInput('"type" must be "offer"')
        if not sdp or len(sdp) > MAX_SDP:
            raise BadInput(f"the SDP offer is empty or larger than {MAX_SDP // 1024} KB")
        has_audio, has_data = "m=audio" in sdp, "m=application" in sdp
        if not (has_audio or has_data):
            raise BadInput("the offer has neither an audio track nor a data channel")
        language = normalize_code(lang) if lang else None
        previous = self.sessions.get(resume or "")
        if previous is not None and self._clients.get(previous.id) != client:
            previous = None  # only the browser that opened a conversation may take it over
        if previous is not None:
            language = language or previous.conversation.session.language
        servers = [RTCIceServer(urls=u) for u in self.settings.ice_servers]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.peer_connections.add(pc)
        session_id = uuid.uuid4().hex[:16]
        session = VoiceSession(
            session_id,
            self.engine,
            pc,
            language,
            self._closed,
            desk=self.desk,
            clock=self.clock,
            keep_utterance=self.utterance_keeper(session_id),
        )
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
        if previous is not None:
            session.conversation.session.context = previous.conversation.session.context
            await previous.close("replaced")
        self.sessions[session.id] = session
        self._clients[session.id] = client
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.ensure_future(self._watch())
        self._admit(session)
        return {"sdp": pc.localDescription.sdp, "type": "answer", "session_id": session.id}

    async def close_idle(self) -> int:
        """Close the sessions idle for `session_idle_seconds` (by this manager's clock)."""
        limit = self.settings.session_idle_seconds
        idle = [s for s in self.sessions.values() if s.conversation.idle_seconds() >= limit]
        await asyncio.gather(*(s.close("idle") for s in idle), return_exceptions=True)
        return len(idle)

    async def _watch(self) -> None:
        """One watcher for all sessions; it ends when the last one has."""
        step = max(0.05, min(1.0, self.settings.session_idle_seconds / 4))
        while self.sessions:
            await self.close_idle()
            await asyncio.sleep(step)

    def handoff(self, session_id: str | None, lang: str | None) -> dict[str, Any]:
        """The "talk to a person" button over HTTP: for a live session, its conversation asks
        the desk (and says the answer); without one nobody can join, so the helpline."""
        session = self.sessions.get(session_id or "")
        if session is not None and session.conversation.active:
            session.conversation.request_handoff("button")
            status = session.conversation.line.status
            return {"ok": True, "state": str(status.state) if status else None}
        hs = self.engine.settings.handoff
        return {
            "ok": True,
            "state": "unavailable",
            "helpline": hs.helpline,
            "helpline_mobile": hs.helpline_mobile,
        }

    async def close_all(self, reason: str = "shutdown") -> None:
        """Close every session (telling each browser why) and stop watching."""
        if self._watcher is not None:
            self._watcher.cancel()
        await asyncio.gather(
            *(s.close(reason) for s in list(self.sessions.values())), return_exceptions=True
        )
