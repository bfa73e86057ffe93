"""Streaming Silero VAD (the ONNX model shipped inside faster-whisper).

faster-whisper's own wrapper resets its state on every call (a file VAD); this one keeps the
recurrent state and the 64-sample context across chunks, so 20-32 ms chunks can be fed as they
arrive. Start/stop use hysteresis: speech starts after `min_speech_ms` above the start
threshold and the turn ends after `end_of_turn_silence_ms` below the stop threshold. A
"pause" (after `pause_ms` of silence) lets a session start transcribing early; "resume"
says the citizen went on speaking.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice_agent.config import VadSettings
from voice_agent.speech_in.audio import STT_RATE

WINDOW = 512  # samples at 16 kHz (32 ms), what Silero expects
CONTEXT = 64


@dataclass(frozen=True, slots=True)
class VadEvent:
    kind: str  # "start" | "pause" | "resume" | "end"
    t: float  # seconds from the start of the stream


class SileroModel:
    """The ONNX session; one per process, driven from one worker thread at a time."""

    def __init__(self, path: Path) -> None:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 4
        self.session = onnxruntime.InferenceSession(
            str(path), providers=["CPUExecutionProvider"], sess_options=opts
        )


class StreamingVad:
    """Per-stream state; feed 16 kHz float32 chunks of any length with `process`."""

    def __init__(self, model: SileroModel, settings: VadSettings) -> None:
        self._model = model
        self._settings = settings
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros((1, CONTEXT), np.float32)
        self._pending = np.zeros(0, np.float32)
        self._samples = 0
        self.speaking = False
        self.probability = 0.0
        self._above_ms = 0.0
        self._below_ms = 0.0
        self.min_speech_ms = float(settings.min_speech_ms)  # lowered during replies (barge-in)
        self.start_threshold = settings.start_threshold  # raised while a reply plays

    def _window(self, x: np.ndarray) -> float:
        inp = np.concatenate([self._context, x.reshape(1, -1)], axis=1)
        out, self._h, self._c = self._model.session.run(
            None, {"input": inp, "h": self._h, "c": self._c}
        )
        self._context = inp[:, -CONTEXT:]
        return float(np.asarray(out).reshape(-1)[0])

    @property
    def silence_ms(self) -> float:
        """How long the citizen has been silent in the current utterance (0 outside one)."""
        return self._below_ms if self.speaking else 0.0

    def finish(self) -> None:
        """The utterance was closed early (its answer was ready): the next speech is a new
        start, held to the start thresholds, not a "resume" of this one."""
        self.speaking = False
        self._above_ms = 0.0
        self._below_ms = 0.0

    def process(self, chunk: np.ndarray) -> list[VadEvent]:
        events: list[VadEvent] = []
        buf = np.concatenate([self._pending, chunk.astype(np.float32, copy=False)])
        n = len(buf) // WINDOW
        win_ms = WINDOW * 1000 / STT_RATE
        s = self._settings
        for i in range(n):
            p = self._window(buf[i * WINDOW : (i + 1) * WINDOW])
            self.probability = p
            self._samples += WINDOW
            t = self._samples / STT_RATE
            if not self.speaking:
                self._above_ms = self._above_ms + win_ms if p >= self.start_threshold else 0.0
                if self._above_ms >= self.min_speech_ms:
                    self.speaking = True
                    self._below_ms = 0.0
                    events.append(VadEvent("start", t - self._above_ms / 1000))
            else:
                was_paused = self._below_ms >= s.pause_ms
                self._below_ms = self._below_ms + win_ms if p < s.stop_threshold else 0.0
                if self._below_ms >= s.pause_ms and not was_paused:
                    events.append(VadEvent("pause", t - self._below_ms / 1000))
                elif was_paused and self._below_ms == 0.0:
                    events.append(VadEvent("resume", t))
                if self._below_ms >= s.end_of_turn_silence_ms:
                    self.speaking = False
                    self._above_ms = 0.0
                    events.append(VadEvent("end", t - self._below_ms / 1000))
        self._pending = buf[n * WINDOW :]
        return events


def speech_span(
    model: SileroModel, settings: VadSettings, audio: np.ndarray
) -> tuple[float, float] | None:
    """First speech start and last speech end in a whole recording, or None if no speech."""
    vad = StreamingVad(model, settings)
    events = vad.process(audio)
    starts = [e.t for e in events if e.kind == "start"]
    if not starts:
        return None
    ends = [e.t for e in events if e.kind == "end"]
    end = len(audio) / STT_RATE if vad.speaking or not ends else ends[-1]
    return starts[0], end
