"""Viseme timings for voices that give no phoneme timings (Kokoro): the phoneme sequence is
spread over the voiced parts of the audio, so the mouth rests in the pauses between phrases.

Vowels get a little more time than consonants. The web client plays the result exactly like
espeak-ng's own phoneme events (avatar.js `playVisemes`).
"""

from __future__ import annotations

import numpy as np

from voice_agent.speech_out.espeak_lib import viseme_of

FRAME_S = 0.01
MIN_GAP_S = 0.12  # a silence at least this long closes the mouth
_VOWEL_VISEMES = frozenset("AEIOU")
_SKIP = frozenset('ˈˌːˑ̃ʲʰ ;:,.!?—…"()“”↓→↗↘')
# Kokoro's own symbols (diphthongs, affricates) and sounds made with the mouth half open
_KOKORO = {"A": "E", "I": "A", "W": "A", "O": "O", "Q": "O", "Y": "O", "ɨ": "I", "ᵻ": "I"}
_HALF_OPEN = "L"  # k, g, h, ʁ, ʔ...: the tongue works, the lips stay as they were


def mouth_of(symbol: str) -> str:
    if symbol in _KOKORO:
        return _KOKORO[symbol]
    v = viseme_of(symbol)
    return _HALF_OPEN if v == "rest" else v


def voiced_spans(pcm: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """(start, end) seconds of the parts louder than 4 % of the peak, short gaps bridged."""
    hop = max(1, int(rate * FRAME_S))
    n = len(pcm) // hop
    if n == 0:
        return []
    frames = pcm[: n * hop].astype(np.float32).reshape(n, hop)
    rms = np.sqrt((frames**2).mean(axis=1))
    loud = rms > max(0.04 * float(rms.max()), 30.0)
    spans: list[tuple[float, float]] = []
    start: int | None = None
    for i, on in enumerate([*loud.tolist(), False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            a, b = start * FRAME_S, i * FRAME_S
            if spans and a - spans[-1][1] < MIN_GAP_S:
                spans[-1] = (spans[-1][0], b)
            else:
                spans.append((a, b))
            start = None
    return spans


def spread_visemes(phonemes: str, pcm: np.ndarray, rate: int) -> tuple[tuple[float, str], ...]:
    """[(seconds, viseme)] for `phonemes` laid over the voiced spans of `pcm`."""
    duration = round(len(pcm) / rate, 3) if rate else 0.0
    units = [mouth_of(ch) for ch in phonemes if ch not in _SKIP]
    spans = voiced_spans(pcm, rate)
    if not units or not spans:
        return ((duration, "rest"),) if duration else ()
    weights = np.array([1.6 if u in _VOWEL_VISEMES else 1.0 for u in units])
    voiced = sum(b - a for a, b in spans)
    starts = np.concatenate([[0.0], np.cumsum(weights)[:-1]]) / weights.sum() * voiced

    def to_audio_time(x: float) -> float:  # position in voiced time -> seconds in the audio
        for a, b in spans:
            if x < b - a:
                return a + x
            x -= b - a
        return spans[-1][1]

    out: list[tuple[float, str]] = []
    span_ends = {round(b, 3) for a, b in spans[:-1]}
    for unit, x in zip(units, starts, strict=True):
        t = round(to_audio_time(float(x)), 3)
        for end in sorted(span_ends):  # a pause before this phoneme: close the mouth there
            if out and out[-1][0] < end <= t:
                out.append((end, "rest"))
                span_ends.discard(end)
        if not out or out[-1][1] != unit:
            out.append((t, unit))
    out.append((round(spans[-1][1], 3), "rest"))
    return tuple(out)
