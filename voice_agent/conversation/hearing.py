"""The microphone side of a conversation: streaming VAD, the utterance, and barge-in.

16 kHz mono audio comes in as it arrives. The streaming VAD says when speech starts, pauses,
resumes and ends; this class keeps the pre-roll (the 0.4 s before a start) and the utterance,
and tells the conversation (`Listener`). While a reply plays, the first window that is likely
speech (and not our own reply coming back) pauses the output at once; a confirmed start of
speech is a barge-in, and without one the reply plays on after `barge_in_confirm_ms`. What
the listener says is not `interruptible` (a staff member's words) is neither paused nor stopped.
The turn ends after `end_of_turn_silence_ms` of silence, or after `early_end_ms` when the
conversation says the answer to what was said up to the pause is ready (`answer_ready`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

import numpy as np

from voice_agent.config import Settings
from voice_agent.speech_in.audio import STT_RATE
from voice_agent.speech_in.vad import VadEvent

PREROLL_S = 0.4


class SpeechDetector(Protocol):
    """A streaming VAD (`speech_in.vad.StreamingVad`; a scripted one in tests)."""

    probability: float
    min_speech_ms: float
    start_threshold: float

    @property
    def silence_ms(self) -> float: ...

    def process(self, chunk: np.ndarray) -> list[VadEvent]: ...

    def finish(self) -> None: ...


class Output(Protocol):
    """What hearing needs of the reply output."""

    @property
    def playing(self) -> bool: ...

    def hold(self, paused: bool) -> None: ...

    def echoes(self, heard: np.ndarray) -> bool: ...


class Listener(Protocol):
    @property
    def interruptible(self) -> bool: ...  # may the citizen's voice stop what plays?

    def speech_started(self) -> None: ...

    def speech_paused(self, utterance: np.ndarray) -> None: ...

    def speech_resumed(self) -> None: ...

    def speech_ended(self, utterance: np.ndarray) -> None: ...


RunVad = Callable[[Callable[[np.ndarray], list[VadEvent]], np.ndarray], Awaitable[list[VadEvent]]]


class Hearing:
    def __init__(
        self,
        vad: SpeechDetector,
        settings: Settings,
        out: Output,
        listener: Listener,
        run_vad: RunVad,
        clock: Callable[[], float],
    ) -> None:
        self.vad = vad
        self._settings = settings
        self._out = out
        self._listener = listener
        self._run_vad = run_vad  # the VAD model's worker thread
        self._clock = clock
        self.speaking = False
        self._utterance: list[np.ndarray] = []
        self._preroll: deque[np.ndarray] = deque(maxlen=int(PREROLL_S / 0.02))
        self._held_at: float | None = None  # the output paused for a possible barge-in
        # the answer to what was said up to the pause is ready: end after `early_end_ms`
        self.answer_ready = False
        self.ended_by = ""  # how the last utterance ended: silence | early | limit

    async def hear(self, pcm: np.ndarray) -> None:
        vad = self._settings.vad
        playing = self._out.playing
        self.vad.min_speech_ms = vad.barge_in_min_speech_ms if playing else vad.min_speech_ms
        self.vad.start_threshold = vad.barge_in_threshold if playing else vad.start_threshold
        events = await self._run_vad(self.vad.process, pcm)
        (self._utterance if self.speaking else self._preroll).append(pcm)
        if playing and not self.speaking and self._listener.interruptible:
            self._maybe_hold(any(e.kind == "start" for e in events))
        for e in events:
            if e.kind == "start":
                self._started()
            elif e.kind == "pause" and self.speaking:
                self._listener.speech_paused(np.concatenate(self._utterance))
            elif e.kind == "resume":
                self.answer_ready = False
                self._listener.speech_resumed()
            elif e.kind == "end":
                self.end("silence")
        early = vad.early_end_ms
        if self.speaking and self.answer_ready and early and self.vad.silence_ms >= early:
            self.vad.finish()
            self.end("early")
        if self.speaking and sum(len(x) for x in self._utterance) / STT_RATE >= (
            self._settings.limits.max_audio_seconds
        ):
            self.end("limit")

    def end(self, by: str = "silence") -> None:
        """The utterance is over: `silence` (end of speech), `early` (the prepared answer is
        ready) or `limit` (too long)."""
        if not self.speaking:
            return
        self.ended_by = by
        self.speaking = False
        self.answer_ready = False
        audio = np.concatenate(self._utterance) if self._utterance else np.zeros(0, np.float32)
        self._utterance = []
        self._preroll.clear()
        self._listener.speech_ended(audio)

    def reset(self) -> None:
        """Forget what was being said (privacy reset)."""
        self.speaking = False
        self.answer_ready = False
        self._utterance = []
        self._preroll.clear()
        self.release()

    def _echo(self, heard: np.ndarray | None = None) -> bool:
        """Is the microphone (the pre-roll, or `heard`) just our own reply coming back?"""
        if heard is None:
            heard = np.concatenate(list(self._preroll)) if self._preroll else None
        return heard is not None and len(heard) > 0 and self._out.echoes(heard)

    def _maybe_hold(self, starting: bool) -> None:
        """While a reply plays: stop its audio at the first likely-speech window, before the
        barge-in is confirmed; let it go on if no confident speech follows."""
        vad = self._settings.vad
        now = self._clock()
        if self._held_at is None:
            if self.vad.probability >= vad.barge_in_pause_threshold and not self._echo():
                self._held_at = now
                self._out.hold(True)
        elif not starting and now - self._held_at >= vad.barge_in_confirm_ms / 1000:
            self.release()

    def release(self) -> None:
        """Let a held reply play on (nothing to interrupt, or the turn was stopped)."""
        if self._held_at is not None:
            self._held_at = None
            self._out.hold(False)

    def _started(self) -> None:
        speech = np.concatenate(list(self._preroll)) if self._preroll else np.zeros(0, np.float32)
        if self._out.playing and self._echo(speech):
            self.release()
            return  # our own reply coming back through the microphone
        self.speaking = True
        self.answer_ready = False
        self._utterance = [speech]
        self._listener.speech_started()  # a barge-in if a reply is playing
        self.release()  # nothing left to interrupt: whatever was held plays on
