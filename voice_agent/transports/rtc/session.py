"""One citizen's WebRTC voice session: microphone in, VAD, turns out, barge-in.

The session owns its peer connection, reply track, streaming VAD and at most one turn. A turn
is an asyncio task running `Engine.turn`; a barge-in (the citizen speaks during a reply) or a
typed question cancels it and clears the reply audio; late chunks of a cancelled turn are
dropped by turn id. Everything the session holds is released by `close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
from aiortc import RTCDataChannel, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from voice_agent import events as ev
from voice_agent.conversation.bus import EventBus
from voice_agent.conversation.engine import Engine, Session, TurnInput
from voice_agent.errors import ServiceError
from voice_agent.language.languages import UnsupportedLanguage, normalize_code
from voice_agent.speech_in.audio import STT_RATE, DecodedAudio, resample_int16
from voice_agent.speech_in.vad import StreamingVad
from voice_agent.transports.rtc.echo import echo_likelihood
from voice_agent.transports.rtc.recorder import UtteranceRecorder
from voice_agent.transports.rtc.track import RATE, ReplyTrack

log = logging.getLogger(__name__)

PREROLL_S = 0.4
ECHO_LIMIT = 0.75
MAX_MESSAGE = 8192


@dataclass
class Prepared:
    task: asyncio.Task[None]
    events: asyncio.Queue[ev.Event | None]
    state: Session


@dataclass
class Turn:
    id: str
    task: asyncio.Task[None]
    started: float


class VoiceSession:
    def __init__(
        self,
        session_id: str,
        engine: Engine,
        pc: RTCPeerConnection,
        bus: EventBus,
        language: str | None,
        on_closed: Callable[[VoiceSession], None],
    ) -> None:
        self.id = session_id
        self.engine = engine
        self.pc = pc
        self.bus = bus
        self.track = ReplyTrack()
        self.track.on_drained = self._on_drained
        self.state = Session(language=language)
        self.channel: RTCDataChannel | None = None
        self.turn: Turn | None = None
        self.active = False  # False while queued behind other sessions
        self.closed = False
        self.last_activity = time.monotonic()
        self._on_closed = on_closed
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing: set[asyncio.Task[Any]] = set()
        self._vad = StreamingVad(engine.vad_model(), engine.settings.vad)
        self._utterance: list[np.ndarray] = []
        self._preroll: deque[np.ndarray] = deque(maxlen=int(PREROLL_S / 0.02))
        self._speaking = False
        self._paused_at: float | None = None  # the reply paused for a possible barge-in
        self._pending: list[str] = []  # messages sent before the data channel opened
        self._prepared: Prepared | None = None  # a turn run during a pause, held back
        self._held: list[np.ndarray] = []  # reply audio held back when not streaming
        self.recorder: UtteranceRecorder | None = None  # only if the operator keeps audio

    # --- wiring -------------------------------------------------------------------------------
    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def spawn_detached(self, coro: Any) -> None:
        """For `close`: a task outside the session's own set, which `close` cancels."""
        task = asyncio.ensure_future(coro)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("session %s: task failed", self.id, exc_info=task.exception())
            self.send({"type": "error", "code": "internal", "message": "internal error"})

    def attach_channel(self, channel: RTCDataChannel) -> None:
        self.channel = channel
        channel.on("message", self._on_message)
        channel.on("open", self._flush)
        channel.on("close", lambda: self.spawn_detached(self.close()))
        if channel.readyState == "open":
            self._flush()

    def attach_microphone(self, track: MediaStreamTrack) -> None:
        self.spawn(self._read_microphone(track))

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message, ensure_ascii=False)
        self.bus.publish({"session": self.id, **message})
        if self.channel is not None and self.channel.readyState == "open":
            with contextlib.suppress(Exception):  # a vanished client must not break the turn
                self.channel.send(data)
        elif len(self._pending) < 100:
            self._pending.append(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for data in pending:
            if self.channel is not None:
                with contextlib.suppress(Exception):
                    self.channel.send(data)

    def activate(self) -> None:
        self.active = True
        self.send({"type": "session", "session_id": self.id, "language": self.state.language})
        self.send({"type": "state", "state": "listening"})

    # --- microphone -----------------------------------------------------------------------------
    async def _read_microphone(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=STT_RATE)
        try:
            while not self.closed:
                frame = await track.recv()
                for out in resampler.resample(frame):  # type: ignore[arg-type]
                    pcm = out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0
                    if self.active:
                        await self._hear(pcm)
        except MediaStreamError:
            self.spawn_detached(self.close())  # the client went away

    async def _hear(self, pcm: np.ndarray) -> None:
        vad = self.engine.settings.vad
        playing = self.track.busy
        self._vad.min_speech_ms = vad.barge_in_min_speech_ms if playing else vad.min_speech_ms
        self._vad.start_threshold = vad.barge_in_threshold if playing else vad.start_threshold
        events = await self.engine.vad_worker.run(self._vad.process, pcm)
        if self._speaking:
            self._utterance.append(pcm)
        else:
            self._preroll.append(pcm)
        if playing and not self._speaking:
            self._maybe_pause(any(e.kind == "start" for e in events))
        for e in events:
            if e.kind == "start":
                self._speech_started()
            elif e.kind == "pause" and self.engine.settings.server.stream_replies:
                self._prepare_turn()
            elif e.kind == "resume":
                self._drop_prepared()
            elif e.kind == "end":
                self._speech_ended()
        if self._speaking and sum(len(x) for x in self._utterance) / STT_RATE >= (
            self.engine.settings.limits.max_audio_seconds
        ):
            self._speech_ended()

    def _is_echo(self, heard: np.ndarray | None = None) -> bool:
        """Is the microphone (the last 0.4 s, or `heard`) just our own reply coming back?"""
        if heard is None:
            heard = np.concatenate(list(self._preroll)) if self._preroll else None
        if heard is None or len(heard) == 0 or not self.track.recent:
            return False
        return echo_likelihood(heard, np.concatenate(list(self.track.recent))) > ECHO_LIMIT

    def _maybe_pause(self, starting: bool) -> None:
        """While a reply plays: stop its audio at the first likely-speech window, before the
        barge-in is confirmed; resume it if no confident speech follows (or it is our echo)."""
        vad = self.engine.settings.vad
        now = time.monotonic()
        if self._paused_at is None:
            if self._vad.probability >= vad.barge_in_pause_threshold and not self._is_echo():
                self._paused_at = now
                self.track.paused = True
        elif not starting and now - self._paused_at >= vad.barge_in_confirm_ms / 1000:
            self._resume_reply()

    def _resume_reply(self) -> None:
        self._paused_at = None
        self.track.paused = False

    def _speech_started(self) -> None:
        speech = np.concatenate(list(self._preroll)) if self._preroll else np.zeros(0, np.float32)
        if self.turn is not None and self.track.busy:
            if self._is_echo(speech):
                self._resume_reply()
                return  # our own reply coming back through the microphone
            self.cancel_turn(reason="barge-in")
        self._resume_reply()  # nothing left to interrupt: whatever was held plays on
        self._speaking = True
        self._utterance = [speech]
        self.last_activity = time.monotonic()
        self.send({"type": "state", "state": "listening"})

    def _prepare_turn(self) -> None:
        """The citizen paused: run the whole turn now, holding its events back. If the pause
        turns out to be the end of the turn, they are released at once (`_speech_ended`); if
        the citizen goes on speaking, the prepared turn is dropped."""
        self._drop_prepared()
        if not self._speaking:
            return
        audio = np.concatenate(self._utterance)
        state = Session(language=self.state.language, history=list(self.state.history))
        held: asyncio.Queue[ev.Event | None] = asyncio.Queue()
        inp = TurnInput(audio=DecodedAudio(audio, len(audio) / STT_RATE, False))

        async def run() -> None:
            try:
                async for e in self.engine.turn(inp, state):
                    if isinstance(e, ev.TranscriptFinal):
                        # what the citizen said up to the pause: shown at once, as partial
                        self.send(
                            {
                                "type": "transcript",
                                "text": e.text,
                                "final": False,
                                "language": e.language,
                            }
                        )
                    held.put_nowait(e)
            except ServiceError as exc:
                held.put_nowait(
                    ev.ErrorEvent(turn_id="", t=0.0, code=exc.code, message=exc.message)
                )
            finally:
                held.put_nowait(None)

        self._prepared = Prepared(self.spawn(run()), held, state)

    def _drop_prepared(self) -> None:
        if self._prepared is not None:
            self._prepared.task.cancel()
            self._prepared = None

    def _speech_ended(self) -> None:
        if not self._speaking:
            return
        self._speaking = False
        audio = np.concatenate(self._utterance) if self._utterance else np.zeros(0, np.float32)
        self._utterance = []
        self._preroll.clear()
        if self.recorder is not None:
            self.spawn(asyncio.to_thread(self.recorder.save, self.id, audio))
        prepared, self._prepared = self._prepared, None
        if prepared is not None:
            self._begin_turn(self._release(prepared))
        else:
            self.start_turn(TurnInput(audio=DecodedAudio(audio, len(audio) / STT_RATE, False)))

    # --- turns --------------------------------------------------------------------------------
    def start_turn(self, inp: TurnInput) -> None:
        async def events() -> AsyncIterator[ev.Event]:
            async for e in self.engine.turn(inp, self.state):
                yield e

        self._begin_turn(events())

    def _begin_turn(self, events: AsyncIterator[ev.Event]) -> None:
        self.cancel_turn(reason="new question")
        self.last_activity = time.monotonic()
        turn_id = f"{self.id}-{time.monotonic_ns()}"
        task = self.spawn(self._run_turn(turn_id, events))
        self.turn = Turn(turn_id, task, time.monotonic())

    async def _release(self, prepared: Prepared) -> AsyncIterator[ev.Event]:
        self.state = prepared.state
        try:
            while (e := await prepared.events.get()) is not None:
                yield e
        finally:
            prepared.task.cancel()

    def cancel_turn(self, reason: str) -> None:
        turn = self.turn
        if turn is None:
            return
        self.turn = None
        turn.task.cancel()
        self.track.clear(turn.id)
        self._resume_reply()
        self.send({"type": "reply_end", "cancelled": True, "reason": reason})

    async def _run_turn(self, turn_id: str, events: AsyncIterator[ev.Event]) -> None:
        self.send({"type": "state", "state": "thinking"})
        try:
            async for e in events:
                self._forward(turn_id, e)
        except ServiceError as exc:
            self.send({"type": "error", "code": exc.code, "message": exc.message})
            self.send({"type": "state", "state": "listening"})
        finally:
            if self.turn is not None and self.turn.id == turn_id and not self.track.busy:
                self.turn = None
                self.send({"type": "state", "state": "listening"})

    def _forward(self, turn_id: str, e: ev.Event) -> None:
        if isinstance(e, ev.TranscriptFinal):
            self.send({"type": "transcript", "text": e.text, "final": True, "language": e.language})
        elif isinstance(e, ev.LanguageChosen):
            self.send({"type": "language", "language": e.language, "probability": e.probability})
        elif isinstance(e, ev.ReplyStarted):
            self.send(
                {
                    "type": "reply",
                    "text": "",
                    "faq_id": e.faq_id,
                    "link": e.link,
                    "handoff": e.handoff,
                    "confidence": e.confidence,
                    "language": e.language,
                }
            )
            if e.handoff:
                self.bus.publish({"session": self.id, "type": "handoff", "language": e.language})
        elif isinstance(e, ev.AudioChunk):
            pcm = resample_int16(np.frombuffer(e.pcm, np.int16), e.sample_rate, RATE)
            if not self.engine.settings.server.stream_replies:
                self._held.append(pcm)  # baseline: nothing is sent before the whole reply
                return
            self.track.push(turn_id, pcm)
            self.send({"type": "state", "state": "speaking"})
            self.send(
                {
                    "type": "visemes",
                    "items": [list(v) for v in e.visemes],
                    "duration": len(pcm) / RATE,
                }
            )
        elif isinstance(e, ev.ReplyText):
            self.send({"type": "sentence", "text": e.text})
        elif isinstance(e, ev.ReplyEnded):
            for pcm in self._held:
                self.track.push(turn_id, pcm)
            self._held = []
            self.send({"type": "reply_end", "text": e.text, "cancelled": False})
        elif isinstance(e, ev.ErrorEvent):
            self.send({"type": "error", "code": e.code, "message": e.message})

    def _on_drained(self, turn_id: str) -> None:
        if self.turn is not None and self.turn.id == turn_id and self.turn.task.done():
            self.turn = None
            self.send({"type": "state", "state": "listening"})

    # --- data channel -------------------------------------------------------------------------
    def _on_message(self, raw: object) -> None:
        self.last_activity = time.monotonic()
        try:
            if not isinstance(raw, str) or len(raw) > MAX_MESSAGE:
                raise ValueError("messages are JSON text of at most 8 KB")
            msg = json.loads(raw)
            if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
                raise ValueError('a message is a JSON object with a "type"')
            self._handle(msg)
        except (ValueError, UnsupportedLanguage) as exc:
            self.send({"type": "error", "code": "bad_message", "message": str(exc)})

    def _handle(self, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        if not self.active and kind != "reset":
            raise ValueError("the session is queued; please wait")
        if kind == "text":
            text = msg.get("text")
            if not isinstance(text, str):
                raise ValueError('"text" must be a string')
            self.start_turn(TurnInput(text=text))
        elif kind == "lang":
            self.state.language = normalize_code(str(msg.get("lang", "")))
            self.send({"type": "language", "language": self.state.language, "probability": 1.0})
        elif kind == "handoff":
            self.start_turn(TurnInput(intent="human"))
        elif kind == "interrupt":
            self.cancel_turn(reason="interrupted")
            self.send({"type": "state", "state": "listening"})
        elif kind == "reset":
            self._drop_prepared()
            self.cancel_turn(reason="reset")
            self.state = Session()
            self._speaking = False
            self._utterance = []
            self.send({"type": "state", "state": "listening" if self.active else "queued"})
        else:
            raise ValueError(f"unknown message type {kind!r}")

    # --- end ----------------------------------------------------------------------------------
    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._drop_prepared()
        self.cancel_turn(reason="closed")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.track.stop()
        if self.recorder is not None:
            self.recorder.forget(self.id)
        await self.pc.close()
        self._on_closed(self)
