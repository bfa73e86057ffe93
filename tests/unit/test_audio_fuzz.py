"""Hostile audio at the edge: whatever arrives, decode_audio returns finite 16 kHz mono samples
in [-1, 1], capped in length, or a BadInput with a plain message — never an exception type the
caller does not expect."""

from __future__ import annotations

import io
import wave

import av
import numpy as np
import pytest

from voice_agent.errors import BadInput
from voice_agent.speech_in.audio import STT_RATE, decode_audio


def _wav_int16(samples: np.ndarray, rate: int, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return buf.getvalue()


def _wav_float(samples: np.ndarray, rate: int) -> bytes:
    """IEEE-float WAV (format 3), written with PyAV since the wave module cannot."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="wav") as out:
        stream = out.add_stream("pcm_f32le", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            samples.astype(np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def _check(decoded_samples: np.ndarray) -> None:
    assert decoded_samples.dtype == np.float32
    assert np.isfinite(decoded_samples).all()
    assert float(np.abs(decoded_samples).max(initial=0.0)) <= 1.0


def test_nan_and_inf_samples_become_finite() -> None:
    x = np.sin(np.linspace(0, 200, 16_000)).astype(np.float32)
    x[::7] = np.nan
    x[::11] = np.inf
    x[::13] = -np.inf
    x[::17] = 40.0  # far beyond full scale
    out = decode_audio(_wav_float(x, 16_000), max_seconds=30)
    _check(out.samples)
    assert out.seconds == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("rate", [4_000, 7_350, 11_025, 44_100, 96_000, 192_000])
def test_odd_sample_rates_come_out_at_16k(rate: int) -> None:
    x = (np.random.default_rng(rate).standard_normal(rate // 2) * 8000).astype(np.int16)
    out = decode_audio(_wav_int16(x, rate), max_seconds=30)
    _check(out.samples)
    assert len(out.samples) == pytest.approx(STT_RATE // 2, rel=0.02)


def test_clipped_and_many_channel_audio() -> None:
    x = np.tile(np.array([32767, -32768], np.int16), 8_000 * 6)  # square wave, 6 channels
    out = decode_audio(_wav_int16(x, 16_000, channels=6), max_seconds=30)
    _check(out.samples)


def test_an_hour_of_silence_is_capped_not_decoded_whole() -> None:
    hour = np.zeros(8_000 * 3600, np.int16)  # one hour at 8 kHz
    out = decode_audio(_wav_int16(hour, 8_000), max_seconds=30)
    assert out.truncated
    assert out.seconds == pytest.approx(30, abs=0.1)
    _check(out.samples)


@pytest.mark.parametrize(
    "data",
    [
        b"RIFF\x00\x00\x00\x00WAVEfmt ",  # a header and nothing else
        b"RIFF" + b"\xff" * 40,  # a header with absurd sizes
        bytes(range(256)) * 64,  # random bytes
        b"\x00" * 10,
    ],
)
def test_truncated_or_garbage_files_are_bad_input(data: bytes) -> None:
    try:
        out = decode_audio(data, max_seconds=30)
    except BadInput as exc:
        assert "audio" in exc.message
    else:  # FFmpeg may find a few samples in it: then they must be sane
        _check(out.samples)


def test_a_file_with_no_audio_stream_says_it_is_not_readable_audio() -> None:
    # FFmpeg opens this (a subtitle file), as it opens about 1 in 150 runs of random bytes
    subtitles = b"1\n00:00:00,000 --> 00:00:01,000\nhello\n\n2\n00:00:01,000 --> 00:00:02,000\nok\n"
    with pytest.raises(BadInput, match=r"is not a readable audio file \(it has no audio stream\)"):
        decode_audio(subtitles, max_seconds=30)
