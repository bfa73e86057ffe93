"""Process-wide memory settings (voice_agent/memory.py), each checked in a fresh process.

The malloc arena cap holds there: threads that each allocate share two arenas instead of getting
one each. glibc's malloc_stats() prints one "Arena N:" block per arena to stderr, which is what
is counted. The heap: a closed session's cycles (with the FFmpeg threads a PyAV filter graph
holds) are freed by the sweep after it, and our own resamplers start no threads at all."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from voice_agent.memory import limit_malloc_arenas

CHILD = """
import ctypes, sys, threading
from voice_agent.memory import limit_malloc_arenas
applied = limit_malloc_arenas(int(sys.argv[1]))
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = (ctypes.c_size_t,)
start, keep = threading.Barrier(8), []
def work():
    start.wait()  # all eight allocate at once: each wants an arena of its own
    keep.extend(libc.malloc(4096) for _ in range(200))
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(applied, flush=True)
libc.malloc_stats()
"""


def arenas(cap: int, env: dict[str, str] | None = None) -> tuple[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(cap)],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | (env or {}),
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip(), sum(line.startswith("Arena ") for line in out.stderr.splitlines())


def glibc() -> bool:
    import ctypes

    return hasattr(ctypes.CDLL(None), "gnu_get_libc_version")


@pytest.mark.skipif(not glibc(), reason="malloc arenas are glibc's")
def test_two_arenas_for_eight_allocating_threads() -> None:
    applied, n = arenas(2)
    assert applied == "True" and n == 2, n
    # the glibc default for comparison: the same threads get more arenas than the cap
    applied, n = arenas(0)
    assert applied == "False" and n > 2, n


@pytest.mark.skipif(not glibc(), reason="malloc arenas are glibc's")
def test_the_operators_environment_wins() -> None:
    applied, n = arenas(2, {"MALLOC_ARENA_MAX": "3"})
    assert applied == "False" and n <= 3, n


def test_zero_means_the_c_library_default() -> None:
    assert limit_malloc_arenas(0) is False


def child(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


HEAP = """
import asyncio, gc, os
import av, numpy as np
from voice_agent.memory import Heap

def threads():
    return len(os.listdir("/proc/self/task"))

class Session:  # what a closed WebRTC session leaves: a cycle holding a resampler in use
    def __init__(self):
        self.me = self
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 441), np.int16), layout="mono")
        frame.sample_rate = 22050
        self.resampler.resample(frame)

async def main():
    gc.disable()  # only the heap's sweeps collect, as in a server between full collections
    heap = Heap(delay=0.05)
    frozen = heap.freeze()
    before = threads()
    Session()
    held = threads()
    for _ in range(3):  # three sessions closing together: one sweep
        heap.sweep_soon()
    await asyncio.sleep(0.5)
    print(frozen > 0, held > before, threads() == before, heap.sweeps)

asyncio.run(main())
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_a_closed_sessions_cycle_and_its_ffmpeg_threads_are_freed_by_one_sweep() -> None:
    assert child(HEAP) == "True True True 1"


OURS = """
import gc, io, os, wave
import numpy as np
from voice_agent.speech_in.audio import decode_audio, resample_int16

def threads():
    return len(os.listdir("/proc/self/task"))

gc.disable()  # a resampler's filter graph would otherwise only wait for the next collection
before = threads()
pcm = (np.sin(np.arange(22050) / 7) * 8000).astype(np.int16)
out = resample_int16(pcm, 22050, 48000)
buf = io.BytesIO()
with wave.open(buf, "wb") as w:
    w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050), w.writeframes(pcm.tobytes())
heard = decode_audio(buf.getvalue(), max_seconds=60)
print(len(out), len(heard.samples), threads() - before)
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_our_resamplers_start_no_threads() -> None:
    assert child(OURS) == "48000 16000 0"
