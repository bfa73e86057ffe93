"""The outgoing reply track: 20 ms frames at 48 kHz, pts counted in samples, paced by the
wall clock, silence when idle. Audio is queued per turn; a barge-in clears the queue, and a
late chunk from a cancelled turn is dropped by its turn id. `paused` holds the queue and sends
silence (a possible barge-in, not yet confirmed).
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections import deque
from collections.abc import Callable

import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

RATE = 48_000
FRAME = 960  # 20 ms
TIME_BASE = fractions.Fraction(1, RATE)


class FramePacer:
    """Counts pts in samples and waits until each 20 ms frame is due by the wall clock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start: float | None = None
        self.pts = 0

    async def next_frame(self) -> int:
        now = self._clock()
        if self._start is None:
            self._start = now
        else:
            self.pts += FRAME
            wait = self._start + self.pts / RATE - now
            if wait > 0:
                await asyncio.sleep(wait)
        return self.pts


def audio_frame(samples: np.ndarray, pts: int) -> AudioFrame:
    """One mono int16 frame at 48 kHz with its pts (time base 1/48000)."""
    frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = RATE
    frame.pts = pts
    frame.time_base = TIME_BASE
    return frame


class ReplyTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._queue: deque[tuple[str, np.ndarray]] = deque()
        self._current: tuple[str, np.ndarray, int] | None = None  # (turn, pcm, offset)
        self._pacer = FramePacer(clock)
        self._dropped_turns: set[str] = set()
        self.recent = deque[np.ndarray](maxlen=50)  # the last second sent, for echo checks
        self.on_drained: Callable[[str], None] | None = None
        self.paused = False

    # --- producer side ----------------------------------------------------------------------
    def push(self, turn_id: str, pcm48: np.ndarray) -> None:
        if turn_id in self._dropped_turns or len(pcm48) == 0:
            return
        self._queue.append((turn_id, pcm48.astype(np.int16, copy=False)))

    def clear(self, turn_id: str | None = None) -> int:
        """Drop queued and playing audio (of one turn, or all); returns samples dropped."""
        dropped = 0
        if turn_id is not None:
            self._dropped_turns.add(turn_id)
        kept: deque[tuple[str, np.ndarray]] = deque()
        for t, pcm in self._queue:
            if turn_id is None or t == turn_id:
                dropped += len(pcm)
            else:
                kept.append((t, pcm))
        self._queue = kept
        if self._current and (turn_id is None or self._current[0] == turn_id):
            dropped += len(self._current[1]) - self._current[2]
            self._current = None
        return dropped

    @property
    def busy(self) -> bool:
        return bool(self._queue) or self._current is not None

    def queued_seconds(self) -> float:
        total = sum(len(p) for _, p in self._queue)
        if self._current:
            total += len(self._current[1]) - self._current[2]
        return total / RATE

    # --- aiortc side --------------------------------------------------------------------------
    def _next_samples(self) -> np.ndarray:
        out = np.zeros(FRAME, np.int16)
        filled = 0
        while filled < FRAME and not self.paused:
            if self._current is None:
                if not self._queue:
                    break
                t, pcm = self._queue.popleft()
                self._current = (t, pcm, 0)
            t, pcm, off = self._current
            take = min(FRAME - filled, len(pcm) - off)
            out[filled : filled + take] = pcm[off : off + take]
            filled += take
            off += take
            if off >= len(pcm):
                self._current = None
                if not self._queue and self.on_drained:
                    self.on_drained(t)
            else:
                self._current = (t, pcm, off)
        self.recent.append(out)
        return out

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._pacer.next_frame()
        return audio_frame(self._next_samples(), pts)
