"""One turn: its id, its state, its task, the audio it has queued; cancelling it stops it all.

A turn is created when the citizen's question is complete (end of speech, a typed question),
or already at a short pause in their speech ("preparing": its events are held back until the
pause turns out to be the end of the turn). Whatever stops a reply (a barge-in, the stop
button, a new question, a reset, the end of the session) goes through `Turn.cancel`: the task
is cancelled, held events and held audio are dropped, and the output is told to drop the
audio it queued for this turn (late chunks carry a stale turn id and are dropped too).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np

from voice_agent import events as ev


class TurnState(StrEnum):
    PREPARING = "preparing"  # run during a pause; nothing shown or played yet
    RUNNING = "running"  # its events reach the citizen
    PLAYING = "playing"  # everything is produced; its audio is still playing
    DONE = "done"
    CANCELLED = "cancelled"


class AudioOut(Protocol):
    def clear(self, turn_id: str) -> None: ...


@dataclass(eq=False)
class Turn:
    id: str
    state: TurnState
    asked_at: float | None = None  # clock time the question was complete (None: still preparing)
    started_at: float = 0.0  # clock time its task started (`t` of its messages counts from it)
    task: asyncio.Task[Any] | None = None
    held: list[ev.Event] = field(default_factory=list)  # events held back while preparing
    # reply audio held back until the reply is complete (no streaming): (pcm, rate, visemes)
    audio: list[tuple[np.ndarray, int, tuple[tuple[float, str], ...]]] = field(default_factory=list)
    queued_s: float = 0.0  # seconds of audio handed to the output
    first_audio_at: float | None = None
    replying: bool = False  # ReplyStarted went out
    # words said as they are (`Say`): by "staff" (the citizen's voice does not stop them) or
    # the "assistant" (news of the hand-off); None: the answer to a question
    speaker: str | None = None
    said: list[str] = field(default_factory=list)
    heard: str = ""  # the transcript (of a prepared turn: up to the pause)
    marks: dict[str, float] = field(default_factory=dict)  # event type -> t (turn-relative)
    prepared: bool = False  # started at a pause in the citizen's speech
    end_of_turn: str | None = None  # how the citizen's turn ended (Conversation._end_of_turn)

    @property
    def live(self) -> bool:
        return self.state in (TurnState.PREPARING, TurnState.RUNNING, TurnState.PLAYING)

    def cancel(self, out: AudioOut) -> bool:
        """Stop everything this turn does; False if it was already over."""
        if not self.live:
            return False
        self.state = TurnState.CANCELLED
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.held.clear()
        self.audio.clear()
        out.clear(self.id)
        return True

    def mark(self, event: ev.Event) -> None:
        """Remember when each stage finished (first occurrence), for the metrics."""
        self.marks.setdefault(type(event).__name__, event.t)

    def metrics(self, now: float, t: float) -> ev.TurnMetrics:
        m = self.marks

        def ms(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None else round((b - a) * 1000, 1)

        heard = m.get("Transcribed")
        chosen = m.get("LanguageChosen")
        decided = m.get("Decided")
        return ev.TurnMetrics(
            turn_id=self.id,
            t=t,
            stt_ms=ms(0.0, heard),
            lid_ms=ms(heard, chosen) if heard is not None else None,
            retrieval_ms=ms(chosen if chosen is not None else 0.0, decided),
            first_audio_ms=ms(self.asked_at, self.first_audio_at),
            total_ms=ms(self.asked_at, now),
            cancelled=self.state == TurnState.CANCELLED,
            end_of_turn=self.end_of_turn,
            pause_to_ready_ms=ms(0.0, decided) if self.prepared else None,
            pause_to_end_ms=ms(self.started_at, self.asked_at) if self.prepared else None,
        )
