"""Audio at the edges: decode anything to 16 kHz mono float32 once; resample TTS output once."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from voice_agent.errors import BadInput

STT_RATE = 16_000
# One mono voice needs no thread pool: PyAV's default (0, automatic) starts cores + 1 FFmpeg
# threads per resampler, which a filter graph (a reference cycle) keeps until Python's next
# full collection, long after the resampler is gone.
RESAMPLER_THREADS = 1


def mono_resampler(sample_format: str, rate: int) -> av.AudioResampler:
    """A resampler to mono `sample_format` at `rate`, single-threaded: every one we make."""
    return av.AudioResampler(
        format=sample_format, layout="mono", rate=rate, threads=RESAMPLER_THREADS
    )


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    samples: np.ndarray  # float32 mono in [-1, 1] at STT_RATE
    source_seconds: float  # duration decoded before the cap (at most cap + one frame)
    truncated: bool

    @property
    def seconds(self) -> float:
        return len(self.samples) / STT_RATE


def decode_audio(data: bytes | Path, *, max_seconds: float) -> DecodedAudio:
    """Decode WAV (any rate, width, channels) or any format FFmpeg knows; cap the length.

    Raises BadInput with a plain message for files that are not audio.
    """
    name = str(data) if isinstance(data, Path) else "input"
    if isinstance(data, Path):
        try:
            data = data.read_bytes()
        except OSError as exc:
            raise BadInput(f"cannot read {name}: {exc.strerror or exc}") from exc
    if not data:
        raise BadInput(f"{name} is empty: expected a WAV or other audio file")
    limit = int(max_seconds * STT_RATE)
    pieces: list[np.ndarray] = []
    total = 0
    truncated = False
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise BadInput(f"{name} is not a readable audio file (it has no audio stream)")
            stream = container.streams.audio[0]
            resampler = mono_resampler("flt", STT_RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    arr = out.to_ndarray().reshape(-1)
                    pieces.append(arr)
                    total += len(arr)
                if total > limit:
                    truncated = True
                    break
            if not truncated:
                for out in resampler.resample(None):
                    pieces.append(out.to_ndarray().reshape(-1))
    except BadInput:
        raise
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise BadInput(f"{name} is not a readable audio file ({exc.__class__.__name__})") from exc
    samples = np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)
    source_seconds = len(samples) / STT_RATE
    if truncated or len(samples) > limit:
        truncated = True
        samples = samples[:limit]
    # Float WAVs can carry NaN / Inf or values far outside [-1, 1]: silence and clip them here,
    # once, so no model downstream ever sees them.
    samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
    return DecodedAudio(np.clip(samples, -1.0, 1.0), source_seconds, truncated)


def resample_int16(pcm: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample mono int16 with libswresample (used once, at the output edge)."""
    if from_rate == to_rate or len(pcm) == 0:
        return pcm.astype(np.int16, copy=False)
    resampler = mono_resampler("s16", to_rate)
    frame = av.AudioFrame.from_ndarray(
        pcm.reshape(1, -1).astype(np.int16), format="s16", layout="mono"
    )
    frame.sample_rate = from_rate
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out).astype(np.int16) if out else np.zeros(0, np.int16)


def float_to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 1.0) * 32767).astype(np.int16)


def wav_bytes(pcm: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())
    return buf.getvalue()


def write_wav(path: Path, pcm: np.ndarray, rate: int) -> None:
    path.write_bytes(wav_bytes(pcm, rate))
