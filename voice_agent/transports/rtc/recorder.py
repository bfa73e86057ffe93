"""Citizens' utterances kept as WAV files, only when an operator turns it on.

Off by default (`[privacy] store_audio = false`): nothing a citizen says is written anywhere.
When on, each utterance the VAD cut out is saved as 16 kHz mono WAV under
`var/audio/<date>/<session>-<n>.wav`, and files older than `audio_retention_days` are deleted
(checked on the first save and then at most once an hour).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from voice_agent.speech_in.audio import STT_RATE, float_to_int16, write_wav

log = logging.getLogger(__name__)

HOUR = 3600.0
DAY = 24 * HOUR


class UtteranceRecorder:
    """Blocking file work: call `save` and `purge` from a worker thread."""

    def __init__(
        self,
        folder: Path,
        retention_days: float,
        clock: Callable[[], float] = time.time,
        interval_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock`: wall time, to compare with the files' times; `interval_clock`: when the
        last purge ran (monotonic: a wall clock set back a day must not pause purging)."""
        self.folder = folder
        self._retention = retention_days * DAY
        self._clock = clock
        self._interval = interval_clock
        self._purged_at = float("-inf")
        self._counts: dict[str, int] = {}

    def save(self, session_id: str, pcm16k: np.ndarray) -> Path:
        now = self._clock()
        if self._interval() - self._purged_at >= HOUR:
            self.purge()
        n = self._counts.get(session_id, 0) + 1
        self._counts[session_id] = n
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        path = self.folder / day / f"{session_id}-{n:03d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, float_to_int16(pcm16k), STT_RATE)
        return path

    def forget(self, session_id: str) -> None:
        self._counts.pop(session_id, None)

    def purge(self) -> int:
        """Delete recordings older than the retention period; returns files removed."""
        self._purged_at = self._interval()
        now = self._clock()
        if not self.folder.is_dir():
            return 0
        removed = 0
        for path in self.folder.glob("*/*.wav"):
            try:
                if now - path.stat().st_mtime > self._retention:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        for day in self.folder.iterdir():
            if day.is_dir() and not any(day.iterdir()):
                shutil.rmtree(day, ignore_errors=True)
        if removed:
            log.info("deleted %d recordings older than the retention period", removed)
        return removed
