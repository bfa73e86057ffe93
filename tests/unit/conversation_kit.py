"""A citizen on a timeline, for conversation tests: a manual clock, a microphone that is
fed 20 ms at a time through the real streaming VAD (its model faked: loud is speech), an
output that plays queued reply audio as the clock advances, and a staff desk. Tests drive a
`Conversation` only through its public interface and read what it sends."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tests.fakes import FakeStt, FakeVoices, fake_engine
from voice_agent import events as ev
from voice_agent.conversation.conversation import Conversation
from voice_agent.conversation.engine import Engine
from voice_agent.conversation.handoff import (
    HandoffListener,
    HandoffState,
    HandoffStatus,
    StaffMessage,
)
from voice_agent.conversation.wire import fields_of, to_wire
from voice_agent.speech_in.vad import StreamingVad
from voice_agent.speech_out.engines import SpeechAudio, Synthesizer
from voice_agent.transports.rtc.manager import SessionManager

CHUNK_S = 0.02
SPEECH, COUGH, QUIET = 0.5, 0.3, 0.0  # amplitudes: confident speech, a noise, silence

ENTRY = """
id: sns24-line
topic: health
sources: [https://www.sns24.gov.pt]
languages:
  en:
    status: draft
    question: What is the SNS 24 health line number?
    paraphrases: [sns 24 phone number, who do i call when sick, health line]
    answer: Call the SNS 24 line on 808 24 24 24. In an emergency, call 112.
  pt:
    status: draft
    question: Qual é o número da linha SNS 24?
    paraphrases: [numero do sns 24, a quem ligo se estiver doente, linha de saude]
    answer: Ligue para a linha SNS 24 pelo 808 24 24 24. Em caso de emergência, ligue 112.
"""
QUESTION = "What is the SNS 24 health line number?"


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class LoudIsSpeech:
    """Stands in for the Silero ONNX session: the speech probability of a 32 ms window
    follows its loudness (0.5 -> 0.95, 0.3 -> 0.6, silence -> 0.02). Counts windows."""

    def __init__(self) -> None:
        self.session = self
        self.windows = 0

    def run(self, _outputs: Any, feeds: dict[str, np.ndarray]) -> tuple[Any, Any, Any]:
        self.windows += 1
        loud = float(np.abs(feeds["input"][0, -512:]).max())
        p = 0.95 if loud >= 0.4 else 0.6 if loud >= 0.2 else 0.02
        return np.array([[p]], np.float32), feeds["h"], feeds["c"]


class SlowVoices(FakeVoices):
    """A voice that speaks 0.1 s of audio per character (long enough to talk over); with
    `block_after`, sentences after that many wait until `gate` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.block_after: int | None = None
        self.spoken: list[str] = []

    def describe(self, lang: str) -> str:
        return f"slow:{lang}"

    async def for_language(self, lang: str) -> Synthesizer:
        return _Synth(lang)

    async def synthesize(self, synth: Synthesizer, sentence: str, lang: str) -> SpeechAudio:
        if self.block_after is not None and len(self.spoken) >= self.block_after:
            await self.gate.wait()
        self.spoken.append(sentence)
        return SpeechAudio(np.full(1600 * len(sentence), 1000, np.int16), 16000, sentence)

    def close(self) -> None:
        return None


class _Synth:
    def __init__(self, lang: str) -> None:
        self.name = f"slow:{lang}"

    def synthesize(self, text: str) -> SpeechAudio:
        raise NotImplementedError


class Output:
    """The reply sink: records wire messages (checked against the schema) and plays queued
    audio as the clock advances, like the WebRTC track (silence while held)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.queue: deque[list[Any]] = deque()  # [turn_id, seconds left]
        self.played_s: dict[str, float] = {}
        self.held = False
        self.echo = False
        self.conversation: Conversation | None = None

    def send(self, event: ev.Event) -> None:
        msg = to_wire(event)
        listed = {"type", "turn_id", "t", *fields_of(type(event))}
        assert set(msg) == listed, f"{msg['type']}: fields not in the schema"
        self.sent.append(msg)

    def play(self, turn_id: str, pcm: np.ndarray, sample_rate: int) -> None:
        self.queue.append([turn_id, len(pcm) / sample_rate])

    def clear(self, turn_id: str) -> None:
        self.queue = deque(q for q in self.queue if q[0] != turn_id)

    @property
    def playing(self) -> bool:
        return bool(self.queue)

    def hold(self, paused: bool) -> None:
        self.held = paused

    def echoes(self, heard: np.ndarray) -> bool:
        return self.echo

    def advance(self, dt: float) -> None:
        while dt > 1e-9 and self.queue and not self.held:
            item = self.queue[0]
            step = min(dt, item[1])
            item[1] -= step
            dt -= step
            self.played_s[item[0]] = self.played_s.get(item[0], 0.0) + step
            if item[1] <= 1e-9:
                self.queue.popleft()
                if not self.queue and self.conversation is not None:
                    self.conversation.played(item[0])

    # --- reading what was sent ---------------------------------------------------------------
    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["type"] == kind]

    def spoken_text(self) -> str:
        return " ".join(m["text"] for m in self.of("sentence"))


class FakeDesk:
    """A staff desk with a switch for "someone is on duty"; records what it was asked."""

    def __init__(self, on_duty: bool = True, ahead: int = 0) -> None:
        self.duty = on_duty
        self.ahead = ahead
        self.requests: list[tuple[str, str, str, str | None]] = []
        self.listeners: dict[str, HandoffListener] = {}
        self.detached: list[str] = []

    def on_duty(self) -> bool:
        return self.duty

    def attach(self, session_id: str, listener: HandoffListener) -> None:
        self.listeners[session_id] = listener

    def detach(self, session_id: str) -> None:
        self.listeners.pop(session_id, None)
        self.detached.append(session_id)

    def request(
        self, session_id: str, language: str, reason: str, last_question: str | None
    ) -> HandoffStatus:
        self.requests.append((session_id, language, reason, last_question))
        if not self.duty:
            return HandoffStatus(None, session_id, HandoffState.UNAVAILABLE, on_duty=False)
        return HandoffStatus("h1", session_id, HandoffState.WAITING, True, self.ahead + 1)

    def cancel(self, session_id: str) -> HandoffStatus | None:
        return HandoffStatus("h1", session_id, HandoffState.CANCELLED, True)

    # --- what the console would do ------------------------------------------------------------
    def set_state(
        self, session_id: str, state: HandoffState, staff_name: str | None = None
    ) -> None:
        status = HandoffStatus("h1", session_id, state, True, staff_name=staff_name)
        self.listeners[session_id].handoff_changed(status)

    def say(self, session_id: str, text: str, name: str | None = "Ana") -> None:
        self.listeners[session_id].staff_message(StaffMessage("h1", text, "en", None, name))


class Citizen:
    """Feeds the conversation's microphone on the manual clock, and waits for it."""

    def __init__(self, conversation: Conversation, out: Output, clock: ManualClock) -> None:
        self.conversation = conversation
        self.out = out
        self.clock = clock
        self.samples = 0  # fed to the microphone so far

    async def sound(self, seconds: float, amplitude: float) -> None:
        for _ in range(round(seconds / CHUNK_S)):
            self.clock.now += CHUNK_S
            self.out.advance(CHUNK_S)
            self.samples += 320
            await self.conversation.hear(np.full(320, amplitude, np.float32))

    async def speak(self, seconds: float) -> None:
        await self.sound(seconds, SPEECH)

    async def quiet(self, seconds: float) -> None:
        await self.sound(seconds, QUIET)

    def type(self, message: dict[str, Any]) -> None:
        import json

        self.conversation.receive(json.dumps(message))

    async def until(self, ok: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait (real time; the manual clock stands still) until `ok()` is truthy."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not (value := ok()):
            if loop.time() > deadline:
                raise AssertionError(f"timed out; sent: {[m['type'] for m in self.out.sent]}")
            await asyncio.sleep(0.005)
        return value

    async def reply_done(self, n: int = 1) -> dict[str, Any]:
        """The n-th reply that was produced to its end (cancelled ones are not counted)."""

        def done() -> list[dict[str, Any]]:
            ends = [m for m in self.out.of("reply_end") if not m["cancelled"]]
            return ends if len(ends) >= n else []

        return (await self.until(done))[n - 1]  # type: ignore[no-any-return]


async def build(
    tmp: Path,
    *,
    stt_text: str = QUESTION,
    desk: FakeDesk | None = None,
    slow: bool = True,
    settings: Callable[[Engine], None] | None = None,
    keep_for: str | None = None,
) -> tuple[Engine, Conversation, Output, Citizen, LoudIsSpeech]:
    faq = tmp / "faq"
    (faq / "entries").mkdir(parents=True, exist_ok=True)
    (faq / "entries" / "sns24-line.yaml").write_text(ENTRY, encoding="utf-8")
    engine = fake_engine(tmp, faq, stt=FakeStt(stt_text))
    if slow:
        engine.voices = SlowVoices()
    if settings is not None:
        settings(engine)
    await engine.load_faq()
    clock = ManualClock()
    out = Output()
    model = LoudIsSpeech()
    vad = StreamingVad(model, engine.settings.vad)  # type: ignore[arg-type]
    keep = None
    if keep_for is not None:  # utterances kept the way the WebRTC sessions keep them
        manager = SessionManager(engine, engine.settings.server, engine.bus)
        keep = manager.utterance_keeper(keep_for)
    conv = Conversation(
        "s1", engine, out, language="en", desk=desk, vad=vad, clock=clock, keep_utterance=keep
    )
    out.conversation = conv
    conv.activate()
    return engine, conv, out, Citizen(conv, out, clock), model
