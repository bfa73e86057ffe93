"""Is what the microphone hears just our own reply coming back? (residual echo check)

Browser echo cancellation removes most of it; what remains follows the reply's loudness
envelope with a small delay. Compare 10 ms energy envelopes over delays up to 400 ms.
"""

from __future__ import annotations

import numpy as np


def envelope(x: np.ndarray, hop: int) -> np.ndarray:
    n = len(x) // hop
    if n == 0:
        return np.zeros(0)
    frames = x[: n * hop].astype(np.float64).reshape(n, hop)
    return np.sqrt((frames**2).mean(1) + 1e-12)


def echo_likelihood(mic16k: np.ndarray, played48k: np.ndarray, max_delay_s: float = 0.4) -> float:
    """Highest normalised correlation between the mic and the played envelopes (0..1)."""
    mic = np.log(envelope(mic16k, 160))
    out = np.log(envelope(played48k, 480))
    if len(mic) < 10 or len(out) < len(mic):
        return 0.0
    best = 0.0
    m = (mic - mic.mean()) / (mic.std() + 1e-9)
    for d in range(0, int(max_delay_s * 100) + 1):
        end = len(out) - d
        seg = out[end - len(mic) : end] if end - len(mic) >= 0 else None
        if seg is None:
            break
        s = (seg - seg.mean()) / (seg.std() + 1e-9)
        best = max(best, float((m * s).mean()))
    return best
